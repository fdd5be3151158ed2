// The host's listening socket: claimed atomically (two hosts racing for one
// name end with one session), stale sockets replaced under a lock, and
// recreated when a /tmp cleaner deletes it under a live session.
import { chmodSync, closeSync, openSync, rmSync, statSync, type Stats } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';

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
  private inode = -1;

  constructor(
    private where: string,
    private readonly onConnection: (socket: Socket) => void,
  ) {}

  /** Where the socket is now: it moves when its directory had to be made elsewhere. */
  get path(): string {
    return this.where;
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
      const server = createServer({ pauseOnConnect: false }, this.onConnection);
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
      server.listen(this.path, () => {
        chmodSync(this.path, 0o600);
        this.inode = statSync(this.path).ino;
        this.server = server;
        resolve(undefined);
      });
    });
  }

  /**
   * Removes the socket if it still refuses connections, holding
   * `<path>.lock` so that two hosts never remove each other's fresh socket.
   * False when another process holds the lock.
   */
  private async removeStaleUnderLock(): Promise<boolean> {
    const lock = `${this.path}.lock`;
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
   * Recreates the socket if it was deleted (or replaced by a non-socket).
   * `locate` makes its directory again the way a front looks for it (a /tmp
   * cleaner may have removed the whole tree) and says where the socket goes.
   */
  async ensurePresent(locate: () => string): Promise<boolean> {
    let st: Stats | undefined;
    try {
      st = statSync(this.path);
    } catch {
      st = undefined;
    }
    if (st && st.ino === this.inode) return false;
    if (st && st.isSocket()) return false; // another host owns this name now
    this.server?.close();
    this.server = undefined;
    const path = locate();
    if (st && path === this.path) rmSync(this.path, { force: true });
    this.where = path;
    if ((await this.claim()) === 'exists') throw new Error(`another session has ${path}`);
    return true;
  }

  /** Stops listening and removes the socket if it is still ours. */
  close(): void {
    this.server?.close();
    this.server = undefined;
    try {
      if (statSync(this.path).ino === this.inode) rmSync(this.path, { force: true });
    } catch {
      // Already gone.
    }
  }
}
