// The session a process runs inside. A session's host puts its socket path
// in the command's environment (ATSR_SESSION, as tmux does with $TMUX), and
// a front never attaches to that session: its terminal is the session's own
// pty, so the session's output would loop back into its input for ever.
import { statSync } from 'node:fs';

export const SESSION_ENV = 'ATSR_SESSION';

/** Whether `socketPath` is the session this process runs inside. */
export function isOwnSession(socketPath: string, env: NodeJS.ProcessEnv): boolean {
  const own = env[SESSION_ENV];
  if (!own) return false;
  if (own === socketPath) return true;
  // The same socket under another spelling of its directory (a symlinked HOME, -u vs -g).
  try {
    const a = statSync(own);
    const b = statSync(socketPath);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}
