// Runs a program on a real pty (the "user's terminal") and lets a test type
// into it and wait for exact bytes to appear.
import { execFileSync } from 'node:child_process';
import { spawn, type IPty } from 'node-pty';

export interface PtyExit {
  exitCode: number;
  signal: number;
}

export class PtyRun {
  private chunks: Buffer[] = [];
  private total = 0;
  private waiters: Array<() => void> = [];
  readonly exited: Promise<PtyExit>;
  private readonly pty: IPty;

  constructor(argv: string[], opts: { env?: NodeJS.ProcessEnv; cols?: number; rows?: number; cwd?: string } = {}) {
    const [file, ...args] = argv;
    this.pty = spawn(file!, args, {
      // node-pty sets TERM to this name: an explicit env's TERM is the one meant.
      name: opts.env?.TERM ?? 'xterm',
      cols: opts.cols ?? 80,
      rows: opts.rows ?? 24,
      cwd: opts.cwd ?? process.cwd(),
      env: (opts.env ?? process.env) as { [key: string]: string },
      encoding: null,
    });
    this.pty.onData((d) => {
      const b = d as unknown as Buffer;
      this.chunks.push(b);
      this.total += b.length;
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.pty.onExit((e) => {
      for (const w of this.waiters.splice(0)) w();
      resolve({ exitCode: e.exitCode, signal: e.signal ?? 0 });
    }));
  }

  get pid(): number {
    return this.pty.pid;
  }

  /** The terminal's device, /dev/pts/N (node-pty's UnixTerminal has it, IPty does not say so). */
  get ttyPath(): string {
    return (this.pty as unknown as { ptsName: string }).ptsName;
  }

  /** Whether the program has put its terminal in raw mode (no canonical input, no echo). */
  isRaw(): boolean {
    const flags = execFileSync('stty', ['-F', this.ttyPath, '-a'], { encoding: 'utf8' }).split(/\s+/);
    return flags.includes('-icanon') && flags.includes('-echo');
  }

  /** Everything the program has written so far. */
  output(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  text(): string {
    return this.output().toString('latin1');
  }

  write(data: string | Buffer): void {
    this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    this.pty.resize(cols, rows);
  }

  kill(signal = 'SIGTERM'): void {
    try {
      this.pty.kill(signal);
    } catch {
      // Already gone.
    }
  }

  /** Resolves when the output (from byte `from` on) contains `needle`; returns the index. */
  async waitFor(needle: string | Buffer | RegExp, timeoutMs = 15_000, from = 0): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = this.output();
      const at =
        needle instanceof RegExp
          ? (() => {
              const m = needle.exec(out.toString('latin1').slice(from));
              return m ? from + m.index : -1;
            })()
          : out.indexOf(needle, from);
      if (at >= 0) return at;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${JSON.stringify(String(needle))}; output so far: ${JSON.stringify(this.text().slice(-600))}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the program to exit; fails after timeoutMs. */
  async exit(timeoutMs = 15_000): Promise<PtyExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms; output: ${JSON.stringify(this.text().slice(-600))}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
