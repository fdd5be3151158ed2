// Throwaway Unix users for tests that replay one user's attack on another
// (the tests run as root). Each has a fresh private home under /tmp and is
// deleted, with its home, by remove().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { processIds } from '../../src/processes.js';
import { atsrCommand } from './atsr-bin.js';
import type { RunResult } from './atsr-sandbox.js';
import { PtyRun } from './pty-harness.js';

const randomName = (): string => `atsrt${Array.from({ length: 6 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`;

export class ThrowawayUser {
  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
    readonly home: string,
  ) {}

  static create(): ThrowawayUser {
    const name = randomName();
    const home = mkdtempSync(`/tmp/${name}-home-`);
    execFileSync('useradd', ['-M', '-U', '-d', home, '-s', '/bin/sh', name]);
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }));
    chownSync(home, uid, gid);
    chmodSync(home, 0o700);
    return new ThrowawayUser(name, uid, gid, home);
  }

  /** The processes running as this user (each one started by a test). */
  pids(): number[] {
    return processIds().filter((pid) => {
      try {
        return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] === String(this.uid);
      } catch {
        return false; // ended meanwhile
      }
    });
  }

  /** The argv prefix that runs a command as this user, with only this user's groups. */
  private asMe(argv: string[]): string[] {
    return ['setpriv', `--reuid=${this.uid}`, `--regid=${this.gid}`, '--init-groups', ...argv];
  }

  /** A login-like environment: this user's HOME and nothing inherited that names root's places. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.home, USER: this.name, LOGNAME: this.name, TERM: 'xterm', ...extra };
  }

  spawn(argv: string[], env: NodeJS.ProcessEnv = this.env()): ChildProcess {
    const [file, ...args] = this.asMe(argv);
    return spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
  }

  /** Runs `argv` as this user, stdin /dev/null, and collects its output. */
  run(argv: string[], env: NodeJS.ProcessEnv = this.env()): Promise<RunResult> {
    const child = this.spawn(argv, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('latin1').on('data', (d: string) => (stderr += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  }

  /** Runs the real atsr as this user, stdin /dev/null. */
  atsr(args: string[], env: NodeJS.ProcessEnv = this.env()): Promise<RunResult> {
    return this.run([...atsrCommand(), ...args], env);
  }

  /** Runs the real atsr as this user on a fresh pty of its own (the user's terminal). */
  attach(args: string[], env: NodeJS.ProcessEnv = this.env()): PtyRun {
    return new PtyRun(this.asMe([...atsrCommand(), ...args]), { env, cwd: '/' });
  }

  /** Ends what the tests left running as this user (session hosts), by pid, then deletes the user. */
  remove(): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    // userdel refuses while a process of the user still exists.
    const deadline = Date.now() + 10_000;
    while (this.pids().length > 0) {
      if (Date.now() > deadline) throw new Error(`${this.name}: processes ${this.pids().join(' ')} did not end`);
      execFileSync('sleep', ['0.05']);
    }
    execFileSync('userdel', [this.name]);
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Removes every user, even when removing one fails; then reports the first failure. */
export function removeUsers(...users: Array<ThrowawayUser | undefined>): void {
  const failures: unknown[] = [];
  for (const u of users) {
    try {
      u?.remove();
    } catch (err) {
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
}
