// The server side of the in-band resume handshake (docs/protocol.md, part 2).
// Only a client that announced itself with ATSR_ID (ssh SendEnv) ever sees a
// protocol byte: hello before any session byte, a loss notice before the
// replay when the ring no longer holds what the client lacks, and an exit
// notice before a clean end.
import type { AtsrOptions } from '../cli/options.js';
import type { SyncHandshake } from '../front/attach-session.js';
import type { Loss, Welcome } from '../protocol/messages.js';
import { type InbandMessage, encodeInband } from './inband-message.js';
import { InbandScanner } from './inband-scanner.js';

/** How long the front waits for the client's sync reply before a plain attach. */
export const SYNC_TIMEOUT_MS = 5000;

export class FrontHandshake implements SyncHandshake {
  readonly timeoutMs = SYNC_TIMEOUT_MS;
  private readonly scanner = new InbandScanner();
  private out = 0;

  constructor(private readonly write: (b: Buffer) => void) {}

  begin(welcome: Welcome): void {
    this.out = welcome.out;
    this.send({ kind: 'hello', id: welcome.name, resumed: welcome.resumed, out: welcome.out, in: welcome.in, buf: welcome.bufferSize });
  }

  feed(chunk: Buffer): ReturnType<SyncHandshake['feed']> {
    const parts = this.scanner.push(chunk);
    const uncounted: Buffer[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if ('plain' in p) {
        uncounted.push(p.plain); // typeahead from before the reply: passed on, not counted
        continue;
      }
      if ('message' in p && p.message.kind !== 'sync') continue; // not a client's message: dropped
      let rx: number | null = null;
      if ('malformed' in p) this.send({ kind: 'error', message: 'malformed sync reply, plain attach' });
      else if (p.message.kind === 'sync' && p.message.rx > this.out) {
        this.send({ kind: 'error', message: `sync rx ${p.message.rx} is beyond out ${this.out}, plain attach` });
      } else if (p.message.kind === 'sync') rx = p.message.rx;
      return { uncounted: Buffer.concat(uncounted), done: { rx, rest: this.rest(parts.slice(i + 1)) } };
    }
    return { uncounted: Buffer.concat(uncounted) };
  }

  releaseHeld(): Buffer {
    return this.scanner.flush();
  }

  replyTooLate(): void {
    this.send({ kind: 'error', message: 'sync reply came too late, plain attach' });
  }

  seesBye(chunk: Buffer): boolean {
    return this.scanner.push(chunk).some((p) => 'message' in p && p.message.kind === 'bye');
  }

  onLoss(loss: Loss): void {
    this.send({ kind: 'loss', lost: loss.lost, from: loss.from });
  }

  onExit(status: number, out: number): void {
    this.send({ kind: 'exit', status, out });
  }

  /** What followed the sync reply: live input, passed through untouched. */
  private rest(parts: ReturnType<InbandScanner['push']>): Buffer {
    const bytes = parts.map((p) => ('plain' in p ? p.plain : 'malformed' in p ? p.malformed : Buffer.alloc(0)));
    return Buffer.concat([...bytes, this.scanner.flush()]);
  }

  private send(m: InbandMessage): void {
    this.write(Buffer.from(encodeInband(m)));
  }
}

export function makeFrontHandshake(opts: AtsrOptions): SyncHandshake | undefined {
  // Only a client that sent ATSR_ID speaks the protocol.
  if (!opts.sync || !process.env.ATSR_ID) return undefined;
  return new FrontHandshake((b) => process.stdout.write(b));
}
