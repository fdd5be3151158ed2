// Files atsr keeps beside the session sockets. Their names start with '.',
// which no session name may (src/session/name.ts): a session can never
// take one of them, nor they a session's socket, and a listing that shows
// only valid session names never shows them.
import { basename, dirname, join } from 'node:path';

const internal = (socketPath: string, suffix: string): string => join(dirname(socketPath), `.${basename(socketPath)}.${suffix}`);

/** The session's stable SSH_AUTH_SOCK: a symlink to the attached client's agent. */
export function agentLinkPath(socketPath: string): string {
  return internal(socketPath, 'agent');
}

/** The lock held while a stale socket of this name is removed. */
export function staleLockPath(socketPath: string): string {
  return internal(socketPath, 'lock');
}
