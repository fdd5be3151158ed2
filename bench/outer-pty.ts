// The outer terminal every peer runs under: one node-pty per front, bytes
// only (encoding null), counting what arrives and when, so that all peers
// are measured through the same harness.
import { spawn, type IPty } from 'node-pty';
import { benchEnv } from './env.js';
import { nowMs } from './stats.js';

export interface OuterPtyOptions {
  cols?: number;
  rows?: number;
  env?: Record<string, string>;
  /** Receives every output chunk (hashing, checks). */
  onChunk?: (chunk: Buffer) => void;
}

interface Waiter {
  pattern: Buffer;
  resolve: (atMs: number) => void;
}

export class OuterPty {
  readonly startedAt = nowMs();
  private readonly pty: IPty;
  received = 0;
  firstByteAt = Number.NaN;
  lastByteAt = Number.NaN;
  readonly exited: Promise<number>;
  private tail: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;

  constructor(argv: readonly string[], opts: OuterPtyOptions = {}) {
    const [file, ...args] = argv;
    this.pty = spawn(file!, args, {
      name: 'xterm',
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      cwd: process.cwd(),
      env: opts.env ?? benchEnv(),
      encoding: null,
    });
    // With encoding null node-pty hands out Buffers; its typings say string.
    this.pty.onData((data) => this.onData(data as unknown as Buffer, opts.onChunk));
    this.exited = new Promise((resolve) => {
      this.pty.onExit(({ exitCode }) => resolve(exitCode));
    });
  }

  get pid(): number {
    return this.pty.pid;
  }

  write(data: Buffer | string): void {
    this.pty.write(data);
  }

  /** Resolves with the time the next occurrence of `text` arrives (from now on). */
  waitFor(text: string | Buffer): Promise<number> {
    const pattern = Buffer.isBuffer(text) ? text : Buffer.from(text);
    this.tail = Buffer.alloc(0);
    return new Promise((resolve) => {
      this.waiter = { pattern, resolve };
    });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    try {
      this.pty.kill(signal);
    } catch {
      // Already gone.
    }
  }

  private onData(chunk: Buffer, onChunk: ((chunk: Buffer) => void) | undefined): void {
    const at = nowMs();
    if (this.received === 0) this.firstByteAt = at;
    this.lastByteAt = at;
    this.received += chunk.length;
    onChunk?.(chunk);
    const w = this.waiter;
    if (!w) return;
    // Keep just enough of the previous chunk to find a pattern split across reads.
    const window = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    if (window.indexOf(w.pattern) >= 0) {
      this.waiter = undefined;
      this.tail = Buffer.alloc(0);
      w.resolve(at);
    } else {
      this.tail = window.subarray(Math.max(0, window.length - w.pattern.length + 1));
    }
  }
}
