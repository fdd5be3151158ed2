// Removing a socket whose host is gone, without ever acting through a path:
// in a directory held by a descriptor, only if the entry is still the very
// socket found refusing connections, and only when it belongs to the
// directory's owner and we are that owner or root. So root deletes nothing
// the owner could not delete, whatever the owner renames or swaps
// (docs/security.md).
import type { Stats } from 'node:fs';
import type { DirHandle } from './dir-handle.js';

const sameInode = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;

/** True when `name` was removed. */
export function removeStaleSocket(dir: DirHandle, name: string, refused: Stats, me: number): boolean {
  const owner = dir.stat().uid;
  if (refused.uid !== owner || (me !== 0 && me !== owner)) return false;
  const now = dir.lstatChild(name);
  if (!now?.isSocket() || !sameInode(now, refused)) return false;
  try {
    dir.unlinkChild(name);
    return true;
  } catch {
    return false; // removed by someone else meanwhile
  }
}
