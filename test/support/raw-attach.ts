// An attach frame built by hand, byte by byte, for tests that play a
// misbehaving front on the host socket (one that never syncs, or stops reading);
// and a minimal protocol v2 client (what the relay does, without a terminal).
import { type Socket, connect } from 'node:net';
import { waitUntil } from './atsr-sandbox.js';

export function rawAttachFrame(sync: boolean): Buffer {
  const json = JSON.stringify({ v: 1, readOnly: false, force: false, sync, rows: 24, cols: 80, clientAddr: '', agentSocket: '', updateUtmp: false });
  const header = Buffer.from([0x01, 0, 0, 0, 0]); // type attach, then the payload length
  header.writeUInt32BE(Buffer.byteLength(json), 1);
  return Buffer.concat([header, Buffer.from(json)]);
}

export interface V2AttachOptions {
  readOnly?: boolean;
  force?: boolean;
  inband?: boolean;
  term?: string;
  detach?: { kind: 'none' } | { kind: 'key'; key: number } | { kind: 'escape' };
}

/** A protocol v2 attach frame, as the front hands it to the relay. */
export function v2AttachFrame(o: V2AttachOptions = {}): Buffer {
  const json = JSON.stringify({
    v: 2, readOnly: o.readOnly ?? false, force: o.force ?? false, rows: 24, cols: 80, clientAddr: '', agentSocket: '',
    updateUtmp: false, inband: o.inband ?? true, term: o.term ?? 'xterm', detach: o.detach ?? { kind: 'none' },
  });
  const header = Buffer.from([0x01, 0, 0, 0, 0]);
  header.writeUInt32BE(Buffer.byteLength(json), 1);
  return Buffer.concat([header, Buffer.from(json)]);
}

/**
 * A relay's view of a v2 host, for tests until the C relay lands: the bytes
 * of the output frames joined (what its terminal would get), the end frame,
 * and input sent as input frames exactly as given.
 */
export class V2Client {
  /** Everything the output frames carried, in order. */
  terminal = Buffer.alloc(0);
  /** Output frames seen, the empty first one included. */
  outputFrames = 0;
  end: { code: number; message: string } | undefined;
  closed = false;
  private pending = Buffer.alloc(0);

  private constructor(readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', () => {});
    sock.on('close', () => (this.closed = true));
  }

  static attach(path: string, o: V2AttachOptions = {}): Promise<V2Client> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => {
        s.write(v2AttachFrame(o));
        resolve(new V2Client(s));
      });
      s.once('error', reject);
    });
  }

  /** Sends `bytes` as one input frame (one read of a terminal, as a relay sends it). */
  type(bytes: Buffer | string): void {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    const header = Buffer.from([0x02, 0, 0, 0, 0]);
    header.writeUInt32BE(b.length, 1);
    this.sock.write(Buffer.concat([header, b]));
  }

  text(from = 0): string {
    return this.terminal.subarray(from).toString('latin1');
  }

  /** Resolves when the terminal bytes from `from` on match `what`; returns the match. */
  async waitFor(what: string | RegExp, from = 0, timeoutMs = 15_000): Promise<RegExpExecArray> {
    const re = typeof what === 'string' ? new RegExp(what.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : what;
    let m: RegExpExecArray | null = null;
    await waitUntil(`the terminal shows ${String(what)}`, () => (m = re.exec(this.text(from))) !== null, timeoutMs);
    return m!;
  }

  async waitForEnd(timeoutMs = 15_000): Promise<{ code: number; message: string }> {
    await waitUntil('the end frame', () => this.end !== undefined, timeoutMs);
    return this.end!;
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + len) return;
      const type = this.pending[0];
      const payload = this.pending.subarray(5, 5 + len);
      this.pending = this.pending.subarray(5 + len);
      if (type === 0x42) {
        this.outputFrames++;
        this.terminal = Buffer.concat([this.terminal, payload]);
      } else if (type === 0x48) {
        this.end = { code: payload[0]!, message: payload.subarray(1).toString('utf8') };
      } else throw new Error(`a v2 host sent frame 0x${type!.toString(16)}`);
    }
  }
}
