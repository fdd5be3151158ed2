// The server's side of one connection as the client counts it: the stream
// offset received (rx), the hello's nonce that tells the server's messages
// from session output, and the bytes a `start` said we have already.
import { type InbandMessage, encodeInband } from '../inband/inband-message.js';

export class ServerStream {
  /** Session output received (absolute offset). */
  private received = 0;
  /** The current hello's nonce; undefined from an older server (messages carry none). */
  private nonce: string | undefined;
  /** Stream bytes still to discard: a `start` before our rx resends what we have. */
  private skip = 0;
  /** No stream byte has come since the hello. */
  private greeted = false;

  get rx(): number {
    return this.received;
  }

  /** A new hello: its nonce, and the rx to ask for (reset when it is more than the server ever sent). */
  greet(nonce: string | undefined, rx: number, out: number): void {
    this.nonce = nonce;
    this.received = rx > out ? 0 : rx;
    this.skip = 0;
    this.greeted = true;
  }

  /**
   * Whether a message after the hello is the server's: it carries this
   * hello's nonce (from an older server: none) and comes where the server
   * sends it. `start` and `loss` only before the first stream byte; an exit
   * only at the true end of the stream; an error, with the nonce, at any time
   * (a sync reply that came too late). Anything else is session output.
   */
  accepts(m: InbandMessage): boolean {
    if (this.nonce !== undefined && m.n !== this.nonce) return false;
    switch (m.kind) {
      case 'loss':
        return this.greeted;
      case 'start':
        return this.greeted && this.nonce !== undefined;
      case 'error':
        return this.greeted || this.nonce !== undefined;
      case 'exit':
        return m.out === this.received;
      default:
        return false;
    }
  }

  /** `start;from=F`: the bytes lost before F (0 when F is at or before our rx). */
  start(from: number): number {
    const lost = Math.max(0, from - this.received);
    this.skip = Math.max(0, this.received - from);
    this.received = from;
    return lost;
  }

  /** `loss;from=F`: the stream continues at F. */
  lost(from: number): void {
    this.received = from;
  }

  /** Counts stream bytes; returns those to show (less any we had already). */
  take(b: Buffer): Buffer {
    this.greeted = false;
    this.received += b.length;
    const dropped = Math.min(this.skip, b.length);
    this.skip -= dropped;
    return b.subarray(dropped);
  }

  sync(): Buffer {
    return encodeInband(this.withNonce({ kind: 'sync', rx: this.received }));
  }

  bye(): Buffer {
    return encodeInband(this.withNonce({ kind: 'bye' }));
  }

  /** The hang-up request, or undefined when the server is too old to know it (it would be typed into the session). */
  hangup(): Buffer | undefined {
    return this.nonce === undefined ? undefined : encodeInband({ kind: 'hangup', n: this.nonce });
  }

  private withNonce(m: InbandMessage): InbandMessage {
    return this.nonce === undefined ? m : { ...m, n: this.nonce };
  }
}
