// The server side of the in-band handshake (docs/protocol.md, part 2) for
// one v2 client, run by the host beside the byte counts it concerns: hello
// with this connection's nonce, the sync reply (or its absence), where the
// stream starts, counted input, late replies, hangup, and the exit's bye.
import { randomBytes } from 'node:crypto';
import { type InbandMessage, type Nonce, encodeInband } from '../inband/inband-message.js';
import { InbandScanner, type ScanPart, partBytes } from '../inband/inband-scanner.js';
import type { StreamStart } from './output-flow.js';

/** How long the host waits for the client's sync reply before it starts the stream itself. */
export const SYNC_TIMEOUT_MS = 5000;
/** After that, how long a late reply without a nonce (an older client) is still caught. */
export const LATE_REPLY_WINDOW_MS = 10_000;
/** How long the host waits for the client to confirm the exit notice. */
export const BYE_TIMEOUT_MS = 3000;
/** Input that may start a message is held at most this long, then it is input. */
export const HOLD_MS = 30;

export interface Hello {
  id: string;
  resumed: boolean;
  out: number;
  in: number;
  buf: number;
}

/** What the handshake does to the session, through the host. */
export interface HandshakePeer {
  /** Bytes for the client's terminal that are not session output (messages). */
  send(bytes: Buffer): void;
  /** Keys typed before the stream started: to the command, not counted. */
  typeahead(bytes: Buffer): void;
  /** Input from the stream's start on: counted, to the command. */
  input(bytes: Buffer): void;
  /** Where the stream starts for a client at `rx` (null: where the host chooses). */
  startFor(rx: number | null): StreamStart;
  /** Starts the stream at `from`, after any message about it. */
  stream(from: number): void;
  /** The exit notice was confirmed (or was not, in time): the connection ends. */
  exitDone(confirmed: boolean): void;
  /** The client's `hangup`. */
  hangup(): void;
}

type Phase = 'awaiting-reply' | 'streaming' | 'exiting' | 'done';

/** A sync reply, a malformed one, or none in time. */
type Reply = { rx: number } | { malformed: true } | { timedOut: true };

export class ClientHandshake {
  readonly nonce: Nonce = randomBytes(8).toString('hex');
  private readonly scanner = new InbandScanner();
  private phase: Phase = 'awaiting-reply';
  private replyTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private byeTimer: NodeJS.Timeout | undefined;
  /** The stream started without a reply: any reply from now on is late. */
  private startedWithoutReply = false;
  /** Until when a late reply without a nonce is still taken for one (once). */
  private lateWithoutNonceUntil = 0;

  constructor(private readonly peer: HandshakePeer) {}

  begin(hello: Hello): void {
    this.send({ kind: 'hello', ...hello });
    this.replyTimer = setTimeout(() => this.onReply({ timedOut: true }, []), SYNC_TIMEOUT_MS);
  }

  feed(chunk: Buffer): void {
    switch (this.phase) {
      case 'awaiting-reply':
        return this.feedBeforeReply(this.scanner.push(chunk));
      case 'streaming':
        return this.feedLive(this.scanner.push(chunk));
      case 'exiting':
        return this.feedAfterExit(this.scanner.push(chunk));
      case 'done':
        return;
    }
  }

  /** Sends the exit notice and waits for the client's bye. */
  exit(status: number, out: number): void {
    this.stopHolding();
    this.phase = 'exiting';
    this.send({ kind: 'exit', status, out });
    this.byeTimer = setTimeout(() => this.exitDone(false), BYE_TIMEOUT_MS);
  }

  /** The connection ends: held bytes are dropped (a resuming client sends them again). */
  close(): void {
    this.phase = 'done';
    clearTimeout(this.replyTimer);
    clearTimeout(this.byeTimer);
    clearTimeout(this.holdTimer);
    this.scanner.flush();
  }

  private feedBeforeReply(parts: ScanPart[]): void {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if ('plain' in p) {
        this.peer.typeahead(p.plain);
        continue;
      }
      if ('message' in p) {
        if (!this.isReply(p.message)) continue; // before the reply no other message means anything: dropped
        this.onReply({ rx: p.message.rx }, parts.slice(i + 1));
      } else this.onReply({ malformed: true }, parts.slice(i + 1));
      return;
    }
    // A possible message start waits for the reply (or the timeout) whole.
  }

  private isReply(m: InbandMessage): m is InbandMessage & { kind: 'sync' } {
    return m.kind === 'sync' && (m.n === undefined || m.n === this.nonce);
  }

  /** Decides where the stream starts and says so; `rest` (what followed the reply) is live input. */
  private onReply(reply: Reply, rest: ScanPart[]): void {
    clearTimeout(this.replyTimer);
    this.phase = 'streaming';
    if ('timedOut' in reply) {
      this.startedWithoutReply = true;
      this.lateWithoutNonceUntil = Date.now() + LATE_REPLY_WINDOW_MS;
      this.peer.typeahead(this.scanner.flush());
    }
    const rx = 'rx' in reply ? reply.rx : null;
    const start = this.peer.startFor(rx);
    if (rx !== null && rx <= start.out) {
      if (start.lost > 0) this.send({ kind: 'loss', lost: start.lost, from: start.from });
    } else {
      if ('malformed' in reply) this.send({ kind: 'error', message: 'malformed sync reply' });
      if (rx !== null) this.send({ kind: 'error', message: `sync rx ${rx} is beyond out ${start.out}` });
      this.send({ kind: 'start', from: start.from });
    }
    this.peer.stream(start.from);
    this.feedLive(rest);
  }

  /** After the reply every byte is input, counted, except a complete message bound to this connection. */
  private feedLive(parts: ScanPart[]): void {
    for (const p of parts) {
      if (this.phase !== 'streaming') return; // a hangup or detach ended it
      if (!('message' in p) || !this.consumed(p.message)) this.peer.input(partBytes(p));
    }
    this.holdAtMost();
  }

  /** Whether a message is this connection's own (consumed) rather than input. */
  private consumed(m: InbandMessage): boolean {
    if (m.n === this.nonce) {
      if (m.kind === 'sync' && this.startedWithoutReply) this.send({ kind: 'error', message: 'sync reply came too late' });
      else if (m.kind === 'hangup') this.peer.hangup();
      return true; // a duplicate sync, an early bye: nothing to do, but never the command's
    }
    if (m.n === undefined && m.kind === 'sync' && Date.now() < this.lateWithoutNonceUntil) {
      this.lateWithoutNonceUntil = 0; // an older client replies once
      this.send({ kind: 'error', message: 'sync reply came too late' });
      return true;
    }
    return false;
  }

  /** A held possible message start becomes input after HOLD_MS unless the rest of a message came. */
  private holdAtMost(): void {
    if (!this.scanner.holding) return this.stopHolding();
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = undefined;
      if (this.phase === 'streaming') this.feedLive([{ plain: this.scanner.flush() }]);
    }, HOLD_MS);
  }

  private stopHolding(): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
  }

  private feedAfterExit(parts: ScanPart[]): void {
    // The command is gone: input goes nowhere; only the bye (an older client's has no nonce) matters.
    const bye = parts.some((p) => 'message' in p && p.message.kind === 'bye' && (p.message.n === undefined || p.message.n === this.nonce));
    if (bye) this.exitDone(true);
  }

  private exitDone(confirmed: boolean): void {
    if (this.phase !== 'exiting') return;
    this.close();
    this.peer.exitDone(confirmed);
  }

  private send(m: InbandMessage): void {
    this.peer.send(encodeInband({ ...m, n: this.nonce }));
  }
}
