// One installer at a time per prefix and per sshd config: two at once wrote
// the AcceptEnv block twice. A lock is a file created with O_EXCL (which
// never follows a symlink) holding the holder's PID; one whose holder is
// gone is taken over. Root's locks live in /run, where no user can put
// anything; others' in /run/lock (else the temp directory): never beside the
// admin's files, and removed when the run ends. (Root's were in /run/lock,
// which is 1777: a user's directory at a lock's predictable name made every
// install and uninstall fail with EISDIR.)
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InstallError, InstallExit } from './errors.js';
import { processAlive } from '../src/processes.js';

const LOCK_DIR = process.getuid?.() === 0 && existsSync('/run') ? '/run' : existsSync('/run/lock') ? '/run/lock' : tmpdir();

export class InstallLock {
  private readonly held: string[] = [];

  /** Takes the lock for `what` (a prefix or an sshd config path), or throws naming the installer that holds it. */
  take(what: string): void {
    const file = join(LOCK_DIR, `atsr-install.${createHash('sha256').update(resolve(what)).digest('hex').slice(0, 16)}.lock`);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
        this.held.push(file);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = this.holderOf(file, what);
      if (holder !== undefined) {
        throw new InstallError(
          `another installer (PID ${holder}) is working on ${what}; wait for it to finish (if none is running, remove ${file})`,
          InstallExit.failed,
        );
      }
      rmSync(file, { force: true }); // its holder is gone
    }
    throw new InstallError(`cannot take the install lock ${file} for ${what}`, InstallExit.failed);
  }

  /** The PID of a live holder; undefined when the lock may be taken over. */
  private holderOf(file: string, what: string): number | undefined {
    const st = lstatSync(file, { throwIfNoEntry: false });
    if (st === undefined) return undefined;
    if (!st.isFile() || st.uid !== process.getuid?.()) {
      // Not one of ours: another user's file where the lock goes (in a sticky directory). Root removes it; others are told.
      if (process.getuid?.() === 0) return undefined;
      throw new InstallError(`${file}, where the install lock for ${what} goes, is not yours: remove it`, InstallExit.failed);
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : undefined;
  }

  release(): void {
    for (const f of this.held.splice(0)) rmSync(f, { force: true });
  }
}
