// One front's connection, as the host sees it: frame decoding, the output
// position it has been sent up to, sending with backpressure, and a deadline.
import type { Socket } from 'node:net';
import {
  FrameDecoder,
  FrameType,
  type Frame,
  HEADER_BYTES,
  type FrameTypeValue,
  MAX_FRONT_PAYLOAD_BYTES,
  encodeFrame,
  writeHeader,
} from '../protocol/frames.js';
import { type AttachRequest, encodeJson } from '../protocol/messages.js';
import type { Hello } from './client-handshake.js';
import { socketDescriptor } from './client-reader.js';
import type { StreamStart } from './output-flow.js';

/** A read-only viewer this far behind is cut off rather than slow the session. */
export const VIEWER_MAX_BACKLOG = 4 << 20;
/** Replay is sent in frames of at most this many bytes. */
const REPLAY_CHUNK = 256 * 1024;

export type ClientRole = 'pending' | 'writer' | 'viewer' | 'query';

/**
 * What the host asks of a client once it sent its attach, in the protocol
 * version it speaks: 1, frames (front-client.ts); 2, a relay
 * (relay-client.ts), whose handshake the host runs.
 */
/** What a client of either version asks of the session. */
export interface AttachedSession {
  /** Into the pty (a viewer's keys, or keys after the exit, go nowhere). */
  write(c: ClientConnection, bytes: Buffer, counted: boolean): void;
  /** The pty's size, from the read-write client. */
  resize(c: ClientConnection, size: { rows: number; cols: number }): void;
  startFor(rx: number | null): StreamStart;
  /** Streams to `c` from `from`; the exit notice follows if the command is gone. */
  stream(c: ClientConnection, from: number): void;
}

export interface AttachedClient {
  readonly version: 1 | 2;
  /** The fields of the attach that both versions carry. */
  readonly req: Pick<AttachRequest, 'readOnly' | 'force' | 'rows' | 'cols' | 'clientAddr' | 'agentSocket' | 'updateUtmp'>;
  /** For the diagnostics' line on the attach. */
  describe(): string;
  /** Admitted: the session's offsets, then the stream (or the handshake that starts it). */
  accept(hello: Hello): void;
  /** A frame after the attach. */
  onFrame(f: Frame): void;
  /** The command exited with `status` after `out` bytes of output. */
  exit(status: number, out: number): void;
  /** Leaves a command that runs on: taken over by another client, or the session hung up under it. */
  leave(reason: 'taken-over' | 'hung-up', message: string): void;
  refuse(why: 'ending' | 'busy', message: string): void;
}

export class ClientConnection {
  /** A front's frames are small: a bigger one is refused at its header, before it is held. */
  readonly decoder = new FrameDecoder(MAX_FRONT_PAYLOAD_BYTES);
  role: ClientRole = 'pending';
  /** Absolute output offset this client has been sent up to; -1 until synced. */
  position = -1;
  clientAddr = '';
  /** Its attach changed the pty's size, which sent the program a SIGWINCH (a redraw by `winch` needs no other). */
  resizedOnAttach = false;
  /** Attached with the resume handshake: its client confirms the exit notice. */
  resumable = false;
  exitSent = false;
  /** Set by the attach frame. */
  client: AttachedClient | undefined;
  exitAcked = false;
  private closed = false;
  private deadline: NodeJS.Timeout | undefined;

  /**
   * `lingerMs`: after the host's last frame, how long the peer has to close
   * its end. A front closes at once; one that does not must not keep the
   * connection for good.
   */
  constructor(
    readonly socket: Socket,
    private readonly lingerMs: number,
  ) {
    socket.once('close', () => this.clearDeadline());
  }

  /** Calls `onExpired` after `ms` unless the deadline is cleared (or set anew) first. */
  setDeadline(ms: number, onExpired: () => void): void {
    this.clearDeadline();
    this.deadline = setTimeout(onExpired, ms);
  }

  clearDeadline(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  get streaming(): boolean {
    return this.position >= 0 && !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends session output; false when the socket asks us to wait for 'drain'. */
  sendOutput(chunk: Buffer): boolean {
    if (this.closed) return true;
    this.position += chunk.length;
    let ok = true;
    for (let at = 0; at < chunk.length; at += REPLAY_CHUNK) {
      const part = chunk.subarray(at, at + REPLAY_CHUNK);
      const header = Buffer.allocUnsafe(HEADER_BYTES);
      writeHeader(header, FrameType.output, part.length);
      this.socket.cork();
      this.socket.write(header);
      ok = this.socket.write(part);
      this.socket.uncork();
    }
    return ok;
  }

  /**
   * Sends one whole output frame (header and payload in one buffer: one
   * write); false when the socket asks us to wait for 'drain'. `onWritten`:
   * the socket is done with `frame` (written out, or the socket destroyed).
   */
  sendOutputFrame(frame: Buffer, onWritten?: () => void): boolean {
    if (this.closed) {
      onWritten?.();
      return true;
    }
    this.position += frame.length - HEADER_BYTES;
    return this.socket.write(frame, onWritten);
  }

  /**
   * The socket's descriptor while nothing waits in its queue (nothing
   * written could overtake a byte), for output written to it directly; -1
   * otherwise.
   */
  idleDescriptor(): number {
    const s = this.socket;
    if (this.closed || s.destroyed || !s.writable || s.writableLength > 0 || s.writableCorked > 0) return -1;
    return socketDescriptor(s);
  }

  /** Output of `payload` bytes written through idleDescriptor(). */
  sentDirectly(payload: number): void {
    this.position += payload;
  }

  /** Sends bytes for the client's terminal that are not session output (v2: messages, a reset); position unchanged. */
  sendTerminal(bytes: Buffer): void {
    if (!this.closed) this.socket.write(encodeFrame(FrameType.output, bytes));
  }

  sendJson(type: FrameTypeValue, msg: object): void {
    if (!this.closed) this.socket.write(encodeJson(type, msg));
  }

  /** Sends a last message, then closes the connection once it is flushed. */
  finish(type?: FrameTypeValue, msg?: object): void {
    this.finishWith(type !== undefined && msg !== undefined ? encodeJson(type, msg) : undefined);
  }

  /** As finish, with a last frame already encoded. */
  finishWith(last: Buffer | undefined): void {
    if (this.closed) return;
    this.closed = true;
    if (last) this.socket.end(last);
    else this.socket.end();
    // Read on (what comes is ignored), so that the peer's close is seen even
    // if input backpressure had paused the socket.
    this.socket.resume();
    this.setDeadline(this.lingerMs, () => this.drop());
  }

  /** Drops the connection now (protocol errors, a viewer far behind). */
  drop(): void {
    this.closed = true;
    this.clearDeadline();
    this.socket.destroy();
  }

  decode(chunk: Buffer): Frame[] {
    return this.decoder.push(chunk);
  }
}
