// Keeps a live session's socket where its fronts look for it: a /tmp cleaner
// may delete the socket or its whole directory tree, and a private fallback
// is left for the shared directory once another user's entry there is gone
// (docs/atsr.md, "Where sockets live"). Checked every 5 s and at once on
// SIGUSR1. At the first candidate directory, the check in between is
// host-native's socket watch, a few stat calls in C that wake the JavaScript
// only when the socket or its directories changed: checked in JavaScript,
// those wakes were nearly all of an idle host's CPU (docs/benchmarks.md, "An
// idle host's socket check").
import { dirname, join } from 'node:path';
import type { Diagnostics } from '../log/diagnostics.js';
import { type SocketDirSpec, resolveSocketDir } from '../session/socket-dir.js';
import type { HostNative } from './host-native.js';
import type { SessionSocket } from './session-socket.js';

/** How often the socket is checked. */
export const SOCKET_CHECK_MS = 5000;

export interface SocketPlace {
  /** The session's name: the socket's file name. */
  name: string;
  uid: number;
  socketDirs: { candidates: SocketDirSpec[]; fallbacks: SocketDirSpec[] };
}

export class SocketKeeper {
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  /** How the checks between two JavaScript ones are made now, for the log. */
  private by: 'C' | 'JavaScript' | undefined;

  constructor(
    private readonly socket: SessionSocket,
    private readonly place: SocketPlace,
    private readonly native: HostNative | undefined,
    private readonly diag: Diagnostics,
  ) {}

  /** The first check comes in 5 s, in JavaScript: it finds out which directory the socket is in. */
  start(): void {
    this.timer = setTimeout(() => void this.check(), SOCKET_CHECK_MS).unref();
  }

  /** The session ends: no more checks. */
  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /** Checks now (SIGUSR1), and then every 5 s again. */
  async check(): Promise<void> {
    if (this.stopped || this.checking) return;
    this.cancel();
    this.checking = true;
    // Set when the socket was located at the first candidate directory and is
    // ours there (not when another host took the name, nor when a move failed).
    let first = false;
    try {
      let why: string | undefined;
      const located = await this.socket.ensurePresent(() => {
        const dir = resolveSocketDir(this.place.socketDirs.candidates, this.place.name, { uid: this.place.uid }, this.place.socketDirs.fallbacks);
        why = dir.warning;
        first = dir.first === true;
        return join(dir.dir, this.place.name);
      });
      if (located) this.diag.log(1, `session ${this.place.name}: socket bound at ${this.socket.path}${why ? ` (${why})` : ''}`);
    } catch (err) {
      first = false;
      this.diag.log(1, `session ${this.place.name}: cannot recreate socket: ${(err as Error).message}`);
    } finally {
      this.checking = false;
    }
    if (!this.stopped) this.next(first);
  }

  private next(watchable: boolean): void {
    const native = watchable ? this.native : undefined;
    const by = native ? 'C' : 'JavaScript';
    if (by !== this.by) this.diag.log(2, `session ${this.place.name}: socket checked in ${by} every ${SOCKET_CHECK_MS / 1000} s`);
    this.by = by;
    if (native) {
      const path = this.socket.path;
      native.watchSocket(path, this.socket.inode, [dirname(path), dirname(dirname(path))], SOCKET_CHECK_MS, () => void this.check());
    } else {
      this.timer = setTimeout(() => void this.check(), SOCKET_CHECK_MS).unref();
    }
  }

  private cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.native?.unwatchSocket();
  }
}
