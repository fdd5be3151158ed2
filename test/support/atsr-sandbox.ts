// A private socket directory and helpers to run the real atsr in it, with
// or without a terminal.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { HOST_SPEC_ENV } from '../../src/host/host-spec.js';
import { processIds } from '../../src/processes.js';
import { atsrCommand, privateTempDir } from './atsr-bin.js';
import { PtyRun } from './pty-harness.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ListedSession {
  name: string;
  pid: number;
  attached: boolean;
  viewers: number;
  exited: boolean;
  exitStatus: number | null;
  clientAddr: string;
  command: string[];
  socket: string;
  out: number;
  in: number;
}

/**
 * SIGKILLs every session host `atsr WHERE -l --json` lists, for each WHERE
 * (e.g. `['-g', root]`); a place it cannot list is skipped. For a test's
 * cleanup of sessions it started outside a sandbox. Returns their PIDs.
 */
export function killListedHosts(wheres: string[][], env: NodeJS.ProcessEnv): number[] {
  const [file, ...pre] = atsrCommand();
  const killed: number[] = [];
  for (const where of wheres) {
    const list = spawnSync(file!, [...pre, ...where, '-l', '--json'], { encoding: 'utf8', env });
    if (list.status !== 0) continue;
    for (const s of JSON.parse(list.stdout) as { pid: number }[]) {
      if (!isAlive(s.pid)) continue;
      process.kill(s.pid, 'SIGKILL');
      killed.push(s.pid);
    }
  }
  return killed;
}

/**
 * SIGKILLs every session host whose socket path is under `dir` (the spec in
 * each process's environment) and that is not in `listed`: what a listing
 * did not see, such as a host whose socket was deleted. Says so on stderr, so
 * that a test's log shows when a listing missed a live host.
 */
export function killUnlistedHosts(dir: string, listed: readonly number[], test: string): void {
  for (const pid of processIds()) {
    if (listed.includes(pid)) continue;
    let socketPath: unknown;
    try {
      const spec = readFileSync(`/proc/${pid}/environ`, 'latin1')
        .split('\0')
        .find((v) => v.startsWith(`${HOST_SPEC_ENV}=`));
      if (spec === undefined) continue;
      socketPath = (JSON.parse(spec.slice(HOST_SPEC_ENV.length + 1)) as { socketPath?: unknown }).socketPath;
    } catch {
      continue; // gone, or not a spec
    }
    if (typeof socketPath !== 'string' || !socketPath.startsWith(`${dir}/`) || !isAlive(pid)) continue;
    process.stderr.write(`${test}: session host ${pid} (${socketPath}) was not listed (ending, or its socket gone); killing it\n`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It ended meanwhile.
    }
  }
}

/** Polls `check` until it returns true (for events no API reports, like a process ending). */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err; // not there yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class AtsrSandbox {
  readonly dir: string;
  readonly sockets: string;
  private readonly removeDir: () => void;
  private readonly runs: PtyRun[] = [];

  constructor(name: string) {
    const t = privateTempDir(name);
    this.dir = t.dir;
    this.removeDir = t.remove;
    this.sockets = `${t.dir}/s`;
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
    delete env.SSH_CLIENT;
    delete env.SSH_AUTH_SOCK;
    return { ...env, ...extra };
  }

  /** Runs atsr without a terminal (stdin /dev/null). */
  run(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string } = {}): Promise<RunResult> {
    const [file, ...pre] = atsrCommand();
    return new Promise((resolve) => {
      const child = spawn(file!, [...pre, ...args], { env: opts.env ?? this.env(), stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr += d));
      child.stdin.end(opts.stdin ?? '');
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Runs atsr with `-u <private dir>` on a fresh pty of its own. */
  attach(args: string[], opts: { env?: NodeJS.ProcessEnv; cols?: number; rows?: number } = {}): PtyRun {
    const r = new PtyRun([...atsrCommand(), '-u', this.sockets, ...args], { env: opts.env ?? this.env(), cols: opts.cols, rows: opts.rows });
    this.runs.push(r);
    return r;
  }

  /** `atsr -u <dir> ...args` without a terminal. */
  atsr(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<RunResult> {
    return this.run(['-u', this.sockets, ...args], opts);
  }

  async list(): Promise<ListedSession[]> {
    const r = await this.atsr(['-l', '--json']);
    if (r.code !== 0) throw new Error(`atsr -l failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as ListedSession[];
  }

  async session(name: string): Promise<ListedSession> {
    const s = (await this.list()).find((x) => x.name === name);
    if (!s) throw new Error(`no session ${name} listed`);
    return s;
  }

  /** Kills every session host and pty this sandbox started, then removes the directory. */
  async cleanup(): Promise<void> {
    for (const r of this.runs) r.kill('SIGKILL');
    const listed: number[] = [];
    try {
      for (const s of await this.list()) {
        listed.push(s.pid);
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    } catch {
      // Nothing to list.
    }
    killUnlistedHosts(this.dir, listed, 'sandbox cleanup');
    this.removeDir();
  }
}
