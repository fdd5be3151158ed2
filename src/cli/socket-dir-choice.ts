// Where a front looks for and puts session sockets: the explicit -u/-g or
// the default chain (with the installed shared root), then the user's own
// private directories for when another user's entry is in the way.
import type { AtsrOptions } from './options.js';
import { type SocketDirSpec, installedSocketRoots, privateFallbacks, socketDirCandidates } from '../session/socket-dir.js';

/** The directories to try in order, and the user's own ones for when another user's entry blocks them. */
export interface SocketDirChoice {
  candidates: SocketDirSpec[];
  fallbacks: SocketDirSpec[];
}

/** Where sockets go: the explicit -u/-g or the default chain, then the user's private fallbacks. */
export function socketDirChoice(opts: AtsrOptions): SocketDirChoice {
  const installed = installedSocketRoots(process.execPath, { uid: process.getuid!() }).current;
  return { candidates: socketDirCandidates(opts.socketDir, process.env, installed), fallbacks: privateFallbacks(process.env) };
}
