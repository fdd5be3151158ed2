// Ending a session the way a dropped line does, and then making sure nothing
// of it stays behind: the database releases its locks and licenses, and a
// background job that ignores the hangup does not outlive the session.
//   0      close the pty master (the kernel hangs the line up), and SIGHUP
//          every process in the command's session;
//   grace  SIGTERM to every process still in it;
//   2x     SIGKILL to every process still in it, until none is left.
// The command is the session leader (node-pty's fork calls setsid()), so "in the
// session" is what the kernel says: the session ID in /proc/PID/stat. Only
// processes that left it with setsid() survive (as with ssh and tmux), and
// processes of another user, which the host may not signal.
import { readFileSync } from 'node:fs';
import { processIds } from '../processes.js';
import type { PtyProcess } from '../pty/pty-process.js';

const HANGUP_GRACE_MS = 3000;

/** How often the session is looked at for being empty (the hangup then ends early). */
const POLL_MS = 100;

/** How many SIGKILL rounds, POLL_MS apart, before giving up on forks racing us. */
const KILL_ROUNDS = 50;

/** PIDs of the live (not zombie) processes in session `sid`, from /proc. */
function sessionMembers(sid: number): number[] {
  const members: number[] = [];
  for (const pid of processIds()) {
    const stat = readStat(pid);
    if (stat && stat.sid === sid && stat.state !== 'Z' && stat.state !== 'X') members.push(pid);
  }
  return members;
}

function readStat(pid: number): { state: string; sid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined; // gone meanwhile
  }
  // "pid (comm) state ppid pgrp session ...": comm may hold spaces and ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0]!, sid: Number(fields[3]) };
}

/** Sends `signal` to every process in session `sid`; returns how many were there. */
function signalSession(sid: number, signal: NodeJS.Signals): number {
  const members = sessionMembers(sid);
  for (const pid of members) {
    try {
      process.kill(pid, signal);
      // A stopped process acts on SIGHUP or SIGTERM only once continued (the kernel's hangup does the same).
      if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
    } catch {
      // Gone, or another user's (sudo): not ours to signal.
    }
  }
  return members.length;
}

export class SessionHangup {
  /** Resolves once no process is left in the session, or the last SIGKILL round is done. */
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private killRounds = 0;

  /** `commandRuns`: whether the command (the session leader) is still running, so the line is hung up. */
  constructor(
    private readonly pty: PtyProcess,
    private readonly commandRuns: boolean,
  ) {
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  private get sid(): number {
    return this.pty.pid;
  }

  start(): this {
    if (this.commandRuns) this.pty.close();
    signalSession(this.sid, 'SIGHUP');
    this.timers.push(setTimeout(() => signalSession(this.sid, 'SIGTERM'), HANGUP_GRACE_MS));
    this.timers.push(setTimeout(() => this.killRound(), 2 * HANGUP_GRACE_MS));
    this.timers.push(setInterval(() => this.endIfEmpty(), POLL_MS));
    return this;
  }

  private killRound(): void {
    if (signalSession(this.sid, 'SIGKILL') === 0 || ++this.killRounds >= KILL_ROUNDS) return this.end();
    this.timers.push(setTimeout(() => this.killRound(), POLL_MS));
  }

  private endIfEmpty(): void {
    if (sessionMembers(this.sid).length === 0) this.end();
  }

  private end(): void {
    for (const t of this.timers) clearTimeout(t);
    this.resolveFinished();
  }
}
