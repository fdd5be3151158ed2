// A version 1 client (docs/protocol.md, Part 1): a front that runs the
// in-band handshake itself (atsr's TypeScript front before the relay, and
// clients written from the protocol's first version) and speaks to the host
// in frames: welcome, sync, loss, exit and exit-ack.
import { FrameType, ProtocolError, type Frame } from '../protocol/frames.js';
import { type AttachRequest, decodeResize, decodeSync } from '../protocol/messages.js';
import { SOCKET_PROTOCOL_VERSION } from '../version.js';
import type { Hello } from './client-handshake.js';
import type { AttachedClient, AttachedSession, ClientConnection } from './client-connection.js';

/** What a version 1 client asks of the session besides the common. */
export interface FrontSession extends AttachedSession {
  /** A line for the session's diagnostics. */
  note(level: 1 | 2 | 3, text: string): void;
}

export class FrontClient implements AttachedClient {
  readonly version = 1;

  constructor(
    readonly conn: ClientConnection,
    readonly req: AttachRequest,
    private readonly session: FrontSession,
  ) {
    conn.resumable = req.sync;
  }

  describe(): string {
    return `(sync ${this.req.sync})`;
  }

  /** Accepted: the welcome, then the stream at once unless the front syncs first. */
  accept(hello: Hello): void {
    const { id: name, resumed, out, in: inCount, buf: bufferSize } = hello;
    this.conn.sendJson(FrameType.welcome, { v: SOCKET_PROTOCOL_VERSION, name, resumed, out, in: inCount, bufferSize });
    if (!this.req.sync) this.startStreaming(null);
  }

  onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.sync: {
        if (this.conn.position >= 0) throw new ProtocolError('a second sync on one connection');
        return this.startStreaming(decodeSync(f).rx);
      }
      case FrameType.exitAck:
        this.conn.exitAcked = true;
        return this.conn.finish();
      case FrameType.input:
      case FrameType.inputUncounted:
        return this.session.write(this.conn, f.payload, f.type === FrameType.input);
      case FrameType.resize:
        return this.session.resize(this.conn, decodeResize(f));
      default:
        throw new ProtocolError(`unexpected frame 0x${f.type.toString(16)} from an attached client`);
    }
  }

  /** The exit notice; a resumable client's front closes after its client confirms it (exit-ack). */
  exit(status: number, out: number): void {
    if (this.conn.resumable) this.conn.sendJson(FrameType.exit, { status, out });
    else this.conn.finish(FrameType.exit, { status, out });
  }

  leave(reason: 'taken-over' | 'hung-up', message: string): void {
    this.conn.finish(FrameType.detached, { reason, message });
  }

  refuse(why: 'ending' | 'busy', message: string): void {
    this.conn.finish(FrameType.refused, { reason: why === 'ending' ? 'exiting' : 'busy', message });
  }

  /** From `rx` (null: from what no client was sent), a loss frame first. */
  private startStreaming(rx: number | null): void {
    const start = this.session.startFor(rx);
    if (rx !== null && rx > start.out) this.session.note(1, `client claims rx ${rx} beyond out ${start.out}; plain attach`);
    if (start.lost > 0) {
      this.conn.sendJson(FrameType.loss, { lost: start.lost, from: start.from });
      this.session.note(1, `${start.lost} bytes of output lost to the client`);
    }
    this.session.stream(this.conn, start.from);
  }
}
