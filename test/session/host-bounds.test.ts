// What one client can make a session host hold: input the command does not
// read waits in the client (backpressure), a frame in progress is bounded,
// and a connection that never attaches is closed. Real hosts, raw clients.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, encodeFrame } from '../../src/protocol/frames.js';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';
import { rawAttachFrame } from '../support/raw-attach.js';
import { seededBytes } from '../support/seeded-bytes.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('bounds');

/** The host's resident set, from the kernel. */
function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]);
}

function connectTo(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves when the host has closed `s` (its end, a reset or a broken pipe). */
function closedByHost(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    s.on('error', () => {});
    s.resume(); // read what comes, so that the host's end is seen
    s.once('close', () => resolve());
  });
}

/** A raw read-write client: collects the session's output from its frames. */
class RawWriter {
  private readonly decoder = new FrameDecoder();
  private output = Buffer.alloc(0);
  /** Input bytes the socket has taken from us (their write completed). */
  accepted = 0;

  private constructor(readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) if (f.type === FrameType.output) this.output = Buffer.concat([this.output, f.payload]);
    });
  }

  static async attach(path: string): Promise<RawWriter> {
    const w = new RawWriter(await connectTo(path));
    w.sock.write(rawAttachFrame(false));
    return w;
  }

  async waitForOutput(text: string): Promise<void> {
    await waitUntil(`the output shows ${text}`, () => this.output.includes(text), 30_000);
  }

  /**
   * Sends `data` as input frames, each written only once the socket drained.
   * With `stallMs`, stops when the socket has not drained for that long and
   * returns where it stopped; without, sends everything.
   */
  async send(data: Buffer, from: number, stallMs?: number): Promise<number> {
    const FRAME = 16 * 1024;
    let at = from;
    while (at < data.length) {
      const part = data.subarray(at, at + FRAME);
      const ok = this.sock.write(encodeFrame(FrameType.input, part), () => (this.accepted += part.length));
      at += part.length;
      if (ok) continue;
      const drained = new Promise<boolean>((resolve) => this.sock.once('drain', () => resolve(true)));
      const stalled = stallMs === undefined ? drained : Promise.race([drained, new Promise<boolean>((r) => setTimeout(() => r(false), stallMs))]);
      if (!(await stalled)) return at;
    }
    return at;
  }
}

describe('input the command does not read', () => {
  it('waits in the client (backpressure), and reaches the command exactly once it reads', async () => {
    const size = 8 << 20;
    const data = seededBytes(7, size);
    const fifo = `${box().dir}/go`;
    const file = `${box().dir}/got.bin`;
    execFileSync('mkfifo', [fifo]);
    // Raw and without echo, so that every byte value reaches `head` as typed;
    // it reads nothing until the test opens the fifo.
    const cmd = `stty raw -echo -iexten; printf READY; read x < '${fifo}'; head -c ${size} > '${file}'; printf DONE`;
    expect((await box().atsr(['-n', 'in1', 'sh', '-c', cmd])).code).toBe(0);
    const { socket, pid } = await box().session('in1');
    const w = await RawWriter.attach(socket);
    await w.waitForOutput('READY');
    const rssBefore = rssKiB(pid);

    const stoppedAt = await w.send(data, 0, 500);
    const rssStalled = rssKiB(pid);
    console.log(`input to a command not reading: socket took ${w.accepted} of ${size} bytes; host RSS ${rssBefore} -> ${rssStalled} KiB`);
    // The kernel's socket buffer, the host's one read, its 64 KiB queue and the pty's own buffer: well under 1 MiB.
    expect(w.accepted).toBeLessThan(1 << 20);
    expect(rssStalled - rssBefore).toBeLessThan(16 * 1024);

    writeFileSync(fifo, 'go\n');
    await w.send(data, stoppedAt);
    await w.waitForOutput('DONE');
    expect(readFileSync(file).equals(data)).toBe(true);
    w.sock.destroy();
  });
});

