// The session's output on its way to the clients: the ring that keeps it for
// resumes; for a writer alone, each read written through to its socket at
// once; otherwise one frame per event-loop turn; reading on while a client
// keeps up, and backpressure that slows the command instead of growing memory.
import type { Diagnostics } from '../log/diagnostics.js';
import { FrameType, HEADER_BYTES, headerLength, writeHeader } from '../protocol/frames.js';
import { ByteRing } from '../session/byte-ring.js';
import { type HostNative, hostNative } from './host-native.js';
import { idleMemoryTrim } from './memory-trim.js';
import type { PtyProcess } from '../pty/pty-process.js';
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
/** A pooled frame holds its header, what the reader read in the turn (a read or two), and what was read on. */
const POOLED_FRAME_BYTES = HEADER_BYTES + 4 * FULL_PTY_READ + READ_ON_BYTES;
/** Node's Buffer.allocUnsafe serves smaller sizes from its shared slab, without an allocation of their own. */
const SLAB_BYTES = 4096;

/** Where reading on into `buf` after `at` stops: READ_ON_BYTES on, or the buffer's end. */
function readOnEnd(buf: Buffer, at: number): number {
  return Math.min(buf.length, at + READ_ON_BYTES);
}

/** A pooled frame being filled with output as it is read. */
interface FillingFrame {
  lease: FrameLease;
  buf: Buffer;
  /** Where the next bytes go. */
  at: number;
  /** The length of its last read from the pty: a full one suggests more waits. */
  lastRead: number;
}

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
  pty(): PtyProcess | undefined;
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
  /** The frame that output read in this event-loop turn is copied into, not yet sent. */
  private filling: FillingFrame | undefined;
  private flushScheduled = false;
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
  /** Where reading on is done (readOn) and output written through (writeOut); undefined without the addon. */
  private readonly native = hostNative();
  /** The header writeOut sends before the output it writes through, and where it says the payload's length. */
  private readonly throughHeader = Buffer.alloc(HEADER_BYTES);

  constructor(
    bufferSize: number,
    private readonly targets: OutputTargets,
    private readonly diag: Diagnostics,
  ) {
    this.ring = new ByteRing(bufferSize);
    writeHeader(this.throughHeader, FrameType.output, 0);
  }

  /** Gives back what some work just allocated (an attach), once the output is quiet. */
  trimWhenQuiet(): void {
    this.memoryTrim?.noteWork();
  }

  /** Output some read-write client was sent: where a plain attach starts. */
  get deliveredUpTo(): number {
    return this.delivered;
  }

  /**
   * `length` bytes the pty gave, in `buf` (the reader's, used again for its
   * next read): written through, or copied at once into the frame this
   * event-loop turn fills.
   */
  onOutput(buf: Buffer, length: number): void {
    if (!this.filling && this.native && this.writeThrough(this.native, buf, length)) return;
    // A short read with nothing before it (a keystroke's echo, a prompt):
    // the pty had no more, so nothing joins it in this turn, and it goes
    // out at once rather than through another phase of the event loop.
    if (!this.filling && length < FULL_PTY_READ) return this.sendNow(buf, length);
    // What does not fit goes in the next frame; reading on would put the pty's next bytes before it.
    if (this.filling && this.filling.at + length > this.filling.buf.length) this.flushFrame(false);
    const frame = (this.filling ??= this.openFrame());
    frame.at += buf.copy(frame.buf, frame.at, 0, length);
    frame.lastRead = length;
  }

  /**
   * The usual case, a writer alone that keeps up: the read, and what the pty
   * holds after a full one (as readOn), go to the writer's socket as one
   * frame in one write from host-native.node, at once. No frame is filled or
   * leased, no event-loop turn waited for, and none of Writable's work done
   * per frame (docs/benchmarks.md, "Output written through"). Only while
   * nothing waits in the socket's queue, so nothing is overtaken; what the
   * socket does not take is queued, and the pty paused until it is written.
   * False: not the case, the frame path sends it.
   */
  private writeThrough(native: HostNative, buf: Buffer, length: number): boolean {
    const writer = this.targets.writer();
    if (!writer?.streaming || this.pausedFor) return false;
    for (const c of this.targets.clients()) if (c.streaming && c !== writer) return false;
    const sock = writer.idleDescriptor();
    const pty = this.targets.pty();
    if (sock < 0 || !pty) return false;
    const end = this.mayReadOn(length) ? readOnEnd(buf, length) : length;
    const header = this.throughHeader;
    const written = native.writeOut(pty.fd, sock, buf, length, end, FULL_PTY_READ, header);
    const payload = buf.subarray(0, headerLength(header));
    const frameBytes = HEADER_BYTES + payload.length;
    // The reader's buffer is read into again: what the socket did not take is copied.
    const rest = written < frameBytes ? Buffer.concat([header, payload]).subarray(written) : undefined;
    this.keep(payload);
    writer.sentDirectly(payload.length);
    this.delivered = writer.position;
    // A full socket: the command waits until the rest is written out, as
    // dtach's master waits for its clients, and the next read finds the socket idle again.
    if (rest) {
      this.pauseFor(writer);
      writer.socket.write(rest, this.resumeOutput);
    }
    return true;
  }

  /** A pooled frame to fill; what one event-loop turn read goes out as one frame, which saves the front most of its per-chunk work. */
  private openFrame(): FillingFrame {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushSoon);
    }
    const lease = this.frames.lease();
    return { lease, buf: lease.buf, at: HEADER_BYTES, lastRead: 0 };
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Sends the output read so far: call before anything that depends on `out`. */
  flush(): void {
    this.flushFrame(true);
  }

  /** Sends the frame being filled; `mayReadOn`: unless bytes that belong after it are in hand. */
  private flushFrame(mayReadOn: boolean): void {
    const frame = this.filling;
    if (!frame) return;
    this.filling = undefined;
    if (!this.anyStreaming()) {
      this.keep(frame.buf.subarray(HEADER_BYTES, frame.at));
      frame.lease.letGo();
      return;
    }
    if (mayReadOn && this.native && this.mayReadOn(frame.lastRead)) frame.at += this.readOn(this.native, frame.buf, frame.at);
    writeHeader(frame.buf, FrameType.output, frame.at - HEADER_BYTES);
    this.send({ bytes: frame.buf.subarray(0, frame.at), lease: frame.lease });
  }

  /**
   * A short read, alone in its turn, out at once: in Node's shared slab (a
   * keystroke's echo), or a pooled buffer when it is bigger than a slab takes.
   */
  private sendNow(buf: Buffer, length: number): void {
    if (!this.anyStreaming()) return this.keep(buf.subarray(0, length));
    const lease = HEADER_BYTES + length >= SLAB_BYTES ? this.frames.lease() : undefined;
    const frame = lease?.buf ?? Buffer.allocUnsafe(HEADER_BYTES + length);
    buf.copy(frame, HEADER_BYTES, 0, length);
    writeHeader(frame, FrameType.output, length);
    this.send({ bytes: frame.subarray(0, HEADER_BYTES + length), lease });
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
   * A pty master gives at most ~4 KiB per read, and the reader reads once per
   * event-loop turn (libuv stops at a short read), so a burst of output would
   * cross the socket and the front's terminal in thousands of 4 KiB frames.
   * While a read-write client takes output as fast as it comes, read on
   * (`readOn`) until the pty has no more (or READ_ON_BYTES): fewer, larger
   * frames. The reader hands over every read at once, so reading on never
   * overtakes output it holds; but never while the reader is paused or the
   * master closed (a creator hold, a client holding the pty paused:
   * backpressure), nor with bytes in hand that come after the frame (see
   * onOutput); and not for a detached session, whose ring would only be
   * overrun sooner. Without host-native.node, no reading on: more, smaller
   * frames.
   */
  private mayReadOn(lastRead: number): boolean {
    if (lastRead < FULL_PTY_READ) return false;
    return !!this.targets.pty()?.reading && !!this.targets.writer()?.streaming && !this.pausedFor && !this.targets.stopped();
  }

  /**
   * Reads what the pty holds into `buf` from `at`, in full pty reads, up to
   * READ_ON_BYTES; returns the bytes read. Done in host-native.node: through
   * fs.readSync, its JavaScript and the Error it makes of the last, failing
   * read cost more than the reads themselves.
   */
  private readOn(native: HostNative, buf: Buffer, at: number): number {
    return native.readOn(this.targets.pty()!.fd, buf, at, readOnEnd(buf, at), FULL_PTY_READ);
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
