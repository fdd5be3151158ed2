// `rm -rf` for a tree that users write in (the socket root): every directory
// is opened with O_NOFOLLOW and emptied through its descriptor, so a user
// who swaps a directory of theirs for a symlink mid-way gets the symlink
// removed, never what it points to (docs/security.md).
import { basename, dirname } from 'node:path';
import { DirHandle } from '../src/session/dir-handle.js';

/** Socket directories hold no subdirectories: anything deeper is left, and said. */
const MAX_DEPTH = 8;

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

function removeEntry(dir: DirHandle, name: string, depth: number): void {
  const st = dir.lstatChild(name);
  if (!st) return;
  if (!st.isDirectory()) return dir.unlinkChild(name);
  if (depth >= MAX_DEPTH) throw new Error(`${dir.path}/${name} is nested deeper than ${MAX_DEPTH} levels`);
  let child: DirHandle;
  try {
    child = dir.openChild(name);
  } catch (err) {
    // Swapped for a symlink or a file since the lstat: remove that instead.
    if (codeOf(err) === 'ELOOP' || codeOf(err) === 'ENOTDIR') return dir.unlinkChild(name);
    throw err;
  }
  try {
    for (const n of child.names()) removeEntry(child, n, depth + 1);
  } finally {
    child.close();
  }
  dir.removeChildDir(name);
}

/** Removes `path` and everything under it; a problem (e.g. a user still writing there) is returned, not thrown. */
export function removeTree(path: string): string | undefined {
  let parent: DirHandle;
  try {
    parent = DirHandle.open(dirname(path));
  } catch (err) {
    return codeOf(err) === 'ENOENT' ? undefined : `${path}: ${(err as Error).message}`;
  }
  try {
    removeEntry(parent, basename(path), 0);
    return undefined;
  } catch (err) {
    return `${path}: ${(err as Error).message}`;
  } finally {
    parent.close();
  }
}
