// The rezume client: relays between the user's terminal and ssh, counts
// both directions once the server's hello has come, and after a lost
// connection reconnects and resumes exactly (docs/protocol.md, part 2).
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IPty } from 'node-pty';
import { EscapeSequence } from '../front/escape-sequence.js';
import { ByteRing } from '../session/byte-ring.js';
import type { InbandMessage } from '../inband/inband-message.js';
import { InbandScanner, partBytes } from '../inband/inband-scanner.js';
import { ConnectionNotice } from './connection-notice.js';
import { failureReason, looksLikePrompt } from './failure-reason.js';
import { attemptsCanWait, waitForServer } from './direct-connect.js';
import { leftRunning } from './resume-hint.js';
import type { RezumeOptions } from './rezume-options.js';
import { ServerStream } from './server-stream.js';
import { type SshEndpoint, connectTimeoutSeconds, startSsh } from './ssh-link.js';
import { userFacingSshStderr } from './ssh-stderr.js';

/** The line that says a reconnect found the session gone, and what that cost. */
function sessionReplaced(dropped: number): string {
  const started = 'the session had ended while disconnected; a new one was started';
  if (dropped === 0) return started;
  return `${started}, and the ${dropped === 1 ? 'byte' : `${dropped} bytes`} typed meanwhile ${dropped === 1 ? 'was' : 'were'} dropped`;
}

/** Exit status when the user gives up waiting (as ssh's for a failed connection). */
export const ABANDONED_STATUS = 255;
/** Exit status after a SIGHUP (the terminal closed), as a shell reports one. */
export const HANGUP_STATUS = 128 + 1;
/** After a SIGHUP, how long rezume waits for the session's exit before it leaves anyway. */
const HANGUP_WAIT_MS = 1500;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 8000;
/** A partial in-band prefix at the end of a read is shown after this long. */
const HOLD_MS = 30;

export interface TerminalIo {
  write(data: Buffer | string): void;
  size(): { cols: number; rows: number };
  /** Prints a line for the user after the terminal is back to normal. */
  finish(status: number, message?: string): void;
}

type Phase =
  | 'first' // the first connection, before its hello: a plain ssh so far
  | 'live' // counted stream
  | 'down' // connection lost, waiting to retry
  | 'reconnecting' // an attempt is running (or waiting for the server), before its hello
  | 'ended';

export class RezumeSession {
  private phase: Phase = 'first';
  private ssh: IPty | undefined;
  private scanner = new InbandScanner();
  private holdTimer: NodeJS.Timeout | undefined;
  /** Session output counted, and the server's messages told from it; valid once a hello came. */
  private stream = new ServerStream();
  /** The keys sent since the first hello, for resending. */
  private sent: ByteRing | undefined;
  private helloSeen = false;
  /** This connection is --session's first: the user is arriving at a running session. */
  private arrivedBySession = false;
  private inputLost = 0;
  /** Keys typed during this outage, held for the resend (dropped if the session turns out to be new). */
  private held = 0;
  /** The terminal closed: rezume asked the server to hang the session up and leaves soon. */
  private hangingUp = false;
  private exitStatus: number | undefined;
  private attemptOutput = '';
  /** Keys typed at a prompt during a reconnect go to ssh, uncounted. */
  private promptShown = false;
  private backoff = FIRST_BACKOFF_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** rezume-connect waiting for the server, for an ssh that connects by itself. */
  private serverWait: ChildProcess | undefined;
  private readonly notice: ConnectionNotice;
  /** Enter, the quit key, '.' gives up waiting during an outage. */
  private readonly giveUp: EscapeSequence | undefined;

  constructor(
    private readonly opts: RezumeOptions,
    private readonly sessionId: string,
    private readonly endpoint: SshEndpoint | undefined,
    private readonly term: TerminalIo,
    /** Where each attempt's ssh writes its own messages. */
    private readonly sshStderrFile: string,
  ) {
    this.notice = new ConnectionNotice((s) => term.write(s), opts.statusLine, () => term.size().rows);
    this.giveUp = opts.quitKey === undefined ? undefined : new EscapeSequence(opts.quitKey);
  }

