// The host's listening socket: claimed atomically (two hosts racing for one
// name end with one session), stale sockets replaced under a lock, and
// recreated when a /tmp cleaner deletes it under a live session.
import { chmodSync, closeSync, openSync, rmSync, statSync, type Stats } from 'node:fs';
import { type Server, connect, createServer } from 'node:net';
import { staleLockPath } from '../session/internal-names.js';
import { type AcceptedHandle, takeConnections } from './client-reader.js';

export type ClaimResult = 'listening' | 'exists';

const LOCK_STALE_MS = 10_000;

/** Whether something answers on the socket path. */
export function probeSocket(path: string): Promise<'live' | 'refused' | 'missing'> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? 'missing' : 'refused'));
  });
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SessionSocket {
  private server: Server | undefined;
  private ino = -1;

  constructor(
    private where: string,
    private readonly onConnection: (handle: AcceptedHandle) => void,
  ) {}

  /** Where the socket is now: it moves when its directory had to be made elsewhere. */
  get path(): string {
    return this.where;
  }

  /** The inode of the socket we bound. */
  get inode(): number {
    return this.ino;
  }

  /** Binds the path, replacing a stale socket; 'exists' if a live host has it. */
  async claim(): Promise<ClaimResult> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const err = await this.tryListen();
      if (!err) return 'listening';
      if (err.code !== 'EADDRINUSE') throw err;
      const state = await probeSocket(this.path);
      if (state === 'live') return 'exists';
      if (state === 'refused' && (await this.removeStaleUnderLock())) continue;
      await delay(20);
    }
    throw new Error(`could not claim ${this.path}`);
  }

  private tryListen(): Promise<NodeJS.ErrnoException | undefined> {
    return new Promise((resolve) => {
      const server = createServer();
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
      server.listen(this.path, () => {
        // Before any connection is accepted: those come from the event loop, after this callback's tick.
        try {
          takeConnections(server, this.onConnection);
        } catch (err) {
          server.close();
          return resolve(err as NodeJS.ErrnoException);
        }
        chmodSync(this.path, 0o600);
        this.ino = statSync(this.path).ino;
        this.server = server;
        resolve(undefined);
      });
    });
  }

  /**
   * Removes the socket if it still refuses connections, holding
   * `.<name>.lock` so that two hosts never remove each other's fresh socket.
   * False when another process holds the lock.
   */
  private async removeStaleUnderLock(): Promise<boolean> {
    const lock = staleLockPath(this.path);
    let fd: number;
    try {
      fd = openSync(lock, 'wx', 0o600);
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
      } catch {
        // The holder just released it.
      }
      return false;
    }
    try {
      if ((await probeSocket(this.path)) === 'refused') rmSync(this.path, { force: true });
    } finally {
      closeSync(fd);
      rmSync(lock, { force: true });
    }
    return true;
  }

  /**
   * Keeps the socket where a front looks for it. `locate` makes the
   * directories again the way a front does (a /tmp cleaner may have removed
   * the whole tree) and says where the socket belongs now: the socket is
   * recreated if it was deleted (or replaced by a non-socket), and moved if
   * it belongs elsewhere (back from a private fallback once another user's
   * entry is gone). True when it was bound anew.
   */
  async ensurePresent(locate: () => string): Promise<boolean> {
    let st: Stats | undefined;
    try {
      st = statSync(this.path);
    } catch {
      st = undefined;
    }
    const ours = isSocketOf(st, this.ino);
    if (st && !ours && st.isSocket()) return false; // another host owns this name now
    const path = locate();
    if (ours && path === this.path) return false;
    const old = { path: this.path, server: this.server, inode: this.ino };
    if (!ours) {
      old.server?.close();
      this.server = undefined;
      if (st && path === old.path) rmSync(old.path, { force: true });
    }
    this.where = path;
    if ((await this.claim()) === 'exists') {
      this.where = old.path; // still listening there if it was ours; retried at the next check
      throw new Error(`another session has ${path}`);
    }
    if (ours) closeIfOurs(old.server, old.path, old.inode);
    return true;
  }

  /** Stops listening; the socket goes with it if it is still ours. */
  close(): void {
    closeIfOurs(this.server, this.path, this.ino);
    this.server = undefined;
  }
}

/**
 * Closes `server`, listening at `path` as the socket of inode `inode`, and
 * the socket goes with it: libuv unlinks a listening socket's path as it
 * closes it, whatever the path names by then. Once a /tmp cleaner deleted
 * ours and another host bound the name, closing would delete that host's
 * socket; so a listener whose path is no longer ours is left open, to go with
 * the process (nothing can reach it).
 */
function closeIfOurs(server: Server | undefined, path: string, inode: number): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    // Deleted: not ours either.
  }
  if (isSocketOf(st, inode)) server?.close();
}

/** Whether `st` is the socket of inode `inode` (a non-socket may have been given a deleted socket's inode number). */
function isSocketOf(st: Stats | undefined, inode: number): boolean {
  return st !== undefined && st.isSocket() && st.ino === inode;
}
