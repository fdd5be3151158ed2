// An install or upgrade: the wizard's questions (or their flags), then the
// plan. The files under the prefix are replaced atomically, so sessions
// running from an older install keep running and stay attachable.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { directoryBlocked, exists, installFile, installSymlink, installText, makeDirs, readIfExists } from './files.js';
import { hostFindings } from './host-checks.js';
import { InstallLog, readInstallLog } from './install-log.js';
import type { InstallLock } from './install-lock.js';
import { MAX_ORPHAN_MINUTES } from '../src/cli/options.js';
import { DEFAULT_PREFIX, type InstallerOptions, parseMinutes, prefixProblem } from './options.js';
import type { Prompter } from './prompter.js';
import { oldSocketRootPlan } from './old-socket-root.js';
import { DEFAULT_ORPHAN_MINUTES, carriedTunables, defaultTunables, orphanMinutesOf, renderRezumable, type TunableValues } from './rezumable.js';
import { runPlan } from './run-plan.js';
import { chooseSshdChanges } from './sshd-choices.js';
import { INSTALLED_SOCKET_ROOT } from '../src/session/socket-dir.js';
import { VERSION } from '../src/version.js';

export const LOG_NAME = 'install.log';
export const SOCKET_ROOT_NAME = INSTALLED_SOCKET_ROOT;

const say = (s: string): void => void process.stdout.write(s);

export async function install(opts: InstallerOptions, p: Prompter, payload: string, lock: InstallLock): Promise<void> {
  say(`atsr ${VERSION} installer\n`);
  if (!opts.acceptLicense) {
    if (p.interactive) say(`\n${readFileSync(join(payload, 'LICENSE'), 'utf8')}\n`);
    const accepted = await p.confirm({ message: 'Do you accept the license?', flag: '--accept-license', initial: false });
    if (!accepted) throw new InstallError('the license was not accepted; nothing was changed', InstallExit.licenseDeclined);
  }

  const prefix =
    opts.prefix ??
    (p.interactive ? await p.input({ message: 'Install directory', flag: '--prefix', initial: DEFAULT_PREFIX }, prefixProblem) : DEFAULT_PREFIX);
  // Before any change (the sshd edit comes first): a prefix that cannot be made fails here.
  const blocked = [prefix, join(prefix, 'bin')].map(directoryBlocked).find((d) => d !== undefined);
  if (blocked !== undefined) {
    throw new InstallError(
      `cannot install into ${prefix}: ${blocked}. Run the installer as root, or pass --prefix with a directory you own; nothing was changed`,
      InstallExit.failed,
    );
  }
  if (!opts.dryRun) {
    // Before anything is read for the plan: a second installer would plan from what the first is changing.
    lock.take(prefix);
    if (process.getuid?.() === 0) lock.take(opts.sshdConfig);
  }
  const oldRezumable = readIfExists(join(prefix, 'bin/rezumable'));
  const kept = carriedTunables(oldRezumable ?? '', prefix);

  const logFile = join(prefix, LOG_NAME);
  const logged = exists(logFile) ? readInstallLog(logFile) : [];
  // A first install into a directory that holds another program's files would replace them, and its uninstall delete them.
  const foreign = oldRezumable === undefined && !exists(logFile) ? installedPaths(prefix, payload).filter(exists) : [];
  if (foreign.length > 0) {
    throw new InstallError(
      `${prefix} holds files atsr did not put there (${foreign.join(', ')}): pass another --prefix, or move them away; nothing was changed`,
      InstallExit.failed,
    );
  }
  const sshd = await chooseSshdChanges(opts, p, say, logged);

  let orphanMinutes = opts.orphanTimeout;
  if (orphanMinutes === undefined && p.interactive) {
    say(
      '\nA session whose client is gone keeps its command running, with the record locks and licence seat it holds, until\n' +
        'this timeout hangs it up as a line drop would: shorter frees them sooner, longer gives users more time to reconnect.\n',
    );
    const initial = String(orphanMinutesOf(kept) ?? DEFAULT_ORPHAN_MINUTES);
    const answer = await p.input(
      { message: 'Minutes a session may stay with no client before its command is hung up (0 = never)', flag: '--orphan-timeout', initial },
      (v) => (parseMinutes(v) === undefined ? `whole minutes, 0 to ${MAX_ORPHAN_MINUTES}` : undefined),
    );
    orphanMinutes = parseMinutes(answer);
  }
  const tunables: TunableValues = {
    ...defaultTunables(prefix, DEFAULT_ORPHAN_MINUTES),
    ...kept,
    ...(orphanMinutes === undefined ? {} : { ORPHAN_TIMEOUT: String(orphanMinutes) }),
  };

  const upgrade = oldRezumable !== undefined || exists(logFile);
  const findings = hostFindings(opts.sshdConfig, sshd.edit !== undefined);
  const todo = [...sshd.todo, ...findings.map((f) => `${f.problem}. Fix: ${f.fix}.`)];
  const template = readFileSync(join(payload, 'rezumable.sh'), 'utf8');
  const oldRoot = await oldSocketRootPlan(prefix, logged);
  const changes = [
    ...(sshd.edit ? [sshd.edit] : []),
    ...prefixChanges(prefix, payload, renderRezumable(template, prefix, VERSION, tunables), tunables),
    ...oldRoot.changes, // after rezumable: no new session goes there from then on
    ...(sshd.reload ?? []),
  ];
  const log = new InstallLog(logFile);
  log.add('install', prefix, { version: VERSION, mode: upgrade ? 'upgrade' : 'install' });
  if (sshd.createdPrivsepDir !== undefined) log.add('sshd-privsep-dir-created', sshd.createdPrivsepDir, { mode: '755' });

  await runPlan(
    {
      title: `${upgrade ? 'Upgrade' : 'Install'} atsr ${VERSION} in ${prefix}:`,
      changes,
      notes: [...sshd.notes, ...oldRoot.notes, ...todo],
    },
    log,
    p,
    opts,
  );
  if (!opts.dryRun) {
    say(`\natsr ${VERSION} is installed in ${prefix}; every change is listed in ${logFile}.\n`);
    say(`To make a login resumable, put the command behind rezumable in the user's .profile, e.g.\n    exec ${prefix}/bin/rezumable d3\n`);
    if (todo.length > 0) say(`\nStill to do:\n${todo.map((t) => `  - ${t}\n`).join('')}`);
  }
}

