// The outer terminal for measurements where the reader must not set the
// result: bench/outer-reader.c (built with cc at bench time) owns the pty
// and reads it in C; this side only talks to it over pipes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { benchEnv } from './env.js';

/** What the reader says when its command is done (times in ms from just before its fork). */
export interface ReaderDone {
  exitCode: number;
  signal: number;
  received: number;
  /** zlib's CRC-32 of the --crc range (0 without one). */
  crc32: number;
  firstMs: number;
  lastMs: number;
  exitMs: number;
}

export interface FastOuterOptions {
  cols?: number;
  rows?: number;
  /** CRC-32 of the `length` bytes that arrive from stream offset `from` on. */
  crc?: { from: number; length: number };
  /** Report each time this text arrives (`seen`). */
  notify?: string;
  /** Keystroke round trips timed by the reader (roundTrips) instead of keys written as they come. */
  keys?: boolean;
}

/** Compiles the reader into `workDir`; returns its path. */
export function buildOuterReader(root: string, workDir: string): string {
  const out = join(workDir, 'outer-reader');
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, join(root, 'bench/outer-reader.c'), '-lz'], { stdio: 'inherit' });
  return out;
}

export class FastOuter {
  /** The command's pid: the session leader on the outer pty (the front). */
  readonly childPid: Promise<number>;
  readonly done: Promise<ReaderDone>;
  private readonly proc: ChildProcess;
  /** When each notice came, in ms from just before the reader's fork. */
  private readonly seenMs: number[] = [];
  private seenWaiters: { count: number; resolve: (ms: number) => void }[] = [];
  private echoed: ((times: string) => void) | undefined;

  constructor(reader: string, argv: readonly string[], opts: FastOuterOptions = {}) {
    const args = ['--cols', String(opts.cols ?? 80), '--rows', String(opts.rows ?? 24)];
    if (opts.crc) args.push('--crc', String(opts.crc.from), String(opts.crc.length));
    if (opts.notify) args.push('--notify', opts.notify);
    if (opts.keys) args.push('--keys');
    this.proc = spawn(reader, [...args, '--', ...argv], { stdio: ['pipe', 'pipe', 'inherit'], env: benchEnv() });
    let onChild: (pid: number) => void = () => {};
    let onDone: (d: ReaderDone) => void = () => {};
    this.childPid = new Promise((resolve) => (onChild = resolve));
    this.done = new Promise((resolve, reject) => {
      onDone = resolve;
      this.proc.on('close', (code, signal) => reject(new Error(`outer-reader ended (${code ?? signal}) before its command was done`)));
    });
    // The rejection above only matters to whoever awaits `done`.
    this.done.catch(() => {});
    const lines = createInterface({ input: this.proc.stdout! });
    lines.on('line', (line) => {
      const space = line.indexOf(' ');
      const [word, rest] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
      if (word === 'child') onChild(Number(rest));
      else if (word === 'seen') this.onSeen(Number(rest.split(' ')[1]));
      else if (word === 'echoed') this.echoed?.(rest);
      else if (word === 'done') onDone(JSON.parse(rest) as ReaderDone);
    });
  }

  /**
   * Resolves once the notify text has arrived `count` times in all, with
   * the time of that arrival (ms from just before the reader's fork: the
   * reader's clock, so the harness's own wake-ups are not in it).
   */
  seen(count: number): Promise<number> {
    const at = this.seenMs[count - 1];
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.seenWaiters.push({ count, resolve }));
  }

  /**
   * With `keys`: `count` round trips, each one byte written to the pty and
   * read back before the next, timed by the reader; the times in ms.
   */
  roundTrips(count: number): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.echoed = (times) => {
        this.echoed = undefined;
        const ms = times === '' ? [] : times.split(' ').map(Number);
        if (ms.length === count) resolve(ms);
        else reject(new Error(`the pty ended after ${ms.length} of ${count} round trips`));
      };
      this.proc.stdin!.write(`${count}\n`);
    });
  }

  /** Keys for the session (written to the pty by the reader). */
  write(data: string): void {
    this.proc.stdin!.write(data);
  }

  /** Hangs the command up (SIGHUP), as a dropped connection would. */
  async hangUp(): Promise<void> {
    await this.signal('SIGHUP');
  }

  /**
   * Ends the command with SIGTERM (`script` outlives a SIGHUP) and waits for
   * the reader to end; kills both if that takes longer than `limitMs`.
   */
  async end(limitMs = 5_000): Promise<void> {
    const ended = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('close', () => resolve());
    });
    await this.signal('SIGTERM');
    const timer = setTimeout(() => {
      void this.signal('SIGKILL');
      this.proc.kill('SIGKILL');
    }, limitMs);
    await ended;
    clearTimeout(timer);
  }

  private async signal(name: NodeJS.Signals): Promise<void> {
    try {
      process.kill(await this.childPid, name);
    } catch {
      // Already gone.
    }
  }

  private onSeen(ms: number): void {
    this.seenMs.push(ms);
    const count = this.seenMs.length;
    const ready = this.seenWaiters.filter((w) => w.count <= count);
    this.seenWaiters = this.seenWaiters.filter((w) => w.count > count);
    for (const w of ready) w.resolve(this.seenMs[w.count - 1]!);
  }
}
