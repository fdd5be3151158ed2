// The session's output on its way to the clients: the ring that keeps it for
// resumes, one frame per event-loop turn, reading on while a client keeps
// up, and backpressure that slows the command instead of growing memory.
import { readSync } from 'node:fs';
import type { IPty } from 'node-pty';
import type { Diagnostics } from '../log/diagnostics.js';
import { ByteRing } from '../session/byte-ring.js';
import { idleMemoryTrim } from './memory-trim.js';
import { ptyMasterFd, ptyReaderIdle } from '../pty/pty-internals.js';
import { type ClientConnection, VIEWER_MAX_BACKLOG } from './client-connection.js';

/** At most this much output is read on per flush (`readOn`). */
const READ_ON_BYTES = 64 * 1024;
/**
 * Linux's pty gives at most this much per read when the reader keeps up: a
 * read that size suggests more is waiting; a shorter one (a keystroke's echo)
 * that the pty is empty, so reading on would only cost a syscall.
 */
const FULL_PTY_READ = 4095;

/** What the output flow needs to know of the session around it. */
export interface OutputTargets {
  clients(): Iterable<ClientConnection>;
  writer(): ClientConnection | undefined;
  pty(): IPty | undefined;
  /** The session is ending: the pty stays paused. */
  ending(): boolean;
  /** The session is ending or the command exited: no reading ahead. */
  stopped(): boolean;
}

/** Where a client's stream starts, and what the ring no longer held of what it asked for. */
export interface StreamStart {
  from: number;
  lost: number;
  /** The output offset when the start was chosen. */
  out: number;
}

export class OutputFlow {
  readonly ring: ByteRing;
  /** Output read from the pty in this event-loop turn, not yet sent. */
  private pending: Buffer[] = [];
  /** Where `readOn` reads to: copied out at once, so one is enough. */
  private readOnBuffer: Buffer | undefined;
  /** The client whose full socket has the pty paused. */
  private pausedFor: ClientConnection | undefined;
  /** Highest output offset ever sent to a read-write client. */
  private delivered = 0;
  /** A new session's output waits for the front that created it (see holdForCreator). */
  private creatorHold: NodeJS.Timeout | undefined;
  /** Gives a burst's memory back once the output goes quiet. */
  private readonly memoryTrim = idleMemoryTrim();

  constructor(
    bufferSize: number,
    private readonly targets: OutputTargets,
    private readonly diag: Diagnostics,
  ) {
    this.ring = new ByteRing(bufferSize);
  }

  /** Gives back what some work just allocated (an attach), once the output is quiet. */
  trimWhenQuiet(): void {
    this.memoryTrim?.noteWork();
  }

  /** Output some read-write client was sent: where a plain attach starts. */
  get deliveredUpTo(): number {
    return this.delivered;
  }

  onOutput(chunk: Buffer): void {
    // What one event-loop turn read goes out as one frame, which saves the
    // front most of its per-chunk work.
    this.pending.push(chunk);
    if (this.pending.length === 1) setImmediate(() => this.flush());
  }

  /** Sends the output read so far: call before anything that depends on `out`. */
  flush(): void {
    if (this.pending.length === 0) return;
    const readOn = this.readOn();
    const chunk = this.pending.length === 1 && !readOn ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.ring.append(chunk);
    this.memoryTrim?.noteOutput(chunk.length);
    const writer = this.targets.writer();
    for (const c of this.targets.clients()) {
      if (!c.streaming) continue;
      const ok = c.sendOutput(chunk);
      if (c === writer) {
        this.delivered = c.position;
        // Backpressure: a slow client slows the command instead of growing memory.
        if (!ok) this.pauseFor(c);
      } else if (c.socket.writableLength > VIEWER_MAX_BACKLOG) {
        this.diag.log(1, `dropping read-only viewer ${c.clientAddr}: too far behind`);
        c.drop();
      }
    }
  }

