// `--uninstall`: undoes what install.log lists, newest first: the sshd change,
// the files, then the directories the installer created. Running sessions
// are left alone (their socket root is kept) unless --kill-sessions, which
// signals only the process the kernel shows listening on each socket, never
// a PID a session claims (docs/security.md); then install.log is kept,
// listing what is left, so a later run can finish. bin/rezumable becomes a
// stub that runs its command: a user's .profile that execs it still logs in.
import { renameSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { collectSessions, type ListedSession } from '../src/list/list-sessions.js';
import { terminalSafe } from '../src/list/terminal-safe.js';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { exists, installText } from './files.js';
import { processAlive } from '../src/processes.js';
import { OLD_INSTALLED_SOCKET_ROOT } from '../src/session/socket-dir.js';
import { LOG_NAME, SOCKET_ROOT_NAME } from './install.js';
import { InstallLog, type LogEntry, readInstallLog } from './install-log.js';
import type { InstallLock } from './install-lock.js';
import { removeTree } from './remove-tree.js';
import { DEFAULT_PREFIX, type InstallerOptions, prefixProblem } from './options.js';
import type { Prompter } from './prompter.js';
import { runPlan } from './run-plan.js';
import { quoted } from './sshd-accept-env.js';
import { revertSshdChange, settingsOf } from './sshd-config-change.js';
import { distinctReloads, reloadChange, reloadsFor, reloadsForDropIn, reloadText, type SshdReload } from './sshd-service.js';

const KILL_WAIT_MS = 10_000;

function removeDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') process.stdout.write(`  kept ${dir}: it holds files the installer did not put there\n`);
    else if (code !== 'ENOENT') throw err;
  }
}


const sessionText = (s: ListedSession): string => terminalSafe(`${s.name} (${s.pid === null ? 'no listening process found' : `pid ${s.pid}`}, ${s.owner})`);

/**
 * The PID the kernel shows listening on each session's socket now, by a new
 * listing (a PID seen before the confirmation may be reused since, and the
 * session may have ended).
 */
async function listenersNow(runRoot: string, sessions: ListedSession[]): Promise<(number | undefined)[]> {
  const { sessions: now } = await collectSessions([{ kind: 'shared', root: runRoot }]);
  return sessions.map((s) => now.find((n) => n.socket === s.socket && n.uid === s.uid)?.pid ?? undefined);
}

