// A v2 client (docs/protocol.md, part 1, version 2): a relay that only moves
// bytes. The host does for it what the TypeScript front did: the in-band
// handshake (when the client announced itself), the detach keys, the
// terminal reset before leaving a running command, and the end frame that
// carries the relay's exit code and last words.
import { ExitCode } from '../cli/exit-codes.js';
import { terminalResetFor } from '../front/terminal-reset.js';
import { FrameType, ProtocolError, type Frame } from '../protocol/frames.js';
import { type AttachRequestV2, decodeResize, encodeEnd } from '../protocol/messages.js';
import { ClientHandshake, type HandshakePeer, type Hello } from './client-handshake.js';
import type { AttachedClient, AttachedSession, ClientConnection } from './client-connection.js';
import { DetachFilter } from './detach-filter.js';
import type { StreamStart } from './output-flow.js';

/** What a relay client asks of the session besides the common. */
export interface RelaySession extends AttachedSession {
  hangup(c: ClientConnection): void;
  /** dtach's redraw methods, for the read-write client (the screen repaint is the front's). */
  redrawFor(c: ClientConnection, method: 'winch' | 'ctrl_l'): void;
}

export class RelayClient implements AttachedClient, HandshakePeer {
  readonly version = 2;
  private readonly handshake: ClientHandshake | undefined;
  private readonly detach: DetachFilter;
  private exitStatus = 0;

  constructor(
    readonly conn: ClientConnection,
    readonly req: AttachRequestV2,
    private readonly session: RelaySession,
  ) {
    this.handshake = req.inband ? new ClientHandshake(this) : undefined;
    this.detach = new DetachFilter(req.detach);
    conn.resumable = req.inband;
    // The terminal is gone (its end, or the connection broke): held bytes can never complete a message.
    const gone = (): void => this.handshake?.close();
    conn.socket.once('end', gone);
    conn.socket.once('close', gone);
  }

  describe(): string {
    return `(v2, inband ${this.req.inband})`;
  }

  /** Accepted: the empty first frame lets the relay read its terminal; then the hello, or the stream at once. */
  accept(hello: Hello): void {
    this.conn.sendTerminal(Buffer.alloc(0));
    if (this.handshake) return this.handshake.begin(hello);
    // `from`: the front showed the screen up to there (its repaint).
    const start = this.session.startFor(this.req.from ?? null);
    if (start.lost > 0) this.send(Buffer.from(`atsr: ${start.lost} bytes of output were lost; continuing from offset ${start.from}\r\n`));
    this.stream(start.from);
    // Unless the whole stream is replayed from its first byte, which shows the screen already.
    if (this.req.redraw && (start.from > 0 || start.lost > 0)) this.session.redrawFor(this.conn, this.req.redraw);
  }

  /** A relay sends only input (the host decides what is counted) and resize. */
  onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.input:
        if (this.handshake) this.handshake.feed(f.payload);
        else this.input(f.payload);
        return;
      case FrameType.resize:
        return this.session.resize(this.conn, decodeResize(f));
      default:
        throw new ProtocolError(`unexpected frame 0x${f.type.toString(16)} from a v2 client`);
    }
  }

  /** The command exited: the in-band exit notice and its bye, or the end at once. */
  exit(status: number, out: number): void {
    this.exitStatus = status;
    if (this.handshake) this.handshake.exit(status, out);
    else this.end(status, '');
  }

  /** Leaves a command that runs on: taken over, or the session hung up under it. */
  leave(_reason: 'taken-over' | 'hung-up', message: string): void {
    this.leaveWith(`[detached: ${message}]`);
  }

  /** Refuses the attach: nothing was relayed, so the terminal needs no reset. */
  refuse(why: 'ending' | 'busy', message: string): void {
    this.end(why === 'ending' ? ExitCode.sessionLost : ExitCode.sessionBusy, `atsr: ${message}`);
  }

  // ---- HandshakePeer ----------------------------------------------------------

  send(bytes: Buffer): void {
    this.conn.sendTerminal(bytes);
  }

  typeahead(bytes: Buffer): void {
    if (bytes.length > 0) this.session.write(this.conn, bytes, false);
  }

  input(bytes: Buffer): void {
    const fed = this.detach.feed(bytes);
    if (fed.pass.length > 0) this.session.write(this.conn, fed.pass, true);
    if (fed.detached) this.leaveWith('[detached]');
  }

  startFor(rx: number | null): StreamStart {
    return this.session.startFor(rx);
  }

  stream(from: number): void {
    this.session.stream(this.conn, from);
  }

  exitDone(confirmed: boolean): void {
    this.conn.exitAcked = confirmed;
    this.end(this.exitStatus, '');
  }

  hangup(): void {
    this.session.hangup(this.conn);
  }

  /** The terminal reset before the last words: the command runs on. */
  private leaveWith(line: string): void {
    this.send(Buffer.from(terminalResetFor(this.req.term), 'latin1'));
    this.end(0, line);
  }

  private end(code: number, message: string): void {
    this.handshake?.close();
    this.conn.finishWith(encodeEnd({ code, message }));
  }
}