/** Bytes process `pid` has read so far (every read(2), terminal and sockets alike). */
function bytesRead(pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no rchar for ${pid}`);
  return Number(m[1]);
}

/** What `pid` has read once it has read nothing more for `quietMs`. */
async function readUntilStalled(pid: number, quietMs: number): Promise<number> {
  let last = bytesRead(pid);
  let since = Date.now();
  await waitUntil('the front stops reading', () => {
    const now = bytesRead(pid);
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= quietMs;
  }, 30_000);
  return last;
}

describe('a front whose command does not read', () => {
  it('stops reading its terminal while the host is not taking input; every byte arrives once the command reads', async () => {
    const size = 8 << 20;
    const data = seededBytes(9, size);
    const fifo = `${box().dir}/go`;
    const file = `${box().dir}/got.bin`;
    execFileSync('mkfifo', [fifo]);
    const cmd = `stty raw -echo -iexten; printf READY; read x < '${fifo}'; head -c ${size} > '${file}'; printf DONE`;
    const a = box().attach(['-c', 'in2', 'sh', '-c', cmd]);
    await a.waitFor('READY');
    const before = bytesRead(a.pid);
    a.write(data);
    const read = (await readUntilStalled(a.pid, 500)) - before;
    console.log(`a front typed 8 MiB into a command not reading: it read ${read} bytes, then waited`);
    expect(read).toBeLessThan(2 << 20);
    writeFileSync(fifo, 'go\n');
    await a.waitFor('DONE', 60_000);
    expect(readFileSync(file).equals(data)).toBe(true);
  });
});

describe('a frame in progress', () => {
  it('declaring more than a front ever sends closes the connection at its header; the host holds nothing and lives on', async () => {
    expect((await box().atsr(['-n', 'fr1', 'sh', '-c', 'while read l; do echo "echo:$l"; done'])).code).toBe(0);
    const { socket, pid } = await box().session('fr1');
    const rssBefore = rssKiB(pid);
    // 64 connections, each an attach frame declaring 1 MiB (the old limit) with all but its last byte.
    const header = Buffer.from([FrameType.attach, 0, 0, 0, 0]);
    header.writeUInt32BE(1 << 20, 1);
    const body = Buffer.alloc((1 << 20) - 1, 0x20);
    const clients = await Promise.all(Array.from({ length: 64 }, () => connectTo(socket)));
    const closed = clients.map((s) => closedByHost(s));
    for (const s of clients) s.write(Buffer.concat([header, body]));
    // Far sooner than the 10 s given to a connection that has not attached.
    await Promise.race([
      Promise.all(closed),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the host kept the oversized frames')), 3000)),
    ]);
    const rssAfter = rssKiB(pid);
    console.log(`64 partial 1 MiB frames: host RSS ${rssBefore} -> ${rssAfter} KiB`);
    expect(rssAfter - rssBefore).toBeLessThan(16 * 1024);
    expect(isAlive(pid)).toBe(true);
    const w = await RawWriter.attach(socket);
    w.sock.write(encodeFrame(FrameType.input, Buffer.from('alive\r')));
    await w.waitForOutput('echo:alive');
    w.sock.destroy();
  });
});

describe('a connection that does not attach', () => {
  const env = (): NodeJS.ProcessEnv => box().env({ ATSR_ATTACH_TIMEOUT_MS: '300' });

  it('is closed after the time limit, silent or inside a frame; an attached client stays', async () => {
    expect((await box().atsr(['-n', 'idle1', 'sh', '-c', 'while read l; do echo "echo:$l"; done'], { env: env() })).code).toBe(0);
    const { socket, pid } = await box().session('idle1');
    const w = await RawWriter.attach(socket);
    const silent = await connectTo(socket);
    const partial = await connectTo(socket);
    partial.write(Buffer.from([FrameType.attach, 0, 0, 0, 0x64, 0x7b])); // 100 bytes promised, 1 sent
    const t0 = Date.now();
    await Promise.race([
      Promise.all([closedByHost(silent), closedByHost(partial)]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the host kept connections that never attached')), 5000)),
    ]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(isAlive(pid)).toBe(true);
    w.sock.write(encodeFrame(FrameType.input, Buffer.from('still\r')));
    await w.waitForOutput('echo:still');
    w.sock.destroy();
  });

  it('that got its last frame and does not close its end is closed after the time limit', async () => {
    expect((await box().atsr(['-n', 'idle3', 'sleep', '1000'], { env: env() })).code).toBe(0);
    const { socket } = await box().session('idle3');
    // A client that keeps its own end open after the host's status and end.
    const s = await new Promise<Socket>((resolve, reject) => {
      const c = connect({ path: socket, allowHalfOpen: true }, () => resolve(c));
      c.once('error', reject);
    });
    const answered = new Promise<void>((resolve) => s.once('end', () => resolve()));
    s.resume();
    s.write(encodeFrame(FrameType.statusQuery, Buffer.from('{}')));
    await answered;
    // Once the host has closed the connection for good, a write to it fails;
    // until then it ignores what comes (an empty exit-ack, a valid frame).
    const broken = new Promise<string>((resolve) => s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')));
    const poke = setInterval(() => s.write(encodeFrame(FrameType.exitAck)), 50);
    try {
      const code = await Promise.race([broken, new Promise<string>((r) => setTimeout(() => r('kept open'), 5000))]);
      expect(['EPIPE', 'ECONNRESET']).toContain(code);
    } finally {
      clearInterval(poke);
      s.destroy();
    }
  });

  it('beyond 32 at once, a new one is closed at once (as sshd MaxStartups)', async () => {
    expect((await box().atsr(['-n', 'idle2', 'sh', '-c', 'while read l; do echo "echo:$l"; done'])).code).toBe(0);
    const { socket } = await box().session('idle2');
    const waiting: Socket[] = [];
    for (let i = 0; i < 32; i++) waiting.push(await connectTo(socket));
    const extra = await connectTo(socket);
    await Promise.race([
      closedByHost(extra),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the 33rd silent connection was kept')), 3000)),
    ]);
    expect(waiting.every((s) => !s.destroyed)).toBe(true);
    for (const s of waiting) s.destroy();
    // With the silent ones gone, the host answers again.
    await waitUntil('the host answers a status query', async () => (await box().session('idle2')).name === 'idle2');
    const w = await RawWriter.attach(socket);
    w.sock.write(encodeFrame(FrameType.input, Buffer.from('back\r')));
    await w.waitForOutput('echo:back');
    w.sock.destroy();
  });
});