  start(): void {
    this.connect();
  }

  // ---- from the user --------------------------------------------------------

  onUserInput(data: Buffer): void {
    switch (this.phase) {
      case 'first':
        this.ssh?.write(data); // password prompts and such: not counted
        return;
      case 'live':
        this.sent!.append(data);
        this.ssh?.write(data);
        return;
      case 'down':
      case 'reconnecting': {
        if (this.giveUp) {
          const fed = this.giveUp.feed(data);
          if (fed.escaped) return this.end(ABANDONED_STATUS, `rezume: gave up waiting; ${this.leftRunning()}`);
          data = fed.pass;
        }
        if (this.phase === 'reconnecting' && this.promptShown) {
          this.ssh?.write(data);
          return;
        }
        const enter = data.indexOf(0x0d);
        if (this.phase === 'down' && !this.opts.autoReconnect && enter >= 0) {
          this.hold(data.subarray(0, enter)); // --no-auto: Enter reconnects and is not sent
          this.connect();
          return;
        }
        this.hold(data);
        return;
      }
      default:
        return;
    }
  }

  /** Counted now, sent with the resend after the next hello. */
  private hold(keys: Buffer): void {
    this.sent!.append(keys);
    this.held += keys.length;
  }

  onResize(): void {
    const { cols, rows } = this.term.size();
    try {
      this.ssh?.resize(cols, rows);
    } catch {
      // ssh just exited.
    }
  }

  // ---- from ssh -----------------------------------------------------------------

  /**
   * Starts an attempt. `waiting`: at the start of an outage, ssh starts at
   * once and its connection waits for the server (rezume-connect `wait`),
   * so the network's return finds ssh ready; the outage's notice stays.
   */
  private connect(waiting = false): void {
    clearTimeout(this.retryTimer);
    if (this.phase !== 'first') {
      this.phase = 'reconnecting';
      this.promptShown = false;
      this.attemptOutput = '';
      if (!waiting) this.notice.show('reconnecting...');
    }
    this.scanner = new InbandScanner();
    const ssh = startSsh(this.opts, this.sessionId, this.term.size(), this.sshStderrFile, this.endpoint, this.phase !== 'first' && this.opts.autoReconnect);
    this.ssh = ssh;
    ssh.onData((d) => {
      if (this.ssh === ssh) this.onSshOutput(d as unknown as Buffer);
    });
    ssh.onExit(({ exitCode }) => {
      if (this.ssh === ssh) this.onSshExit(exitCode);
    });
  }

  private onSshOutput(chunk: Buffer): void {
    clearTimeout(this.holdTimer);
    for (const part of this.scanner.push(chunk)) {
      const message = 'message' in part ? part.message : undefined;
      if (message && this.expects(message)) this.onMessage(message);
      else this.onStreamBytes(partBytes(part));
    }
    // A lone ESC (or the start of a prefix) at the end of a read is not held for long.
    this.holdTimer = setTimeout(() => {
      const held = this.scanner.flush();
      if (held.length > 0) this.onStreamBytes(held);
    }, HOLD_MS);
  }

  /**
   * Whether a message is the server's: a hello only before the stream, the
   * rest as the connection's ServerStream decides (its nonce, its place).
   * Anything else is the session's own output that happens to look like a message.
   */
  private expects(m: InbandMessage): boolean {
    if (m.kind === 'hello') return this.phase === 'first' || this.phase === 'reconnecting';
    return this.phase === 'live' && this.stream.accepts(m);
  }

  private onStreamBytes(b: Buffer): void {
    if (b.length === 0) return;
    switch (this.phase) {
      case 'first':
        this.term.write(b);
        return;
      case 'live': {
        const shown = this.stream.take(b);
        if (shown.length > 0) this.term.write(shown);
        return;
      }
      case 'reconnecting':
        // What ssh prints before the hello stays off the session's screen,
        // unless it asks the user something.
        this.attemptOutput += b.toString('latin1');
        if (!this.promptShown && looksLikePrompt(this.attemptOutput)) {
          this.promptShown = true;
          this.notice.show('ssh is asking for input');
          this.term.write(this.attemptOutput);
        } else if (this.promptShown) this.term.write(b);
        return;
      default:
        return;
    }
  }

