// Ending a command the way a dropped line does: close the pty master (the
// kernel sends SIGHUP to the session), then SIGTERM, then SIGKILL to its
// process group, each after a grace period, so the database gets the
// chance to release its locks and licenses.
import type { IPty } from 'node-pty';
import { closePtyMaster } from '../pty/pty-internals.js';

export const HANGUP_GRACE_MS = 3000;

export function hangUp(pty: IPty, hasExited: () => boolean, graceMs = HANGUP_GRACE_MS): void {
  const pid = pty.pid;
  closePtyMaster(pty);
  const escalate = (signal: NodeJS.Signals, after: number): void => {
    setTimeout(() => {
      if (hasExited()) return;
      try {
        process.kill(-pid, signal);
      } catch {
        try {
          process.kill(pid, signal);
        } catch {
          // Already gone.
        }
      }
    }, after).unref();
  };
  escalate('SIGTERM', graceMs);
  escalate('SIGKILL', 2 * graceMs);
}