function waitUntilGone(pids: number[]): void {
  const deadline = Date.now() + KILL_WAIT_MS;
  while (pids.some(processAlive) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
}

/** Socket roots with a session --kill-sessions could not end: kept, and the install log with them. */
type NotEndedRoots = Set<string>;

function killSessions(runRoot: string, sessions: ListedSession[], notEndedRoots: NotEndedRoots): Change {
  return {
    summary: `end ${sessions.length} running session(s), each by the process listening on its socket: ${sessions.map(sessionText).join(', ')}`,
    async apply(log) {
      const ended: number[] = [];
      const notEnded = (s: ListedSession, why: string): void => {
        notEndedRoots.add(runRoot);
        process.stdout.write(`  not ended: ${terminalSafe(`${s.name} (${s.owner}): ${why}`)}\n`);
      };
      (await listenersNow(runRoot, sessions)).forEach((pid, i) => {
        const s = sessions[i]!;
        if (pid === undefined) return notEnded(s, `no process of ${s.owner} certainly listens on its socket`);
        // One process may listen on several sockets: it is signalled once, and may be gone by its next socket.
        if (!ended.includes(pid)) {
          try {
            process.kill(pid, 'SIGTERM'); // the host hangs its command up, as a line drop would
          } catch (err) {
            return notEnded(s, `pid ${pid}: ${(err as NodeJS.ErrnoException).code}`);
          }
          ended.push(pid);
        }
        process.stdout.write(`  ended ${terminalSafe(`${s.name} (pid ${pid}, ${s.owner})`)}\n`);
      });
      waitUntilGone(ended);
      if (ended.length > 0) log.add('ran', `kill -TERM ${ended.join(' ')}`);
    },
  };
}

/** A login never breaks because atsr was removed: users' .profile files may still exec rezumable. */
function leaveRezumableStub(path: string, prefix: string): Change {
  const stub =
    '#!/bin/sh\n' +
    `# rezumable, left by the atsr uninstaller: atsr is gone from ${prefix}, and this\n` +
    '# runs the command directly, so a .profile that still execs it keeps working.\n' +
    '# Remove it once no .profile uses it.\n' +
    'exec "$@"\n';
  return {
    summary: `replace ${path} with a stub that runs its command directly`,
    apply: () => installText(stub, path, 0o755, new InstallLog(undefined)),
  };
}

/** Whether the directory `dir` is one of `paths` or holds one. */
const holds = (dir: string, paths: Iterable<string>): boolean => [...paths].some((k) => k === dir || k.startsWith(`${dir}/`));

/** The directories the log says the installer created that hold any of `paths`: what a kept log still lists. */
const createdDirsHolding = (entries: LogEntry[], paths: Iterable<string>): LogEntry[] =>
  entries.filter((e) => e.kind === 'created-dir' && holds(e.path, paths));

/** The install log, rewritten to list only what is left, so that a later --uninstall can finish. */
function keepLogFor(logFile: string, left: LogEntry[]): Change {
  return {
    summary: `rewrite ${logFile} to list only what is left`,
    apply() {
      // Written beside it and renamed over: a run killed here still leaves a log.
      const temp = `${logFile}.atsr-new`;
      rmSync(temp, { force: true });
      const log = new InstallLog(temp);
      for (const e of [...left].reverse()) log.add(e.kind, e.path, e.details);
      log.flush();
      renameSync(temp, logFile);
    },
  };
}

/**
 * The install log removed, or, when --kill-sessions left a session running
 * (its socket root is kept), rewritten to list what is left, as keepLogFor.
 */
function removeLog(logFile: string, entries: LogEntry[], kept: string[], notEndedRoots: NotEndedRoots): Change {
  return {
    summary: `remove ${logFile}`,
    apply(log) {
      if (notEndedRoots.size === 0) return void rmSync(logFile, { force: true });
      keepLogFor(logFile, createdDirsHolding(entries, [...kept, ...notEndedRoots])).apply(log);
      process.stdout.write(`  kept ${logFile}, listing what is left: run --uninstall --kill-sessions again to finish\n`);
    },
  };
}

function removeSocketRoot(runRoot: string, notEndedRoots: NotEndedRoots): Change {
  return {
    summary: `remove ${runRoot} (the socket root)`,
    apply() {
      if (notEndedRoots.has(runRoot)) {
        process.stdout.write(`  kept ${runRoot}: a session in it was not ended (see above)\n`);
        return;
      }
      const problem = removeTree(runRoot);
      if (problem) process.stdout.write(`  kept part of ${runRoot}: ${terminalSafe(problem)}\n`);
    },
  };
}

/** The sshd that read each logged sshd change, and the files no running sshd reads. */
function reloadsAfterUninstall(entries: LogEntry[]): { reloads: SshdReload[]; unread: string[] } {
  const reloads: SshdReload[] = [];
  const unread: string[] = [];
  for (const e of entries) {
    if (e.kind === 'sshd-config-edited') {
      const found = reloadsFor(e.path);
      if (found.length === 0) unread.push(e.path);
      reloads.push(...found);
    } else if (e.kind === 'sshd-dropin-written') {
      const found = reloadsForDropIn(e.path);
      if (found.length === 0) unread.push(e.path);
      reloads.push(...found);
    }
  }
  return { reloads: distinctReloads(reloads), unread };
}

export async function uninstall(opts: InstallerOptions, p: Prompter, lock: InstallLock): Promise<void> {
  const prefix =
    opts.prefix ??
    (p.interactive ? await p.input({ message: 'Uninstall from', flag: '--prefix', initial: DEFAULT_PREFIX }, prefixProblem) : DEFAULT_PREFIX);
  const logFile = join(prefix, LOG_NAME);
  if (!exists(logFile)) throw new InstallError(`no atsr install log at ${logFile}: nothing to uninstall there (see --prefix)`, InstallExit.failed);
  if (!opts.dryRun) lock.take(prefix);
  const entries = readInstallLog(logFile).reverse();
  if (!opts.dryRun) {
    for (const cfg of new Set(entries.filter((e) => e.kind === 'sshd-config-edited').map((e) => e.path))) lock.take(cfg);
  }

  // PREFIX/session, and PREFIX/run of an older install while its sessions run.
  const socketRoots = [SOCKET_ROOT_NAME, OLD_INSTALLED_SOCKET_ROOT].map((n) => join(prefix, n));
  const changes: Change[] = [];
  const notes: string[] = [];
  const keptRoots: string[] = [];
  const notEndedRoots: NotEndedRoots = new Set();
  for (const runRoot of socketRoots) {
    const { sessions, problems } = await collectSessions([{ kind: 'shared', root: runRoot }]);
    notes.push(...problems.map((p) => terminalSafe(p)));
    if (sessions.length === 0) continue;
    if (opts.killSessions) {
      changes.push(killSessions(runRoot, sessions, notEndedRoots));
      continue;
    }
    keptRoots.push(runRoot);
    notes.push(`${sessions.length} running session(s) are left alone, and ${runRoot} with them (--kill-sessions ends them)`);
  }
  const keepRunRoot = keptRoots.length > 0;

  const sshdChanged = entries.some((e) => e.kind === 'sshd-config-edited' || e.kind === 'sshd-dropin-written');
  for (const e of entries) {
    if (e.kind === 'sshd-config-edited' || e.kind === 'sshd-dropin-written') {
      changes.push({
        summary: e.kind === 'sshd-dropin-written' ? `remove ${e.path}` : `take ${quoted(settingsOf(e))} out of ${e.path} (restore its backup ${e.details.backup})`,
        apply: () => void process.stdout.write(`  ${revertSshdChange(e)}\n`),
      });
    }
  }
  const rezumable = join(prefix, 'bin/rezumable');
  // Newest first: a file an upgrade removed (removed-file) is gone unless a later run wrote it again.
  const present = new Map<string, boolean>();
  for (const e of entries) {
    if (present.has(e.path)) continue;
    if (e.kind === 'wrote-file' || e.kind === 'replaced-file' || e.kind === 'linked') present.set(e.path, true);
    else if (e.kind === 'removed-file') present.set(e.path, false);
  }
  const files = [...present].filter(([, here]) => here).map(([path]) => path);
  for (const f of files) changes.push(f === rezumable ? leaveRezumableStub(rezumable, prefix) : { summary: `remove ${f}`, apply: () => rmSync(f, { force: true }) });
  // What stays: a live session's socket root, and the login wrapper users' .profile files may exec.
  const kept = [...keptRoots, ...(files.includes(rezumable) ? [rezumable] : [])];
  changes.push(keepRunRoot ? keepLogFor(logFile, createdDirsHolding(entries, kept)) : removeLog(logFile, entries, kept, notEndedRoots));
  for (const e of entries) {
    if (e.kind !== 'created-dir' || holds(e.path, kept)) continue;
    changes.push(
      socketRoots.includes(e.path)
        ? removeSocketRoot(e.path, notEndedRoots)
        : { summary: `remove the directory ${e.path} (if empty)`, apply: () => (holds(e.path, notEndedRoots) ? undefined : removeDirIfEmpty(e.path)) },
    );
  }
  if (files.includes(rezumable)) {
    notes.push(
      `${rezumable} stays, as a stub that runs its command directly: a .profile that still execs it keeps working. ` +
        `Once no .profile uses it (grep -l rezumable /home/*/.profile), remove it: rm ${rezumable}; rmdir ${join(prefix, 'bin')} ${prefix}`,
    );
  }
  if (keepRunRoot) notes.push(`${logFile} is kept, listing what is left: run --uninstall --kill-sessions later to finish`);

  if (sshdChanged) {
    const { reloads, unread } = reloadsAfterUninstall(entries);
    if (unread.length > 0) notes.push(`no running sshd reads ${unread.join(', ')}, so none is reloaded for it`);
    let restart = opts.restartSshd;
    const commands = reloads.map(reloadText).join(' and ');
    if (reloads.length > 0 && restart === undefined && p.interactive) {
      restart = await p.confirm({ message: `Reload sshd afterwards (runs: ${commands})?`, flag: '--restart-sshd', initial: true });
    }
    if (reloads.length > 0 && restart === true) changes.push(...reloads.map(reloadChange));
    else if (reloads.length > 0) notes.push(`sshd is not reloaded: it still accepts ATSR_ID until ${commands}`);
  }
  await runPlan({ title: `Uninstall atsr from ${prefix}:`, changes, notes }, new InstallLog(undefined), p, opts);
}