  private onMessage(m: InbandMessage): void {
    switch (m.kind) {
      case 'hello':
        return this.onHello(m.resumed, m.out, m.in, m.n);
      case 'loss':
        this.stream.lost(m.from);
        return this.tellLoss(m.lost, m.from);
      case 'start': {
        const lost = this.stream.start(m.from);
        if (lost > 0) this.tellLoss(lost, m.from);
        return;
      }
      case 'exit':
        this.exitStatus = m.status;
        this.ssh?.write(this.stream.bye());
        return;
      case 'error':
        this.notice.show(`server: ${m.message}`);
        setTimeout(() => this.notice.clear(), 5000).unref();
        return;
      default:
        return;
    }
  }

  /** Output the server no longer had: said in the title, and on a line when the user has just arrived with --session. */
  private tellLoss(lost: number, from: number): void {
    const text = `too far behind: ${lost} bytes of output were lost; continuing from offset ${from}`;
    if (this.arrivedBySession) this.notice.say(text);
    this.notice.show(text);
    setTimeout(() => this.notice.clear(), 5000).unref();
  }

  private onHello(resumed: boolean, out: number, inCount: number, nonce: string | undefined): void {
    const reconnect = this.helloSeen;
    // A held-back escape key was data after all (dropped with the other held keys when the session is new).
    const pending = this.giveUp?.takePending() ?? Buffer.alloc(0);
    let message: string | undefined;
    let rx = this.stream.rx;
    if (!reconnect || !resumed) {
      // A new session (or ours is gone): start counting from its offsets.
      if (reconnect) {
        message = 'the session was gone; a new one was started';
        this.notice.say(sessionReplaced(this.held + pending.length));
      } else if (this.opts.session !== undefined && !resumed) {
        this.notice.say(`there was no session ${this.sessionId} on the server; a new one was started`);
      }
      rx = 0;
      this.sent = new ByteRing(this.opts.buffer, inCount);
    } else this.sent!.append(pending);
    this.arrivedBySession = this.opts.session !== undefined && !reconnect && resumed;
    this.held = 0;
    // More than the server ever sent cannot be: take all it still has rather than risk a gap (greet checks).
    this.stream.greet(nonce, rx, out);
    this.helloSeen = true;
    this.phase = 'live';
    this.backoff = FIRST_BACKOFF_MS;
    this.ssh?.write(this.stream.sync());
    this.resendFrom(inCount);
    this.notice.clear();
    if (this.inputLost > 0) message = `${this.inputLost} typed bytes were lost (over the --buffer size)`;
    if (message) {
      this.notice.show(message);
      setTimeout(() => this.notice.clear(), 5000).unref();
    }
  }

  /**
   * Resends the keys the server lacks ([in, tx)). Keys older than the buffer
   * are lost: the count then restarts at the server's `in`, so that both
   * sides agree again.
   */
  private resendFrom(inCount: number): void {
    const sent = this.sent!;
    this.inputLost = 0;
    if (inCount > sent.end) {
      // The server has more than we sent (another client typed): nothing to resend.
      this.sent = new ByteRing(this.opts.buffer, inCount);
      return;
    }
    const resend = sent.copyFrom(Math.max(inCount, sent.start));
    if (inCount < sent.start) {
      this.inputLost = sent.start - inCount;
      this.sent = new ByteRing(this.opts.buffer, inCount);
      this.sent.append(resend);
    }
    if (resend.length > 0) this.ssh?.write(resend);
  }

  private onSshExit(code: number): void {
    this.ssh = undefined;
    const held = this.scanner.flush();
    if (held.length > 0) this.onStreamBytes(held);
    const sshSaid = this.readSshStderr();
    if (this.exitStatus !== undefined) return this.end(this.exitStatus);
    if (this.hangingUp) return this.end(HANGUP_STATUS);
    if (!this.helloSeen) return this.end(code, sshSaid.trimEnd() || undefined); // never resumable: behave like ssh
    if (this.phase === 'live' && code !== 255) return this.end(code); // the front ended (detached, taken over)
    const why = this.phase === 'reconnecting' ? failureReason(this.attemptOutput + sshSaid) : { text: 'connection lost', hostAnswered: false };
    if (this.phase === 'live') this.giveUp?.reset(); // an outage begins as a line does
    this.phase = 'down';
    this.scheduleRetry(why.text, why.hostAnswered);
  }

