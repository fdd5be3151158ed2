// `--uninstall`: undoes what install.log lists, newest first: the sshd change,
// the files, then the directories the installer created. Running sessions
// are left alone (their socket root is kept) unless --kill-sessions.
import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import shell from 'shelljs';
import { collectSessions, type ListedSession } from '../src/list/list-sessions.js';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { exists } from './files.js';
import { LOG_NAME, SOCKET_ROOT_NAME } from './install.js';
import { InstallLog, readInstallLog } from './install-log.js';
import type { InstallLock } from './install-lock.js';
import { DEFAULT_PREFIX, type InstallerOptions, prefixProblem } from './options.js';
import type { Prompter } from './prompter.js';
import { runPlan } from './run-plan.js';
import { revertSshdChange } from './sshd-config-change.js';
import { reloadChange } from './sshd-choices.js';
import { sshdReloadCommand } from './sshd-service.js';

const KILL_WAIT_MS = 10_000;

function subdirs(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(root, d.name));
  } catch {
    return [];
  }
}

function removeDirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') process.stdout.write(`  kept ${dir}: it holds files the installer did not put there\n`);
    else if (code !== 'ENOENT') throw err;
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function killSessions(sessions: ListedSession[]): Change {
  return {
    summary: `end ${sessions.length} running session(s): ${sessions.map((s) => `${s.name} (pid ${s.pid}, ${s.owner})`).join(', ')}`,
    apply(log) {
      for (const s of sessions) process.kill(s.pid, 'SIGTERM'); // the host hangs its command up, as a line drop would
      const deadline = Date.now() + KILL_WAIT_MS;
      while (sessions.some((s) => alive(s.pid)) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      log.add('ran', `kill -TERM ${sessions.map((s) => s.pid).join(' ')}`);
    },
  };
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

  const runRoot = join(prefix, SOCKET_ROOT_NAME);
  const { sessions } = await collectSessions(subdirs(runRoot));
  const keepRunRoot = sessions.length > 0 && !opts.killSessions;
  const changes: Change[] = [];
  const notes: string[] = [];
  if (sessions.length > 0) {
    if (opts.killSessions) changes.push(killSessions(sessions));
    else notes.push(`${sessions.length} running session(s) are left alone, and ${runRoot} with them (--kill-sessions ends them)`);
  }

  const sshdChanged = entries.some((e) => e.kind === 'sshd-config-edited' || e.kind === 'sshd-dropin-written');
  for (const e of entries) {
    if (e.kind === 'sshd-config-edited' || e.kind === 'sshd-dropin-written') {
      changes.push({
        summary: e.kind === 'sshd-dropin-written' ? `remove ${e.path}` : `take 'AcceptEnv ATSR_ID' out of ${e.path} (restore its backup ${e.details.backup})`,
        apply: () => void process.stdout.write(`  ${revertSshdChange(e)}\n`),
      });
    }
  }
  const files = [...new Set(entries.filter((e) => e.kind === 'wrote-file' || e.kind === 'replaced-file' || e.kind === 'linked').map((e) => e.path))];
  for (const f of [...files, logFile]) changes.push({ summary: `remove ${f}`, apply: () => rmSync(f, { force: true }) });
  for (const e of entries) {
    if (e.kind !== 'created-dir') continue;
    if (e.path === runRoot) {
      if (!keepRunRoot) changes.push({ summary: `remove ${runRoot} (the socket root)`, apply: () => void shell.rm('-rf', runRoot) });
    } else if (!(keepRunRoot && runRoot.startsWith(`${e.path}/`))) {
      changes.push({ summary: `remove the directory ${e.path} (if empty)`, apply: () => removeDirIfEmpty(e.path) });
    }
  }

  if (sshdChanged) {
    const reload = sshdReloadCommand();
    let restart = opts.restartSshd;
    if (reload && restart === undefined && p.interactive) {
      restart = await p.confirm({ message: `Reload sshd afterwards (runs: ${reload.join(' ')})?`, flag: '--restart-sshd', initial: true });
    }
    if (reload && restart === true) changes.push(reloadChange(reload));
    else notes.push('sshd is not reloaded: it still accepts ATSR_ID until it is');
  }
  await runPlan({ title: `Uninstall atsr from ${prefix}:`, changes, notes }, new InstallLog(undefined), p, opts);
}
