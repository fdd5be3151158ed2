// The installer's flags (after makeself's `--`). Each wizard question has a
// flag; a flag given answers its question, so the wizard asks only the rest.
import { Command, CommanderError, Option } from 'commander';
import { InstallError, InstallExit } from './errors.js';
import { MAX_ORPHAN_MINUTES } from '../src/cli/options.js';

export const DEFAULT_PREFIX = '/usr/local/atsr';
export const DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config';

export interface InstallerOptions {
  acceptLicense: boolean;
  prefix: string | undefined;
  /** undefined: not given (ask, or leave sshd_config alone when unattended). */
  acceptEnv: boolean | undefined;
  /** undefined: not given (ask, or add no keepalives when unattended). */
  keepalive: boolean | undefined;
  restartSshd: boolean | undefined;
  orphanTimeout: number | undefined;
  yes: boolean;
  dryRun: boolean;
  sshdConfig: string;
  uninstall: boolean;
  killSessions: boolean;
}

export type ParsedArgs = { kind: 'run'; options: InstallerOptions } | { kind: 'help'; text: string };

/** Paths go into sh scripts and sshd's view: keep them to a plain charset. */
export function prefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return `the install directory must be an absolute path, not '${prefix}'`;
  if (!/^[A-Za-z0-9_.+\/-]+$/.test(prefix)) return `the install directory may hold only letters, digits and _ . + - /, not '${prefix}'`;
  if (prefix.split('/').includes('..')) return `the install directory may not contain '..'`;
  if (prefix.replace(/\/+$/, '') === '') return 'the install directory cannot be /';
  return undefined;
}

/** Whole minutes, 0 to atsr's -x bound (a year), or undefined. */
export function parseMinutes(value: string): number | undefined {
  const v = value.trim();
  return /^\d+$/.test(v) && Number(v) <= MAX_ORPHAN_MINUTES ? Number(v) : undefined;
}

function program(): Command {
  return new Command('install-atsr')
    .usage('[--] [options]    (run as ./install-atsr-X.Y.Z.bin -- [options]; --help, --version and --makeself-help need no --)')
    .description('Installs atsr. Asks on a terminal; without one, every answer comes from these flags.')
    .option('--accept-license', 'accept the MIT license (required when unattended)')
    .option('--prefix <DIR>', `install directory (default ${DEFAULT_PREFIX})`)
    .option('--accept-env', "add 'AcceptEnv ATSR_ID' to sshd_config")
    .option('--no-accept-env', "do not add 'AcceptEnv ATSR_ID' (with --no-keepalive too, sshd_config is left alone)")
    .option('--keepalive', "add 'ClientAliveInterval 30' and 'ClientAliveCountMax 2' to sshd_config, unless it sets them already")
    .option('--no-keepalive', 'add no keepalive lines (the unattended default)')
    .option('--restart-sshd', 'reload sshd after changing its config')
    .option('--no-restart-sshd', 'do not reload sshd')
    .option('--orphan-timeout <MIN>', 'minutes a session may stay without a client before its command is hung up (default 60; an upgrade keeps the current value)')
    .option('--yes', 'proceed without asking (required when unattended)')
    .option('--dry-run', 'print every change, make none')
    .option('--sshd-config <PATH>', 'the sshd_config to edit', DEFAULT_SSHD_CONFIG)
    .option('--uninstall', 'remove what the installer added (per PREFIX/install.log)')
    .option('--kill-sessions', 'with --uninstall: also end running sessions')
    .addOption(new Option('-h, --help', 'show this help'))
    .helpOption(false)
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
}

export function parseInstallerArgs(args: string[]): ParsedArgs {
  const cmd = program();
  try {
    cmd.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new InstallError(`${err.message.replace(/^error: /, '')} (see --help)`, InstallExit.usage);
    throw err;
  }
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  if (o.help) return { kind: 'help', text: cmd.helpInformation() };

  const prefix = typeof o.prefix === 'string' ? o.prefix.replace(/(.)\/+$/, '$1') : undefined;
  const problem = prefix === undefined ? undefined : prefixProblem(prefix);
  if (problem) throw new InstallError(problem, InstallExit.usage);
  // The installer runs in makeself's temporary directory: a relative path would name a file there.
  const sshdConfig = String(o.sshdConfig);
  if (!sshdConfig.startsWith('/')) throw new InstallError(`--sshd-config takes an absolute path, not '${sshdConfig}'`, InstallExit.usage);
  let orphanTimeout: number | undefined;
  if (typeof o.orphanTimeout === 'string') {
    orphanTimeout = parseMinutes(o.orphanTimeout);
    if (orphanTimeout === undefined) {
      throw new InstallError(`--orphan-timeout takes whole minutes, 0 (never) to ${MAX_ORPHAN_MINUTES} (a year), not '${o.orphanTimeout}'`, InstallExit.usage);
    }
  }
  if (o.killSessions === true && o.uninstall !== true) throw new InstallError('--kill-sessions goes with --uninstall', InstallExit.usage);
  return {
    kind: 'run',
    options: {
      acceptLicense: o.acceptLicense === true,
      prefix,
      // Commander sets negatable flags to true by default: look at the source.
      acceptEnv: cmd.getOptionValueSource('acceptEnv') === 'cli' ? o.acceptEnv === true : undefined,
      keepalive: cmd.getOptionValueSource('keepalive') === 'cli' ? o.keepalive === true : undefined,
      restartSshd: cmd.getOptionValueSource('restartSshd') === 'cli' ? o.restartSshd === true : undefined,
      orphanTimeout,
      yes: o.yes === true,
      dryRun: o.dryRun === true,
      sshdConfig,
      uninstall: o.uninstall === true,
      killSessions: o.killSessions === true,
    },
  };
}
