// The sshd part of an install: whether to add `AcceptEnv ATSR_ID` (the wizard
// shows the file and where the line goes, and why it is safe), whether to add
// server-to-client keepalives where the admin set none, and whether to reload
// sshd afterwards. Both go into one atsr block, changed as one unit.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { readIfExists } from './files.js';
import type { InstallerOptions } from './options.js';
import type { Prompter } from './prompter.js';
import { findExecutable, runCommand } from './run-command.js';
import { ACCEPT_ENV_LINE, acceptEnvCoverage, atsrSettingsIn, dropInFor, effectiveAcceptEnv, globalKeywords, KEEPALIVE_INTERVAL_LINE, keepaliveFor, placeBlock, quoted } from './sshd-accept-env.js';
import type { LogEntry } from './install-log.js';
import { adoptUnrecordedEdit } from './sshd-adopt.js';
import { checkBeforeEdit } from './sshd-check.js';
import { includedTexts } from './sshd-includes.js';
import { blockChange } from './sshd-config-change.js';
import { reloadChange, reloadsFor, reloadText, type SshdReload } from './sshd-service.js';

export const WHY_SAFE =
  'Why this is safe: it lets exactly one variable through from the client, ATSR_ID, the session name the\n' +
  "resume client sends; atsr refuses any value that is not a short plain name (no '/', no '..', no control\n" +
  'bytes). It is never a wildcard: a pattern such as * would let clients set variables that change what\n' +
  'the login runs (CVE-2014-2532).\n';

export const KEEPALIVE_WHY = 'Keepalives: sshd ends a connection that broke without a word in about a minute (30 s x 2), not hours later.';

export interface SshdChoices {
  /** Adds atsr's block: the first change of an install (if sshd rejects it, nothing else happens). */
  edit?: Change;
  /** Reloads each sshd that reads the edited file: the last changes. */
  reload?: Change[];
  /** What the admin should know (shown in the plan). */
  notes: string[];
  /** Things left undone, each with what to do instead: shown in the plan and again at the end. */
  todo: string[];
  /** sshd's privilege separation directory, created before asking sshd (for the install log). */
  createdPrivsepDir?: string;
}

/** @param recorded what the prefix's install.log already lists (an interrupted run may have left unrecorded lines) */
export async function chooseSshdChanges(
  opts: InstallerOptions,
  p: Prompter,
  say: (s: string) => void,
  recorded: readonly LogEntry[],
): Promise<SshdChoices> {
  const cfg = opts.sshdConfig;
  if (process.getuid?.() !== 0) return none(`not root: ${cfg} is left alone (as root, add '${ACCEPT_ENV_LINE}' to it)`);
  if (!existsSync(cfg)) {
    const asked = [opts.acceptEnv === true ? '--accept-env' : '', opts.keepalive === true ? '--keepalive' : ''].filter((f) => f !== '');
    if (asked.length > 0) throw new InstallError(`${cfg} does not exist, so ${asked.join(' and ')} cannot change it: name sshd's config with --sshd-config PATH`, InstallExit.usage);
    return none(`${cfg} does not exist: sshd_config is left alone (see --sshd-config)`);
  }
  // Edited by writing a new file and renaming it over: a device (--sshd-config /dev/null) or a FIFO would be replaced.
  if (!statSync(cfg).isFile()) throw new InstallError(`${cfg} is not a regular file: name sshd's config with --sshd-config PATH`, InstallExit.usage);
  const sshd = findExecutable('sshd');
  if (!sshd) return none(`sshd was not found: ${cfg} is left alone`);

  const { rejected, createdPrivsepDir } = checkBeforeEdit(sshd, cfg);
  if (createdPrivsepDir !== undefined) {
    say(
      `Created ${createdPrivsepDir} (root, mode 755), sshd's privilege separation directory: sshd -t cannot check a config without it.\n` +
        "sshd's service unit creates it at every start; it is sshd's, and --uninstall leaves it.\n",
    );
  }
  const choices = await chooseForConfig(rejected, sshd, opts, p, say, recorded);
  return createdPrivsepDir === undefined ? choices : { ...choices, createdPrivsepDir };
}

const none = (todo: string): SshdChoices => ({ notes: [], todo: [todo] });

