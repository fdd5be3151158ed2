// The sshd part of an install: whether to add `AcceptEnv ATSR_ID` (the wizard
// shows the file and where the line goes, and why it is safe), and whether
// to reload sshd afterwards.
import { existsSync, readFileSync } from 'node:fs';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import type { InstallerOptions } from './options.js';
import type { Prompter } from './prompter.js';
import { findExecutable, runCommand } from './run-command.js';
import { ACCEPT_ENV_LINE, acceptEnvCoverage, dropInFor, effectiveAcceptEnv, placeAcceptEnv } from './sshd-accept-env.js';
import type { LogEntry } from './install-log.js';
import { adoptUnrecordedEdit } from './sshd-adopt.js';
import { checkBeforeEdit } from './sshd-check.js';
import { acceptEnvChange } from './sshd-config-change.js';
import { reloadChange, reloadsFor, reloadText } from './sshd-service.js';

export const WHY_SAFE =
  'Why this is safe: it lets exactly one variable through from the client, ATSR_ID, the session name the\n' +
  "resume client sends; atsr refuses any value that is not a short plain name (no '/', no '..', no control\n" +
  'bytes). It is never a wildcard: a pattern such as * would let clients set variables that change what\n' +
  'the login runs (CVE-2014-2532).\n';

export interface SshdChoices {
  /** Adds the line: the first change of an install (if sshd rejects it, nothing else happens). */
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
  if (!existsSync(cfg)) return none(`${cfg} does not exist: sshd_config is left alone (see --sshd-config)`);
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
  const accepted = effectiveAcceptEnv(runCommand([sshd, '-T', '-f', cfg]).stdout);
  const covered = acceptEnvCoverage(cfg, accepted);
  const text = readFileSync(cfg, 'utf8');
  if (covered !== undefined) {
    const adopt = adoptUnrecordedEdit(cfg, text, recorded);
    return { ...(adopt && { edit: adopt }), notes: [`${covered.why}: no change needed`], todo: covered.wildcard === undefined ? [] : [covered.wildcard] };
  }

  const reloads = reloadsFor(cfg);
  const live = reloads.length > 0;
  const plan = placeAcceptEnv(cfg, text, live);
  const notes = live ? [] : notReadNotes(cfg, text);

  let add = opts.acceptEnv;
  if (add === undefined) {
    // Unattended, this is an error naming both flags: an install that exits 0 must not quietly leave sessions unable to resume.
    if (p.interactive) say(`\nTo let the resume client name its session, sshd must accept one variable:\n\n${plan.preview}\n${WHY_SAFE}\n`);
    add = await p.confirm({ message: `Add '${ACCEPT_ENV_LINE}' to the sshd configuration?`, flag: '--accept-env or --no-accept-env', initial: true });
  }
  if (add !== true) return none(`'${ACCEPT_ENV_LINE}' is absent from ${cfg}, so sessions will not resume until it is added (run the installer again with --accept-env)`);

  const edit = acceptEnvChange(plan, cfg, sshd);
  if (!live) return { edit, notes, todo: [] };
  const commands = reloads.map(reloadText).join(' and ');
  let restart = opts.restartSshd;
  if (restart === undefined && p.interactive) {
    restart = await p.confirm({ message: `Reload sshd now (runs: ${commands}; open connections stay)?`, flag: '--restart-sshd', initial: true });
  }
  if (restart !== true) return { edit, notes, todo: [`sshd has not been reloaded: the line takes effect after ${commands}`] };
  return { edit, reload: reloads.map(reloadChange), notes, todo: [] };
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