  /**
   * Where a stream for a client at `rx` starts (null, or beyond out: from
   * what no client was sent), after what the ring still holds.
   */
  startFor(rx: number | null): StreamStart {
    this.flush();
    const out = this.ring.end;
    const from = rx === null || rx > out ? Math.min(this.delivered, out) : rx;
    if (from >= this.ring.start) return { from, lost: 0, out };
    return { from: this.ring.start, lost: this.ring.start - from, out };
  }

  /** Sends `c` the ring from `from` (a StreamStart's) on; from then on it gets the output live. */
  stream(c: ClientConnection, from: number, isWriter: boolean): void {
    c.position = from;
    const replay = this.ring.copyFrom(from);
    const ok = replay.length === 0 || c.sendOutput(replay);
    if (isWriter) {
      this.delivered = Math.max(this.delivered, c.position);
      if (!ok) this.pauseFor(c);
      this.releaseCreatorHold();
    }
  }

  /**
   * A session started for a front that attaches at once: the command's
   * output waits in the pty (the command blocks as on a terminal nobody
   * reads) until a read-write client streams, or `ms` passed. Otherwise a
   * fast command (`cat` of a big file) would overrun the ring before its
   * own creator attached, and the creator would see a loss at offset 0.
   */
  holdForCreator(ms: number): void {
    this.creatorHold = setTimeout(this.releaseCreatorHold, ms);
    this.targets.pty()?.pause();
  }

  private readonly releaseCreatorHold = (): void => {
    if (!this.creatorHold) return;
    clearTimeout(this.creatorHold);
    this.creatorHold = undefined;
    if (!this.pausedFor && !this.targets.ending()) this.targets.pty()?.resume();
  };

  /** A client that stops reading (cut off, taken over) must not keep the command paused. */
  release(c: ClientConnection): void {
    if (this.pausedFor === c) this.resumeOutput();
  }

  /**
   * A pty master gives at most ~4 KiB per read, and node-pty reads once per
   * event-loop turn (libuv stops at a short read), so a burst of output would
   * cross the socket and the front's terminal in thousands of 4 KiB frames.
   * While a read-write client takes output as fast as it comes, read on here
   * until the pty has no more (or READ_ON_BYTES): fewer, larger frames. Never
   * while node-pty holds unread output (order) or a client holds the pty
   * paused (backpressure); and not for a detached session, whose ring would
   * only be overrun sooner. Returns whether it appended to `pending`.
   */
  private readOn(): boolean {
    const pty = this.targets.pty();
    if (this.pending[this.pending.length - 1]!.length < FULL_PTY_READ) return false;
    if (!pty || !this.targets.writer()?.streaming || this.pausedFor || this.targets.stopped() || !ptyReaderIdle(pty)) return false;
    const fd = ptyMasterFd(pty);
    if (fd === undefined) return false;
    const buf = (this.readOnBuffer ??= Buffer.allocUnsafe(READ_ON_BYTES));
    let at = 0;
    while (at < READ_ON_BYTES) {
      try {
        const n = readSync(fd, buf, at, READ_ON_BYTES - at, null);
        if (n <= 0) break;
        at += n;
      } catch {
        break; // EAGAIN: nothing more for now; EIO: the command is gone, and node-pty will see it too
      }
    }
    if (at > 0) this.pending.push(buf.subarray(0, at));
    return at > 0;
  }

  private pauseFor(c: ClientConnection): void {
    if (this.pausedFor === c) return;
    this.resumeOutput(); // at most one client holds the pty
    this.pausedFor = c;
    this.targets.pty()?.pause();
    c.socket.once('drain', this.resumeOutput);
    c.socket.once('close', this.resumeOutput);
  }

  /** Lets the command write again (its client drained, left, or was cut off). */
  private readonly resumeOutput = (): void => {
    const c = this.pausedFor;
    if (!c) return;
    this.pausedFor = undefined;
    c.socket.off('drain', this.resumeOutput);
    c.socket.off('close', this.resumeOutput);
    if (!this.targets.ending() && !this.creatorHold) this.targets.pty()?.resume();
  };
}