/** The executables copied into PREFIX/bin, in the order they are installed: the Node executable before the entry that runs it, so that a new entry never finds it missing. */
const PROGRAMS = ['atsr-node', 'atsr', 'pty.node', 'rezume-connect', 'atsr-relay', 'host-native.node'];

/** Every file an install writes into `prefix`. */
function installedPaths(prefix: string, payload: string): string[] {
  const bin = join(prefix, 'bin');
  return [
    ...[...PROGRAMS, 'rezume', 'rezumable'].map((n) => join(bin, n)),
    join(prefix, 'LICENSE'),
    ...readdirSync(join(payload, 'docs')).map((d) => join(prefix, 'docs', d)),
  ];
}

/** The directories and files under the prefix, in the order they are made. */
function prefixChanges(prefix: string, payload: string, rezumable: string, tunables: TunableValues): Change[] {
  const dir = (path: string, mode: number, what: string): Change[] =>
    exists(path) ? [] : [{ summary: `create ${path} (${what}, mode ${mode.toString(8)})`, apply: (log) => makeDirs(path, mode, log) }];
  const file = (name: string, target: string, mode: number, why = ''): Change => ({
    summary: `${exists(target) ? 'replace' : 'install'} ${target}${why}`,
    apply: (log) => installFile(join(payload, name), target, mode, log),
  });
  const bin = join(prefix, 'bin');
  const docs = join(prefix, 'docs');
  const program = (name: string): Change =>
    file(name, join(bin, name), 0o755, exists(join(bin, name)) ? ' (atomically: running sessions keep the old copy)' : '');
  // A running host loaded its copy when it started; nothing opens the file again.
  const retired = (path: string, by: string): Change[] =>
    exists(path)
      ? [{ summary: `remove ${path} (an older version's; ${by} replaces it)`, apply: (log) => (rmSync(path, { force: true }), log.add('removed-file', path)) }]
      : [];
  const settings = Object.entries(tunables).map(([k, v]) => `${k}=${v}`).join(' ');
  return [
    ...dir(prefix, 0o755, 'the install directory'),
    ...dir(bin, 0o755, 'programs'),
    ...dir(docs, 0o755, 'documentation'),
    ...dir(join(prefix, SOCKET_ROOT_NAME), 0o1777, 'the shared socket root for -g: sticky, a private directory per user'),
    ...PROGRAMS.map(program),
    ...retired(join(bin, 'malloc-trim.node'), 'host-native.node'),
    ...(exists(join(bin, 'rezume'))
      ? []
      : [{ summary: `link ${join(bin, 'rezume')} -> atsr (the client)`, apply: (log: InstallLog) => installSymlink('atsr', join(bin, 'rezume'), log) }]),
    {
      summary: `write ${join(bin, 'rezumable')} (${settings})`,
      apply: (log) => installText(rezumable, join(bin, 'rezumable'), 0o755, log),
    },
    file('LICENSE', join(prefix, 'LICENSE'), 0o644),
    ...readdirSync(join(payload, 'docs')).map((d) => file(join('docs', d), join(docs, d), 0o644)),
  ];
}