/** @param rejected what sshd -t says of the config before any change, if it rejects it */
async function chooseForConfig(
  rejected: string | undefined,
  sshd: string,
  opts: InstallerOptions,
  p: Prompter,
  say: (s: string) => void,
  recorded: readonly LogEntry[],
): Promise<SshdChoices> {
  const cfg = opts.sshdConfig;
  if (rejected !== undefined) {
    // Never blamed on the AcceptEnv line: sshd refused the config before atsr touched it.
    const said = `sshd -t rejects ${cfg} as it is, before any change by atsr:\n  ${rejected.split('\n').join('\n  ')}\n`;
    if (opts.acceptEnv === false) return none(`${said}${cfg} is left alone (--no-accept-env)`);
    throw new InstallError(
      `${said}Nothing was changed. Fix the config first ('sshd -t -f ${cfg}' shows what sshd says), then run the installer again; or pass --no-accept-env to install without touching it.`,
      InstallExit.sshdConfigRejected,
    );
  }
  const effective = runCommand([sshd, '-T', '-f', cfg]).stdout;
  const covered = acceptEnvCoverage(cfg, effectiveAcceptEnv(effective));
  const text = readFileSync(cfg, 'utf8');
  const notes = covered === undefined ? [] : [`${covered.why}: no change needed`];
  const todo = covered?.wildcard === undefined ? [] : [covered.wildcard];
  // Lines left by an interrupted run are recorded first; that run's values are atsr's, not the admin's.
  const adopt = adoptUnrecordedEdit(cfg, text, recorded);
  if (adopt) return { edit: adopt, notes, todo };

  // Which sshd reads the file is looked up only when something is placed: it asks systemctl, and a run that adds nothing asks nothing.
  let found: SshdReload[] | undefined;
  const reloads = (): SshdReload[] => (found ??= reloadsFor(cfg));
  const live = (): boolean => reloads().length > 0;
  const acceptEnv = covered === undefined && (await chooseAcceptEnv(opts, p, say, () => placeBlock(cfg, text, live(), [ACCEPT_ENV_LINE]).preview));
  if (covered === undefined && !acceptEnv) todo.push(`'${ACCEPT_ENV_LINE}' is absent from ${cfg}, so sessions will not resume until it is added (run the installer again with --accept-env)`);
  const keepalive = hasAtsrKeepalive(text)
    ? { lines: [], kept: `atsr's keepalive lines are in place for ${cfg} already: no change needed` }
    : keepaliveFor(cfg, effective, globalKeywords([text, ...includedTexts(text)]));
  if (keepalive.kept !== undefined) notes.push(keepalive.kept);
  const keepaliveLines = keepalive.lines.length > 0 && (await chooseKeepalive(opts, p, say, keepalive.lines, notes)) ? keepalive.lines : [];
  const settings = [...(acceptEnv ? [ACCEPT_ENV_LINE] : []), ...keepaliveLines];
  if (settings.length === 0) return { notes, todo };

  const edit = blockChange(placeBlock(cfg, text, live(), settings), cfg, sshd);
  if (!live()) return { edit, notes: [...notes, ...notReadNotes(cfg, text)], todo };
  const commands = reloads().map(reloadText).join(' and ');
  let restart = opts.restartSshd;
  if (restart === undefined && p.interactive) {
    restart = await p.confirm({ message: `Reload sshd now (runs: ${commands}; open connections stay)?`, flag: '--restart-sshd', initial: true });
  }
  if (restart !== true) return { edit, notes, todo: [...todo, `sshd has not been reloaded: the line takes effect after ${commands}`] };
  return { edit, reload: reloads().map(reloadChange), notes, todo };
}

/** Whether to add the AcceptEnv line: the flag, else the wizard's question after showing where it goes and why it is safe. */
async function chooseAcceptEnv(opts: InstallerOptions, p: Prompter, say: (s: string) => void, preview: () => string): Promise<boolean> {
  if (opts.acceptEnv !== undefined) return opts.acceptEnv;
  // Unattended, this is an error naming both flags: an install that exits 0 must not quietly leave sessions unable to resume.
  if (p.interactive) say(`\nTo let the resume client name its session, sshd must accept one variable:\n\n${preview()}\n${WHY_SAFE}\n`);
  return p.confirm({ message: `Add '${ACCEPT_ENV_LINE}' to the sshd configuration?`, flag: '--accept-env or --no-accept-env', initial: true });
}

/** Whether to add the keepalive lines: the flag, else the wizard's question; unattended without the flag, none (with a note). */
async function chooseKeepalive(opts: InstallerOptions, p: Prompter, say: (s: string) => void, lines: string[], notes: string[]): Promise<boolean> {
  if (opts.keepalive !== undefined) return opts.keepalive;
  if (!p.interactive) {
    notes.push(`no keepalive lines added (--keepalive adds ${quoted(lines)}, so that sshd ends broken connections sooner)`);
    return false;
  }
  say(`\n${KEEPALIVE_WHY}\n`);
  return p.confirm({ message: `Add ${quoted(lines)} to the sshd configuration?`, flag: '--keepalive or --no-keepalive', initial: true });
}

/** Whether an earlier install's block (in the file or its drop-in) holds keepalives: those values are atsr's, not the admin's. */
function hasAtsrKeepalive(text: string): boolean {
  const dropIn = dropInFor(text);
  return [text, dropIn === undefined ? '' : (readIfExists(dropIn.path) ?? '')].some((t) => atsrSettingsIn(t)?.includes(KEEPALIVE_INTERVAL_LINE) === true);
}

/** What the admin is told when no sshd reads the file: nothing else is written, nothing reloaded. */
function notReadNotes(cfg: string, text: string): string[] {
  const dropIn = dropInFor(text);
  return [
    ...(dropIn === undefined
      ? []
      : [`${cfg} includes '${dropIn.includedBy}', but no sshd reads ${cfg}: the line goes into ${cfg} itself, and nothing in that directory is written`]),
    `no running sshd reads ${cfg}, so none is reloaded (an sshd started with 'sshd -f ${cfg}' will accept ATSR_ID)`,
  ];
}
