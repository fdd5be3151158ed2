// The session's output on its way to the clients: the ring that keeps it for
// resumes, one frame per event-loop turn, reading on while a client keeps
// up, and backpressure that slows the command instead of growing memory.
import { readSync } from 'node:fs';
import type { IPty } from 'node-pty';
import type { Diagnostics } from '../log/diagnostics.js';
import { FrameType, HEADER_BYTES, writeHeader } from '../protocol/frames.js';
import { ByteRing } from '../session/byte-ring.js';
import { idleMemoryTrim } from './memory-trim.js';
import { ptyMasterFd, ptyReaderIdle } from '../pty/pty-internals.js';
import { type ClientConnection, VIEWER_MAX_BACKLOG } from './client-connection.js';
import { type FrameLease, FramePool } from './frame-pool.js';

/** At most this much output is read on per flush (`readOn`). */
const READ_ON_BYTES = 64 * 1024;
/**
 * Linux's pty gives at most this much per read when the reader keeps up: a
 * read that size suggests more is waiting; a shorter one (a keystroke's echo)
 * that the pty is empty, so reading on would only cost a syscall.
 */
const FULL_PTY_READ = 4095;
/** A pooled frame holds its header, what node-pty read in the turn (a read or two), and what was read on. */
const POOLED_FRAME_BYTES = HEADER_BYTES + 4 * FULL_PTY_READ + READ_ON_BYTES;
/** Node's Buffer.allocUnsafe serves smaller sizes from its shared slab, without an allocation of their own. */
const SLAB_BYTES = 4096;

/** One flush's output, encoded as one frame for every client. */
interface OutgoingFrame {
  bytes: Buffer;
  /** Where `bytes` came from the pool; undefined for a buffer of its own. */
  lease: FrameLease | undefined;
}

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
  /** Buffers for big frames; one is enough while the clients keep up. */
  private readonly frames = new FramePool(POOLED_FRAME_BYTES, 1);
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
    this.pending.push(chunk);
    if (this.pending.length > 1) return;
    // A short read with nothing before it (a keystroke's echo, a prompt):
    // the pty had no more, so nothing joins it in this turn, and it goes
    // out at once rather than through another phase of the event loop.
    if (chunk.length < FULL_PTY_READ) return this.flush();
    // What one event-loop turn read goes out as one frame, which saves the
    // front most of its per-chunk work.
    setImmediate(this.flushSoon);
  }

  private readonly flushSoon = (): void => this.flush();

  /** Sends the output read so far: call before anything that depends on `out`. */
  flush(): void {
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    if (!this.anyStreaming()) {
      for (const chunk of chunks) this.keep(chunk);
      return;
    }
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    if (length === 0) return; // an empty frame would say nothing
    // More than a pooled frame holds (node-pty handing out what it buffered while paused): a frame per
    // read, and no reading on, which would put the pty's next bytes before the reads still to send.
    if (HEADER_BYTES + length > POOLED_FRAME_BYTES) for (const chunk of chunks) this.send(this.frameOf([chunk], chunk.length, false));
    else this.send(this.frameOf(chunks, length, this.mayReadOn(chunks[chunks.length - 1]!)));
  }

  private send(frame: OutgoingFrame): void {
    this.keep(frame.bytes.subarray(HEADER_BYTES));
    const writer = this.targets.writer();
    for (const c of this.targets.clients()) {
      if (!c.streaming) continue;
      const ok = c.sendOutputFrame(frame.bytes, frame.lease?.hold());
      if (c === writer) {
        this.delivered = c.position;
        // Backpressure: a slow client slows the command instead of growing memory.
        if (!ok) this.pauseFor(c);
      } else if (c.socket.writableLength > VIEWER_MAX_BACKLOG) {
        this.diag.log(1, `dropping read-only viewer ${c.clientAddr}: too far behind`);
        c.drop();
      }
    }
    frame.lease?.letGo();
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

  /** Appends output to the ring. */
  private keep(bytes: Buffer): void {
    this.ring.append(bytes);
    this.memoryTrim?.noteOutput(bytes.length);
  }

  private anyStreaming(): boolean {
    for (const c of this.targets.clients()) if (c.streaming) return true;
    return false;
  }

  /**
   * `chunks` and, if `mayReadOn`, what `readOn` reads after them, as one
   * output frame: copied once, into a pooled buffer for a burst (its pages
   * already the process's), or Node's shared slab for a keystroke's echo.
   */
  private frameOf(chunks: Buffer[], length: number, mayReadOn: boolean): OutgoingFrame {
    const readOn = mayReadOn && HEADER_BYTES + length + FULL_PTY_READ <= POOLED_FRAME_BYTES;
    const pooled = readOn || (HEADER_BYTES + length >= SLAB_BYTES && HEADER_BYTES + length <= POOLED_FRAME_BYTES);
    const lease = pooled ? this.frames.lease() : undefined;
    const buf = lease?.buf ?? Buffer.allocUnsafe(HEADER_BYTES + length);
    let at = HEADER_BYTES;
    for (const chunk of chunks) at += chunk.copy(buf, at);
    if (readOn) at += this.readOn(buf, at);
    writeHeader(buf, FrameType.output, at - HEADER_BYTES);
    return { bytes: buf.subarray(0, at), lease };
  }

  /**
   * A pty master gives at most ~4 KiB per read, and node-pty reads once per
   * event-loop turn (libuv stops at a short read), so a burst of output would
   * cross the socket and the front's terminal in thousands of 4 KiB frames.
   * While a read-write client takes output as fast as it comes, read on
   * (`readOn`) until the pty has no more (or READ_ON_BYTES): fewer, larger
   * frames. Never while node-pty holds unread output (order) or a client
   * holds the pty paused (backpressure); and not for a detached session,
   * whose ring would only be overrun sooner.
   */
  private mayReadOn(last: Buffer): boolean {
    if (last.length < FULL_PTY_READ) return false;
    const pty = this.targets.pty();
    return !!pty && !!this.targets.writer()?.streaming && !this.pausedFor && !this.targets.stopped() && ptyReaderIdle(pty);
  }

  /**
   * Reads what the pty holds into `buf` from `at`, in full pty reads, up to
   * READ_ON_BYTES; returns the bytes read. A short read means the pty was
   * empty: another would only fail (EAGAIN), and a failed read costs an
   * Error with its stack.
   */
  private readOn(buf: Buffer, at: number): number {
    const fd = ptyMasterFd(this.targets.pty()!);
    if (fd === undefined) return 0;
    const end = Math.min(buf.length, at + READ_ON_BYTES);
    let read = 0;
    while (end - (at + read) >= FULL_PTY_READ) {
      let n: number;
      try {
        n = readSync(fd, buf, at + read, end - (at + read), null);
      } catch {
        break; // EAGAIN: nothing more for now; EIO: the command is gone, and node-pty will see it too
      }
      read += n;
      if (n < FULL_PTY_READ) break;
    }
    return read;
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
