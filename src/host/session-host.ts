// The session host: one detached process per session that owns the pty and
// the command, keeps the output ring and the byte counts, and serves the
// fronts that attach over the session socket (docs/protocol.md).
import { readSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { spawn as spawnPty, type IPty } from 'node-pty';
import { statusFromExit } from '../cli/exit-codes.js';
import { Diagnostics } from '../log/diagnostics.js';
import { FrameType, ProtocolError, type Frame } from '../protocol/frames.js';
import {
  type AttachRequest,
  type SessionStatus,
  decodeAttach,
  decodeResize,
  decodeSync,
} from '../protocol/messages.js';
import { ByteRing } from '../session/byte-ring.js';
import { SESSION_ENV } from '../session/own-session.js';
import { resolveSocketDir } from '../session/socket-dir.js';
import { ptyMasterFd, ptyMasterOpen, ptyReaderIdle } from '../pty/pty-internals.js';
import { SOCKET_PROTOCOL_VERSION } from '../version.js';
import { pointAgentLink, removeAgentLink } from './agent-link.js';
import { ClientConnection, VIEWER_MAX_BACKLOG } from './client-connection.js';
import { SessionHangup } from './hangup.js';
import { ATTACH_TIMEOUT_MS, type HostReady, type HostSpec, takeHostSpec } from './host-spec.js';
import { idleMemoryTrim } from './memory-trim.js';
import { PtyInput } from './pty-input.js';
import { SessionSocket } from './session-socket.js';
import { UtmpRecorder, findUtempter } from './utmp-recorder.js';

/**
 * How long an ended session waits for a resumable client whose exit notice
 * was not confirmed (it may have been lost with the connection), when no
 * orphan timeout is set.
 */
const EXIT_LINGER_MINUTES = 10;

/** How often the host checks that its socket still exists. */
const SOCKET_CHECK_MS = 5000;

/** At most this much output is read on per flush (`readOn`). */
const READ_ON_BYTES = 64 * 1024;
/**
 * Linux's pty gives at most this much per read when the reader keeps up: a
 * read that size suggests more is waiting; a shorter one (a keystroke's echo)
 * that the pty is empty, so reading on would only cost a syscall.
 */
const FULL_PTY_READ = 4095;

/**
 * At most this many connections may be waiting for their attach or status
 * query at once; more are closed at once (as sshd's MaxStartups), so that
 * what they can make the host hold is bounded too.
 */
const MAX_PENDING_CONNECTIONS = 32;

export class SessionHost {
  private readonly ring: ByteRing;
  private readonly socket: SessionSocket;
  private readonly clients = new Set<ClientConnection>();
  private readonly createdAt = new Date();
  private readonly uid = process.getuid?.() ?? 0;
  private pty: IPty | undefined;
  /** Input on its way into the pty. */
  private input: PtyInput | undefined;
  /** The client whose socket is not read while its input waits for the pty. */
  private inputHeldFor: ClientConnection | undefined;
  private utmp: UtmpRecorder | undefined;
  private writer: ClientConnection | undefined;
  /** Output read from the pty in this event-loop turn, not yet sent. */
  private pendingOutput: Buffer[] = [];
  /** Where `readOn` reads to: copied out at once, so one is enough. */
  private readOnBuffer: Buffer | undefined;
  /** The client whose full socket has the pty paused. */
  private pausedFor: ClientConnection | undefined;
  /** Bytes written into the pty from clients, counted from each sync on. */
  private inCount = 0;
  /** Highest output offset ever sent to a read-write client. */
  private delivered = 0;
  private attachCount = 0;
  private detachedSince: Date | null = new Date();
  private lastClientAddr = '';
  private exitStatus: number | null = null;
  private orphanTimer: NodeJS.Timeout | undefined;
  private ending = false;
  private shutting = false;
  private hangup: SessionHangup | undefined;
  private readonly memoryTrim = idleMemoryTrim();

  constructor(
    private readonly spec: HostSpec,
    private readonly diag: Diagnostics,
  ) {
    this.ring = new ByteRing(spec.bufferSize);
    this.socket = new SessionSocket(spec.socketPath, (s) => this.accept(s));
  }

  /** Claims the socket, starts the command, and reports on `report`. */
  async start(report: (r: HostReady) => void): Promise<void> {
    const claimed = await this.socket.claim();
    if (claimed === 'exists') {
      report({ ok: false, exists: true, message: `session ${this.spec.name} exists` });
      process.exit(0);
    }
    try {
      this.pty = this.spawnCommand();
      this.input = this.inputFor(this.pty);
    } catch (err) {
      this.socket.close();
      report({ ok: false, exists: false, message: `cannot start ${this.spec.command[0]}: ${(err as Error).message}` });
      process.exit(1);
    }
    this.diag.log(2, `session ${this.spec.name}: started ${JSON.stringify(this.spec.command)} as pid ${this.pty.pid}`);
    this.armOrphanTimer();
    setInterval(() => void this.checkSocket(), SOCKET_CHECK_MS).unref();
    process.on('SIGUSR1', () => void this.checkSocket());
    process.on('SIGHUP', () => {}); // detached: a hangup of the old terminal is not ours
    process.on('SIGTERM', () => this.terminate('killed'));
    process.on('SIGINT', () => this.terminate('interrupted'));
    report({ ok: true });
  }

  private spawnCommand(): IPty {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    // A login nested in the session must not find the session's name (and take it over), only what it runs inside.
    delete env.ATSR_ID;
    env[SESSION_ENV] = this.spec.socketPath;
    if (this.spec.agentLink) env.SSH_AUTH_SOCK = this.spec.agentLink;
    const [file, ...args] = this.spec.command;
    const pty = spawnPty(file!, args, {
      name: env.TERM || 'xterm',
      cols: this.spec.cols,
      rows: this.spec.rows,
      cwd: this.spec.cwd,
      env,
      encoding: null,
    });
    pty.onData((data) => this.onOutput(data as unknown as Buffer));
    pty.onExit(({ exitCode, signal }) => this.onCommandExit(statusFromExit(exitCode, signal ?? null)));
    return pty;
  }

  private inputFor(pty: IPty): PtyInput {
    const fd = ptyMasterFd(pty);
    if (fd === undefined) throw new Error('node-pty gave no pty master');
    return new PtyInput({ fd, isOpen: () => ptyMasterOpen(pty) }, this.resumeInput);
  }

  // ---- input ----------------------------------------------------------------

  /**
   * Backpressure on input, as on output: while the pty is not taking a
   * client's input, its socket is not read, so the client's writes wait (and
   * a front stops reading its terminal) instead of the host growing.
   */
  private holdInput(c: ClientConnection): void {
    this.inputHeldFor = c;
    c.socket.pause();
  }

  /** The pty took what waited: read the client on. */
  private readonly resumeInput = (): void => {
    const c = this.inputHeldFor;
    this.inputHeldFor = undefined;
    if (c && !c.socket.destroyed) c.socket.resume();
  };

  // ---- output ---------------------------------------------------------------

  private onOutput(chunk: Buffer): void {
    // What one event-loop turn read goes out as one frame, which saves the
    // front most of its per-chunk work.
    this.pendingOutput.push(chunk);
    if (this.pendingOutput.length === 1) setImmediate(() => this.flushOutput());
  }

  /** Sends the output read so far: call before anything that depends on `out`. */
  private flushOutput(): void {
    if (this.pendingOutput.length === 0) return;
    const readOn = this.readOn();
    const chunk = this.pendingOutput.length === 1 && !readOn ? this.pendingOutput[0]! : Buffer.concat(this.pendingOutput);
    this.pendingOutput = [];
    this.ring.append(chunk);
    this.memoryTrim?.noteOutput(chunk.length);
    for (const c of this.clients) {
      if (!c.streaming) continue;
      const ok = c.sendOutput(chunk);
      if (c === this.writer) {
        this.delivered = c.position;
        // Backpressure: a slow client slows the command instead of growing memory.
        if (!ok) this.pauseFor(c);
      } else if (c.socket.writableLength > VIEWER_MAX_BACKLOG) {
        this.diag.log(1, `dropping read-only viewer ${c.clientAddr}: too far behind`);
        c.drop();
      }
    }
  }

  /**
   * A pty master gives at most ~4 KiB per read, and node-pty reads once per
   * event-loop turn (libuv stops at a short read), so a burst of output would
   * cross the socket and the front's terminal in thousands of 4 KiB frames.
   * While a read-write client takes output as fast as it comes, read on here
   * until the pty has no more (or READ_ON_BYTES): fewer, larger frames. Never
   * while node-pty holds unread output (order) or a client holds the pty
   * paused (backpressure); and not for a detached session, whose ring would
   * only be overrun sooner. Returns whether it appended to pendingOutput.
   */
  private readOn(): boolean {
    const pty = this.pty;
    if (this.pendingOutput[this.pendingOutput.length - 1]!.length < FULL_PTY_READ) return false;
    if (!pty || !this.writer?.streaming || this.pausedFor || this.ending || this.exitStatus !== null || !ptyReaderIdle(pty)) return false;
    const fd = ptyMasterFd(pty);
    if (fd === undefined) return false;
    const buf = (this.readOnBuffer ??= Buffer.allocUnsafe(READ_ON_BYTES));
    let at = 0;
    while (at < READ_ON_BYTES) {
      try {
        const n = readSync(fd, buf, at, READ_ON_BYTES - at, null);
        if (n <= 0) break;
        at += n;
      } catch {
        break; // EAGAIN: nothing more for now; EIO: the command is gone, and node-pty will see it too
      }
    }
    if (at > 0) this.pendingOutput.push(buf.subarray(0, at));
    return at > 0;
  }

  private pauseFor(c: ClientConnection): void {
    if (this.pausedFor === c) return;
    this.resumeOutput(); // at most one client holds the pty
    this.pausedFor = c;
    this.pty?.pause();
    c.socket.once('drain', this.resumeOutput);
    c.socket.once('close', this.resumeOutput);
  }

  /** Lets the command write again (its client drained, left, or was cut off). */
  private readonly resumeOutput = (): void => {
    const c = this.pausedFor;
    if (!c) return;
    this.pausedFor = undefined;
    c.socket.off('drain', this.resumeOutput);
    c.socket.off('close', this.resumeOutput);
    if (!this.ending) this.pty?.resume();
  };

  /** Starts streaming to `c` from `rx` (null: from what no client was sent). */
  private startStreaming(c: ClientConnection, rx: number | null): void {
    this.flushOutput();
    const out = this.ring.end;
    let from = rx === null || rx > out ? Math.min(this.delivered, out) : rx;
    if (from < this.ring.start) {
      c.sendJson(FrameType.loss, { lost: this.ring.start - from, from: this.ring.start });
      this.diag.log(1, `session ${this.spec.name}: ${this.ring.start - from} bytes of output lost to the client`);
      from = this.ring.start;
    }
    c.position = from;
    const replay = this.ring.copyFrom(from);
    const ok = replay.length === 0 || c.sendOutput(replay);
    if (c === this.writer) {
      this.delivered = Math.max(this.delivered, c.position);
      if (!ok) this.pauseFor(c);
    }
    if (this.exitStatus !== null) this.deliverExit(c);
  }

  // ---- clients ----------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.pendingCount() >= MAX_PENDING_CONNECTIONS) {
      this.diag.log(1, `session ${this.spec.name}: ${MAX_PENDING_CONNECTIONS} connections have not attached yet; closing a new one`);
      socket.destroy();
      return;
    }
    const limitMs = this.spec.attachTimeoutMs || ATTACH_TIMEOUT_MS; // a spec from before the limit has none
    const c = new ClientConnection(socket, limitMs);
    this.clients.add(c);
    c.setDeadline(limitMs, () => {
      this.diag.log(1, `session ${this.spec.name}: dropping a connection that did not attach within ${limitMs} ms`);
      c.drop();
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = c.decode(chunk);
        for (const f of frames) this.onFrame(c, f);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.diag.log(1, `session ${this.spec.name}: dropping a connection: ${err.message}`);
        c.drop();
      }
    });
    socket.on('end', () => {
      if (c.decoder.buffered > 0) this.diag.log(1, `session ${this.spec.name}: connection ended inside a frame (truncated)`);
      socket.end();
    });
    socket.on('error', (err) => this.diag.log(3, `client socket: ${err.message}`));
    socket.on('close', () => this.onClientGone(c));
  }

  private pendingCount(): number {
    let n = 0;
    for (const c of this.clients) if (c.role === 'pending') n++;
    return n;
  }

  private onFrame(c: ClientConnection, f: Frame): void {
    if (c.isClosed) return;
    if (c.role === 'pending') {
      c.clearDeadline();
      if (f.type === FrameType.attach) return this.onAttach(c, decodeAttach(f));
      if (f.type === FrameType.statusQuery) {
        c.role = 'query';
        return c.finish(FrameType.status, this.status());
      }
      throw new ProtocolError(`first frame must be attach or status query, not 0x${f.type.toString(16)}`);
    }
    switch (f.type) {
      case FrameType.sync: {
        if (c.position >= 0) throw new ProtocolError('a second sync on one connection');
        const { rx } = decodeSync(f);
        if (rx !== null && rx > this.ring.end) {
          this.diag.log(1, `session ${this.spec.name}: client claims rx ${rx} beyond out ${this.ring.end}; plain attach`);
        }
        return this.startStreaming(c, rx);
      }
      case FrameType.exitAck:
        c.exitAcked = true;
        return c.finish();
      case FrameType.input:
      case FrameType.inputUncounted:
        if (c !== this.writer || this.exitStatus !== null) return; // viewers' keys are discarded
        this.input?.write(f.payload);
        if (f.type === FrameType.input) this.inCount += f.payload.length;
        if (this.input?.full) this.holdInput(c);
        return;
      case FrameType.resize:
        if (c === this.writer) this.resizePty(decodeResize(f));
        return;
      default:
        throw new ProtocolError(`unexpected frame 0x${f.type.toString(16)} from an attached client`);
    }
  }

  private onAttach(c: ClientConnection, req: AttachRequest): void {
    this.flushOutput(); // the welcome's offsets include everything read so far
    if (this.ending) return c.finish(FrameType.refused, { reason: 'exiting', message: 'the session is ending' });
    c.clientAddr = req.clientAddr;
    c.resumable = req.sync;
    if (req.readOnly) {
      c.role = 'viewer';
    } else {
      const old = this.writer;
      if (old && !old.isClosed) {
        if (!req.force) {
          c.role = 'query';
          return c.finish(FrameType.refused, {
            reason: 'busy',
            message: `session ${this.spec.name} is attached${old.clientAddr ? ` from ${old.clientAddr}` : ''} (use -f to take it over, -r to watch)`,
          });
        }
        // Cut the old front off before the offsets are taken, so that nothing
        // it still sends is counted.
        old.role = 'query';
        // A stale front stops reading; its full socket must not keep the command paused.
        if (this.pausedFor === old) this.resumeOutput();
        old.finish(FrameType.detached, { reason: 'taken-over', message: `session taken over${req.clientAddr ? ` from ${req.clientAddr}` : ''}` });
      }
      c.role = 'writer';
      this.writer = c;
      this.attachCount++;
      this.detachedSince = null;
      this.lastClientAddr = req.clientAddr;
      this.clearOrphanTimer();
      if (this.exitStatus === null) {
        this.resizePty({ rows: Math.max(1, req.rows), cols: Math.max(1, req.cols) });
        if (req.updateUtmp) this.recordUtmp(req.clientAddr);
        this.pointAgent(req.agentSocket);
      }
    }
    this.diag.log(2, `session ${this.spec.name}: ${c.role} attached from ${req.clientAddr || 'local'} (sync ${req.sync})`);
    c.sendJson(FrameType.welcome, {
      v: SOCKET_PROTOCOL_VERSION,
      name: this.spec.name,
      resumed: c.role === 'writer' ? this.attachCount > 1 : true,
      out: this.ring.end,
      in: this.inCount,
      bufferSize: this.ring.capacity,
    });
    if (!req.sync) this.startStreaming(c, null);
  }

  private onClientGone(c: ClientConnection): void {
    this.clients.delete(c);
    if (c !== this.writer) return;
    this.writer = undefined;
    this.detachedSince = new Date();
    this.diag.log(2, `session ${this.spec.name}: detached`);
    if (this.exitStatus !== null && c.position >= 0 && (!c.resumable || c.exitAcked)) return this.shutDown(); // it got the exit status
    // An unconfirmed exit notice may have died with the connection: wait for the client to come back.
    this.armOrphanTimer(this.exitStatus !== null && c.position >= 0 ? EXIT_LINGER_MINUTES : 0);
  }

  private resizePty(size: { rows: number; cols: number }): void {
    try {
      this.pty?.resize(size.cols, size.rows);
    } catch (err) {
      // The command may have just exited and node-pty closed the master.
      this.diag.log(3, `resize: ${(err as Error).message}`);
    }
  }

  private recordUtmp(clientAddr: string): void {
    if (!this.utmp) {
      const helper = findUtempter();
      const fd = this.pty ? ptyMasterFd(this.pty) : undefined;
      if (!helper || fd === undefined) {
        this.diag.log(1, 'utmp: no utempter helper found; logon records are off');
        return;
      }
      this.utmp = new UtmpRecorder(helper, fd, this.diag);
    }
    this.utmp.record(clientAddr);
  }

  private pointAgent(agentSocket: string): void {
    try {
      pointAgentLink(this.spec.agentLink, agentSocket);
    } catch (err) {
      this.diag.log(1, `agent link: ${(err as Error).message}`);
    }
  }

  // ---- lifecycle --------------------------------------------------------------

  private onCommandExit(status: number): void {
    this.flushOutput();
    this.exitStatus = status;
    this.input?.close();
    this.diag.log(2, `session ${this.spec.name}: command exited with status ${status}`);
    this.utmp?.close();
    for (const c of this.clients) if (c.streaming) this.deliverExit(c);
    if (this.ending) return this.shutDown();
  }

  private deliverExit(c: ClientConnection): void {
    if (c.exitSent) return;
    c.exitSent = true;
    const notice = { status: this.exitStatus, out: this.ring.end };
    // A resumable client's front closes after the client confirms (exitAck).
    if (c.resumable) c.sendJson(FrameType.exit, notice);
    else c.finish(FrameType.exit, notice);
  }

  private armOrphanTimer(fallbackMinutes = 0): void {
    this.clearOrphanTimer();
    const minutes = this.spec.orphanMinutes > 0 ? this.spec.orphanMinutes : fallbackMinutes;
    if (minutes <= 0) return;
    this.orphanTimer = setTimeout(() => {
      this.diag.log(1, `session ${this.spec.name}: no client for ${minutes} min; ending it`);
      this.terminate('orphaned');
    }, minutes * 60_000);
  }

  private clearOrphanTimer(): void {
    if (this.orphanTimer) clearTimeout(this.orphanTimer);
    this.orphanTimer = undefined;
  }

  /** Hangs the command up (if it still runs) and ends the session. */
  private terminate(why: string): void {
    if (this.ending) return;
    this.ending = true;
    this.diag.log(2, `session ${this.spec.name}: terminating (${why})`);
    this.clearOrphanTimer();
    this.socket.close();
    this.input?.close(); // what still waits will never be read
    // Also after the command exited: what it left running in its session goes with the session.
    if (this.pty) this.hangup = new SessionHangup(this.pty, this.exitStatus === null).start();
    if (this.exitStatus !== null || !this.pty) return this.shutDown();
    this.utmp?.close();
  }

  private shutDown(): void {
    if (this.shutting) return;
    this.shutting = true;
    this.clearOrphanTimer();
    this.socket.close();
    removeAgentLink(this.spec.agentLink);
    this.utmp?.close();
    for (const c of this.clients) {
      if (c.streaming && this.exitStatus !== null) this.deliverExit(c);
      else c.finish(FrameType.detached, { reason: 'hung-up', message: 'the session ended' });
    }
    // Let the last frames flush, and a hangup finish with the command's session.
    const exit = (): void => void (this.hangup?.finished ?? Promise.resolve()).then(() => process.exit(0));
    setTimeout(exit, 1000).unref();
    const waitForClients = (): void => {
      if ([...this.clients].every((c) => c.socket.destroyed || c.socket.writableLength === 0)) return exit();
      setTimeout(waitForClients, 20).unref();
    };
    waitForClients();
  }

  private async checkSocket(): Promise<void> {
    if (this.ending) return;
    let why: string | undefined;
    try {
      if (await this.socket.ensurePresent(() => this.locateSocket((w) => (why = w)))) {
        this.diag.log(1, `session ${this.spec.name}: socket bound at ${this.socket.path}${why ? ` (${why})` : ''}`);
      }
    } catch (err) {
      this.diag.log(1, `session ${this.spec.name}: cannot recreate socket: ${(err as Error).message}`);
    }
  }

  /** Where the socket belongs now, its directories made as a front makes them; `warn` gets the fallback's warning. */
  private locateSocket(warn: (warning: string) => void): string {
    const { candidates, fallbacks } = this.spec.socketDirs;
    const dir = resolveSocketDir(candidates, this.spec.name, { uid: this.uid }, fallbacks);
    if (dir.warning) warn(dir.warning);
    return join(dir.dir, this.spec.name);
  }

  private status(): SessionStatus {
    let owner = String(this.uid);
    try {
      owner = userInfo().username;
    } catch {
      // No passwd entry: the uid will do.
    }
    return {
      name: this.spec.name,
      pid: process.pid,
      owner,
      uid: this.uid,
      command: this.spec.command,
      createdAt: this.createdAt.toISOString(),
      attached: this.writer !== undefined,
      viewers: [...this.clients].filter((c) => c.role === 'viewer').length,
      detachedSince: this.detachedSince ? this.detachedSince.toISOString() : null,
      clientAddr: this.lastClientAddr,
      exited: this.exitStatus !== null,
      exitStatus: this.exitStatus,
      out: this.ring.end,
      in: this.inCount,
      bufferSize: this.ring.capacity,
    };
  }
}

/** Entry point of the host role (started by a front with HOST_ROLE_ARG). */
export async function runSessionHost(): Promise<void> {
  const spec = takeHostSpec(process.env);
  process.title = `atsr: ${spec.name}`;
  const diag = new Diagnostics({ level: spec.diagLevel, file: spec.diagFile || undefined, toStderr: false, role: 'host' });
  // One stray exception must not take a user's session down with it.
  process.on('uncaughtException', (err) => diag.log(1, `internal error: ${err.stack ?? err.message}`));
  const host = new SessionHost(spec, diag);
  await host.start((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  });
}
