// Logon (utmp) records for the session's pty, written by the system's setgid
// utempter helper, which takes the pty master on its stdin and puts the PID
// of its parent, the host, in the record.
//
// The host keeps a duplicate of the master for the helper alone: the record
// is removed when the command ends, and by then the pty reader may have
// closed its own descriptor. The helper runs once per change, one run at a
// time, in order. A host killed by SIGKILL leaves its record behind until the
// pty is used again, as sshd and tmux do.
import { spawn } from 'node:child_process';
import { closeSync, existsSync } from 'node:fs';
import type { Diagnostics } from '../log/diagnostics.js';

const HELPER_PATHS = [
  '/usr/lib/x86_64-linux-gnu/utempter/utempter',
  '/usr/lib/aarch64-linux-gnu/utempter/utempter',
  '/usr/libexec/utempter/utempter',
  '/usr/lib/utempter/utempter',
  '/usr/sbin/utempter',
];

/** A helper run that has not exited by then is not waited for: a session's end must not hang on it. */
const RUN_LIMIT_MS = 2000;

/**
 * A record is written this long after the attach that asked for it. Node
 * starts the helper with fork(), which holds the host's event loop for
 * ~6–7 ms on this VM (a Node process's page tables copied): begun at the
 * attach, that came before the program's first output to the new front,
 * and before a resume's missed output (docs/benchmarks.md, "The logon
 * record after the attach's first output").
 */
export const RECORD_DELAY_MS = 100;

export function findUtempter(): string | undefined {
  return HELPER_PATHS.find((p) => existsSync(p));
}

export class UtmpRecorder {
  /** The duplicate of the master; undefined once closed. */
  private fd: number | undefined;
  /** A record was written (an `add` ran) and not removed since. */
  private written = false;
  /** The address the last queued record names: an attach from it again changes nothing. */
  private address: string | undefined;
  /** Ends the wait before a record early: the session ended first. */
  private endWait: (() => void) | undefined;
  /** The helper runs queued so far: each starts when the one before has exited. */
  private runs: Promise<void> = Promise.resolve();

  /** `masterCopy`: a duplicate of the pty master, now the recorder's to close. */
  constructor(
    private readonly helper: string,
    masterCopy: number,
    private readonly diag: Diagnostics,
  ) {
    this.fd = masterCopy;
  }

  /**
   * Writes the record with the client's address, unless it already names
   * it; a new address logs the old one out in wtmp first. A resume from
   * the same address runs no helper: each run is a fork() of the host,
   * which holds its event loop for milliseconds, and two more wtmp lines.
   */
  record(clientAddr: string): void {
    const address = clientAddr.replace(/[\r\n]/g, '') || 'localhost';
    if (this.fd === undefined || address === this.address) return;
    this.address = address;
    this.runs = this.runs.then(() => this.waitBeforeRecord());
    this.run('del');
    this.run('add', address);
  }

  /** Removes the record, if one was written, and closes the duplicate; resolves when both are done. */
  close(): Promise<void> {
    const fd = this.fd;
    if (fd !== undefined) {
      this.run('del');
      this.fd = undefined;
      this.endWait?.();
      this.runs = this.runs.then(() => {
        try {
          closeSync(fd);
        } catch {
          // Only this recorder uses it; a failure here must not stop the host's exit.
        }
      });
    }
    return this.runs;
  }

  private waitBeforeRecord(): Promise<void> {
    return new Promise((resolve) => {
      if (this.fd === undefined) return resolve();
      const timer = setTimeout(() => this.endWait?.(), RECORD_DELAY_MS);
      this.endWait = () => {
        clearTimeout(timer);
        this.endWait = undefined;
        resolve();
      };
    });
  }

  /**
   * Queues a helper run. Whether it is needed is decided when its turn
   * comes: a record due after the session ended is not written (the pty is
   * gone), and a removal runs only where a record was written.
   */
  private run(...args: ['add', string] | ['del']): void {
    const fd = this.fd!;
    this.runs = this.runs.then(
      () =>
        new Promise<void>((resolve) => {
          if (args[0] === 'add' ? this.fd === undefined : !this.written) return resolve();
          this.written = args[0] === 'add';
          const limit = setTimeout(resolve, RUN_LIMIT_MS).unref();
          const done = (): void => {
            clearTimeout(limit);
            resolve();
          };
          // The master goes in as fd 3 and sh moves it to stdin: libuv makes a
          // child's fds 0-2 blocking, and that flag would be the host's too
          // (a duplicate shares it), whose reader then blocks on an empty pty.
          const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" <&3', this.helper, ...args], { stdio: ['ignore', 'ignore', 'ignore', fd] });
          child.on('error', (err) => {
            this.diag.log(1, `utmp: ${this.helper} ${args[0]}: ${err.message}`);
            done();
          });
          child.on('exit', (code, signal) => {
            if (code !== 0 && args[0] === 'add') this.diag.log(1, `utmp: ${this.helper} add failed (${signal ?? `status ${code}`})`);
            done();
          });
        }),
    );
  }
}
