// Applying and undoing atsr's block (AcceptEnv, keepalives): back up, write,
// validate with `sshd -t -f`, and put the original back byte for byte if sshd
// rejects it. The log names the lines the block holds, so the uninstall takes
// out exactly those; a log from before keepalives names none: AcceptEnv alone.
import { chmodSync, chownSync, copyFileSync, mkdirSync, realpathSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { exists, readIfExists, sha256Of } from './files.js';
import type { InstallLog, LogEntry } from './install-log.js';
import { ACCEPT_ENV_LINE, type AcceptEnvPlan, atsrBlock, lineEndingOf, quoted } from './sshd-accept-env.js';
import { sshdRejects } from './sshd-check.js';

/** Replaces the file's contents atomically, keeping its mode, owner and group (and a symlink to it a symlink). */
function rewrite(path: string, text: string, undoing = false): void {
  const target = realpathSync(path);
  const temp = `${target}.atsr-new-${process.pid}`;
  try {
    writeFileSync(temp, text);
    const st = statSync(target);
    chownSync(temp, st.uid, st.gid);
    chmodSync(temp, st.mode & 0o7777);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new InstallError(
      `cannot write ${path}: ${(err as Error).message}. If it is immutable (lsattr ${path} shows 'i'), run 'chattr -i ${path}' first` +
        (undoing ? ' and run --uninstall again' : `, or add '${ACCEPT_ENV_LINE}' yourself and run the installer with --no-accept-env`),
      InstallExit.failed,
    );
  }
}

/** `PATH.before-atsr`, unless one is there already that is not a copy of the file as it is (a run killed before its edit leaves such a copy). */
function backupName(path: string): string {
  const plain = `${path}.before-atsr`;
  if (!exists(plain) || readIfExists(plain) === readIfExists(path)) return plain;
  return `${plain}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

/** The lines a logged sshd change added, as the log names them. */
export const settingsOf = (entry: LogEntry): string[] => entry.details.settings?.split(',') ?? [ACCEPT_ENV_LINE];

const logSettings = (settings: readonly string[]): Record<string, string> => ({ settings: settings.join(',') });

function rejected(configPath: string, settings: readonly string[], why: string, restored: string): InstallError {
  const added = settings.length === 1 && settings[0] === ACCEPT_ENV_LINE ? 'the AcceptEnv line' : `the lines ${quoted(settings)}`;
  return new InstallError(
    `sshd -t rejects ${configPath} with ${added} added:\n  ${why.split('\n').join('\n  ')}\n${restored}; nothing else was changed. Fix the config (sshd -t -f ${configPath}) and run the installer again.`,
    InstallExit.sshdConfigRejected,
  );
}

/** The file must be as the plan saw it: an edit made while the run waited for its confirmation would be lost. */
function unchangedSincePlan(path: string, planned: string | undefined): void {
  if (readIfExists(path) !== planned) {
    throw new InstallError(`${path} changed after the plan was made; nothing was written to it. Run the installer again`, InstallExit.failed);
  }
}

export function blockChange(plan: Exclude<AcceptEnvPlan, { kind: 'covered' }>, configPath: string, sshd: string): Change {
  if (plan.kind === 'edit-main') {
    return {
      summary: `add ${quoted(plan.settings)} to ${plan.path} (backup beside it, checked with sshd -t)`,
      apply(log: InstallLog): void {
        unchangedSincePlan(plan.path, plan.before);
        const backup = backupName(plan.path);
        copyFileSync(plan.path, backup);
        try {
          rewrite(plan.path, plan.after);
        } catch (err) {
          rmSync(backup);
          throw err;
        }
        const why = sshdRejects(sshd, configPath);
        if (why !== undefined) {
          rewrite(plan.path, plan.before);
          rmSync(backup);
          throw rejected(configPath, plan.settings, why, `${plan.path} was restored as it was`);
        }
        log.add('sshd-config-edited', plan.path, { backup, sha256: sha256Of(plan.path), ...logSettings(plan.settings) });
      },
    };
  }
  return {
    summary: `${plan.existing === undefined ? 'write' : 'rewrite'} ${plan.path} with ${quoted(plan.settings)} (included by ${configPath}, checked with sshd -t)`,
    apply(log: InstallLog): void {
      unchangedSincePlan(plan.path, plan.existing);
      const dir = dirname(plan.path);
      const dirExisted = exists(dir);
      if (!dirExisted) {
        mkdirSync(dir);
        chmodSync(dir, 0o755);
      }
      writeFileSync(plan.path, plan.content, { mode: 0o644 });
      chmodSync(plan.path, 0o644);
      const why = sshdRejects(sshd, configPath);
      if (why !== undefined) {
        if (plan.existing === undefined) rmSync(plan.path);
        else writeFileSync(plan.path, plan.existing);
        if (!dirExisted) rmdirSync(dir);
        throw rejected(configPath, plan.settings, why, plan.existing === undefined ? `${plan.path} was removed again` : `${plan.path} was put back as it was`);
      }
      if (!dirExisted) log.add('created-dir', dir, { mode: '755' });
      log.add('sshd-dropin-written', plan.path, logSettings(plan.settings));
    },
  };
}

/** atsr's block in `text`, in whichever line ending it was written with (an admin's later lines may use the other). */
function blockIn(text: string, settings: readonly string[]): string | undefined {
  return [atsrBlock(settings, lineEndingOf(text)), atsrBlock(settings, '\n'), atsrBlock(settings, '\r\n')].find((b) => text.includes(b));
}

/** What to tell the admin when atsr's lines are no longer there as written: the file is left alone. */
function notFound(path: string, settings: readonly string[], backup?: string): string {
  return (
    `NOT changed ${path}: atsr's lines (${quoted(settings)}, under '# Added by atsr') are not in it as they were written, ` +
    `so nothing was taken out; remove what is left of them yourself` +
    (backup ? ` (the file as it was before the install is ${backup}, kept)` : '')
  );
}

/** Undoes a logged sshd change; returns what was done, for the report. */
export function revertSshdChange(entry: LogEntry): string {
  const settings = settingsOf(entry);
  const current = readIfExists(entry.path);
  if (current === undefined) return `${entry.path} is gone; nothing to remove`;
  if (entry.kind === 'sshd-dropin-written') {
    if (current === atsrBlock(settings)) {
      rmSync(entry.path, { force: true });
      return `removed ${entry.path}`;
    }
    // The admin added to atsr's file: their lines stay.
    const block = blockIn(current, settings);
    if (block === undefined) return notFound(entry.path, settings);
    rewrite(entry.path, current.replace(block, ''), true);
    return `removed the atsr lines from ${entry.path} (lines added since the install are kept)`;
  }
  const backup = entry.details.backup ?? '';
  if (exists(backup) && sha256Of(entry.path) === entry.details.sha256) {
    // Untouched since the install: the backup is the exact original.
    rewrite(entry.path, readIfExists(backup)!, true);
    rmSync(backup, { force: true });
    return `restored ${entry.path} from ${backup}`;
  }
  // Edited since: take out only the lines atsr added, if they are still there as written.
  const block = blockIn(current, settings);
  if (block === undefined) return notFound(entry.path, settings, exists(backup) ? backup : undefined);
  rewrite(entry.path, current.replace(block, ''), true);
  rmSync(backup, { force: true });
  return `removed the atsr lines from ${entry.path} (it was edited since the install, so the backup was not used)`;
}