  private quitHint(): string {
    return this.giveUp ? `, ${this.giveUp.describe()} quits` : '';
  }

  private readSshStderr(): string {
    try {
      return userFacingSshStderr(readFileSync(this.sshStderrFile, 'latin1'));
    } catch {
      return '';
    }
  }

  private scheduleRetry(why: string, hostAnswered: boolean): void {
    if (!this.opts.autoReconnect) {
      this.notice.show(`${why}; press Enter to reconnect${this.quitHint()}`);
      return;
    }
    const delay = hostAnswered ? this.backoff : 0;
    if (hostAnswered) this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
    this.notice.show(`${why}; reconnecting${delay >= 1000 ? ` in ${Math.round(delay / 1000)} s` : ''}${this.quitHint()}`);
    if (hostAnswered) {
      this.retryTimer = setTimeout(() => this.connect(), delay);
      return;
    }
    // The host did not answer: the network is down, or the server is.
    if (this.endpoint && attemptsCanWait(this.endpoint)) return this.connect(true);
    const wait = this.endpoint && waitForServer(this.endpoint, connectTimeoutSeconds(this.opts));
    if (wait) this.connectOnceAnswered(wait);
    // Through a ProxyJump or ProxyCommand nothing can tell when the server is back.
    else this.retryTimer = setTimeout(() => this.connect(), FIRST_BACKOFF_MS);
  }

  /** For an ssh that connects by itself: connects once rezume-connect's `probe` saw the server answer. */
  private connectOnceAnswered(wait: ChildProcess): void {
    this.serverWait = wait;
    const done = (answered: boolean): void => {
      if (this.serverWait !== wait) return;
      this.serverWait = undefined;
      if (this.phase !== 'down') return;
      if (answered) this.connect();
      else this.retryTimer = setTimeout(() => this.connect(), FIRST_BACKOFF_MS);
    };
    wait.on('exit', (code) => done(code === 0));
    wait.on('error', () => done(false)); // it could not be started
  }

  /** Ends rezume from outside (a signal): the notice is cleared, ssh stopped, a session left running is named. */
  stop(status: number): void {
    this.end(status, this.sessionLeft() ? `rezume: ${this.leftRunning()}` : undefined);
  }

  /**
   * SIGHUP: the user closed the terminal. While connected to a server that
   * knows `hangup` (and without --keep), the session is hung up as sshd
   * would on a closed connection: rezume asks for it, then leaves once the
   * session's exit came or after HANGUP_WAIT_MS. Otherwise rezume just
   * leaves, and the session stays for `rezume --session`.
   */
  hangUp(): void {
    if (this.phase === 'ended' || this.hangingUp) return;
    const request = this.phase === 'live' && !this.opts.keep && this.exitStatus === undefined ? this.stream.hangup() : undefined;
    if (request === undefined) return this.stop(HANGUP_STATUS);
    this.hangingUp = true;
    this.ssh?.write(request);
    setTimeout(() => this.end(this.exitStatus ?? HANGUP_STATUS), HANGUP_WAIT_MS);
  }

  /** A resumable session stays on the server when rezume ends now. */
  private sessionLeft(): boolean {
    return this.helloSeen && this.exitStatus === undefined && !this.hangingUp;
  }

  private leftRunning(): string {
    return leftRunning(this.opts, this.sessionId);
  }

  private end(status: number, message?: string): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    clearTimeout(this.retryTimer);
    clearTimeout(this.holdTimer);
    this.serverWait?.kill();
    this.serverWait = undefined;
    this.notice.clear();
    const ssh = this.ssh;
    this.ssh = undefined;
    ssh?.kill('SIGTERM');
    this.term.finish(status, message);
  }
}
