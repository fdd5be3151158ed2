// How a session ends: the orphan timer of a detached session, the host's own
// hang-up (SIGTERM, an orphan, a client's hangup), the command's exit, and
// the shutdown that lets the last frames reach the clients first.
import type { PtyProcess } from '../pty/pty-process.js';
import type { Diagnostics } from '../log/diagnostics.js';
import { SessionHangup } from './hangup.js';

/**
 * How long an ended session waits for a resumable client whose exit notice
 * was not confirmed (it may have been lost with the connection), when no
 * orphan timeout is set.
 */
export const EXIT_LINGER_MINUTES = 10;

/** The longest delay Node's setTimeout keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** How long the last frames get to flush before the host exits. */
const FLUSH_LIMIT_MS = 1000;

/** What the lifecycle acts on, owned by the host. */
export interface LifecycleHooks {
  pty(): PtyProcess | undefined;
  /** Stops taking connections. */
  closeSocket(): void;
  /** Drops what waits for the pty: it will never be read. */
  closeInput(): void;
  /** Removes the logon record; resolves once it is gone. */
  closeUtmp(): Promise<void>;
  removeAgentLink(): void;
  /** Tells each streaming client the exit status (when it is known). */
  announceExit(): void;
  /** Gives each client its last word at shutdown. */
  sayGoodbye(): void;
  /** Whether every client has its last frames (or is gone); checked until the limit. */
  clientsSettled(): boolean;
  /** How much longer than FLUSH_LIMIT_MS a client may need (one waiting for its bye). */
  extraLingerMs(): number;
}

export class SessionLifecycle {
  /** The command's exit status, once it exited. */
  exitStatus: number | null = null;
  /** The session is being ended (hang-up): no new attaches, the pty stays paused. */
  ending = false;
  private shutting = false;
  private hangup: SessionHangup | undefined;
  private orphanTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly orphanMinutes: number,
    private readonly hooks: LifecycleHooks,
    private readonly diag: Diagnostics,
  ) {}

  get exited(): boolean {
    return this.exitStatus !== null;
  }

  /** Ends a detached session after the orphan timeout (or `fallbackMinutes` when none is set). */
  armOrphanTimer(fallbackMinutes = 0): void {
    this.clearOrphanTimer();
    const minutes = this.orphanMinutes > 0 ? this.orphanMinutes : fallbackMinutes;
    if (minutes <= 0) return;
    const deadline = Date.now() + minutes * 60_000;
    const wait = (): void => {
      const left = deadline - Date.now();
      // Node fires a timer of more than 2^31-1 ms (24.8 days) after 1 ms: a longer wait is made of shorter ones.
      if (left > 0) this.orphanTimer = setTimeout(wait, Math.min(left, MAX_TIMER_MS));
      else {
        this.diag.log(1, `session ${this.name}: no client for ${minutes} min; ending it`);
        this.terminate('orphaned');
      }
    };
    wait();
  }

  clearOrphanTimer(): void {
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
  }

  /** The command exited (its output was flushed first). */
  commandExited(status: number): void {
    this.exitStatus = status;
    this.hooks.closeInput();
    this.diag.log(2, `session ${this.name}: command exited with status ${status}`);
    void this.hooks.closeUtmp();
    this.hooks.announceExit();
    if (this.ending) this.shutDown();
  }

  /** Hangs the command up (if it still runs) and ends the session. */
  terminate(why: string): void {
    if (this.ending) return;
    this.ending = true;
    this.diag.log(2, `session ${this.name}: terminating (${why})`);
    this.clearOrphanTimer();
    this.hooks.closeSocket();
    this.hooks.closeInput(); // what still waits will never be read
    // Also after the command exited: what it left running in its session goes with the session.
    const pty = this.hooks.pty();
    if (pty) this.hangup = new SessionHangup(pty, this.exitStatus === null).start();
    if (this.exitStatus !== null || !pty) return this.shutDown();
    void this.hooks.closeUtmp();
  }

  shutDown(): void {
    if (this.shutting) return;
    this.shutting = true;
    this.clearOrphanTimer();
    this.hooks.closeSocket();
    this.hooks.removeAgentLink();
    const utmpClosed = this.hooks.closeUtmp();
    this.hooks.sayGoodbye();
    // Let the last frames flush, a hangup finish with the command's session, and the logon record go.
    const exit = (): void => void Promise.all([this.hangup?.finished, utmpClosed]).then(() => process.exit(0));
    setTimeout(exit, FLUSH_LIMIT_MS + this.hooks.extraLingerMs()).unref();
    const waitForClients = (): void => {
      if (this.hooks.clientsSettled()) return exit();
      setTimeout(waitForClients, 20).unref();
    };
    waitForClients();
  }
}
