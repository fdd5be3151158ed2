// The session host: one detached process per session that owns the pty and
// the command, and serves the clients that attach over the session socket
// (docs/protocol.md): here the connections and the attach policy; the
// output flow, the lifecycle, each protocol version's client (front-client.ts,
// relay-client.ts) and the socket's upkeep have files of their own.
import { userInfo } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { statusFromExit } from '../cli/exit-codes.js';
import { Diagnostics } from '../log/diagnostics.js';
import { FrameType, ProtocolError, type Frame } from '../protocol/frames.js';
import { encodeScreen } from '../protocol/screen-message.js';
import { RELAY_PROTOCOL_VERSION, type SessionStatus, attachVersion, decodeAttach, decodeAttachV2 } from '../protocol/messages.js';
import { SESSION_ENV } from '../session/own-session.js';
import { PtyProcess } from '../pty/pty-process.js';
import { pointAgentLink, removeAgentLink } from './agent-link.js';
import { BYE_TIMEOUT_MS } from './client-handshake.js';
import { type AttachedClient, ClientConnection } from './client-connection.js';
import { type AcceptedHandle, readClient } from './client-reader.js';
import { DrawnSizes } from './drawn-sizes.js';
import { FrontClient, type FrontSession } from './front-client.js';
import { hostNative } from './host-native.js';
import { ATTACH_TIMEOUT_MS, type HostReady, type HostSpec, takeHostSpec } from './host-spec.js';
import { OutputFlow, type StreamStart } from './output-flow.js';
import { PtyInput } from './pty-input.js';
import { CTRL_L, signalRedraw } from './redraw-signal.js';
import { RelayClient, type RelaySession } from './relay-client.js';
import { EXIT_LINGER_MINUTES, SessionLifecycle } from './session-lifecycle.js';
import { type ClaimResult, SessionSocket } from './session-socket.js';
import { SocketKeeper } from './socket-keeper.js';
import { UtmpRecorder, findUtempter } from './utmp-recorder.js';

/**
 * At most this many connections may be waiting for their attach or status
 * query at once; more are closed at once (as sshd's MaxStartups), so that
 * what they can make the host hold is bounded too.
 */
const MAX_PENDING_CONNECTIONS = 32;

export class SessionHost implements FrontSession, RelaySession {
  private readonly output: OutputFlow;
  private readonly life: SessionLifecycle;
  private readonly socket: SessionSocket;
  private readonly socketKeeper: SocketKeeper;
  private readonly clients = new Set<ClientConnection>();
  /** The pty's sizes along the output, for a front's screen repaint. */
  private readonly drawnSizes: DrawnSizes;
  private readonly createdAt = new Date();
  private readonly uid = process.getuid?.() ?? 0;
  private pty: PtyProcess | undefined;
  /** Input on its way into the pty. */
  private input: PtyInput | undefined;
  /** The client whose socket is not read while its input waits for the pty. */
  private inputHeldFor: ClientConnection | undefined;
  /** undefined until the first read-write attach; null: records are off. */
  private utmp: UtmpRecorder | null | undefined;
  private writer: ClientConnection | undefined;
  /** Bytes written into the pty from clients, counted from each sync on. */
  private inCount = 0;
  private attachCount = 0;
  private detachedSince: Date | null = new Date();
  private lastClientAddr = '';

  constructor(
    private readonly spec: HostSpec,
    private readonly diag: Diagnostics,
  ) {
    this.drawnSizes = new DrawnSizes({ cols: spec.cols, rows: spec.rows });
    this.output = new OutputFlow(
      spec.bufferSize,
      {
        clients: () => this.clients,
        writer: () => this.writer,
        pty: () => this.pty,
        ending: () => this.life.ending,
        stopped: () => this.life.ending || this.life.exited,
      },
      diag,
    );
    this.life = new SessionLifecycle(
      spec.name,
      spec.orphanMinutes,
      {
        pty: () => this.pty,
        closeSocket: () => {
          this.socketKeeper.stop();
          this.socket.close();
        },
        closeInput: () => this.input?.close(),
        closeUtmp: () => this.utmp?.close() ?? Promise.resolve(),
        removeAgentLink: () => removeAgentLink(this.spec.agentLink),
        announceExit: () => {
          for (const c of this.clients) if (c.streaming) this.deliverExit(c);
        },
        sayGoodbye: () => this.sayGoodbye(),
        // A relay client waiting for its bye is not done until its end frame went.
        clientsSettled: () =>
          [...this.clients].every((c) => c.socket.destroyed || (c.socket.writableLength === 0 && (c.client?.version !== 2 || c.isClosed))),
        extraLingerMs: () => ([...this.clients].some((c) => c.client?.version === 2 && !c.isClosed) ? BYE_TIMEOUT_MS : 0),
      },
      diag,
    );
    this.socket = new SessionSocket(spec.socketPath, (s) => this.accept(s));
    this.socketKeeper = new SocketKeeper(this.socket, { name: spec.name, uid: this.uid, socketDirs: spec.socketDirs }, hostNative(), diag);
  }

  /** Claims the socket, starts the command, and reports on `report`. */
  async start(report: (r: HostReady) => void): Promise<void> {
    let claimed: ClaimResult;
    try {
      claimed = await this.socket.claim();
    } catch (err) {
      report({ ok: false, exists: false, message: `cannot listen on ${this.socket.path}: ${(err as Error).message}` });
      process.exit(1);
    }
    if (claimed === 'exists') {
      report({ ok: false, exists: true, message: `session ${this.spec.name} exists` });
      process.exit(0);
    }
    try {
      this.pty = this.spawnCommand();
      this.input = this.inputFor(this.pty);
      if (this.spec.holdForCreator) this.output.holdForCreator(this.attachLimitMs);
    } catch (err) {
      this.socket.close();
      report({ ok: false, exists: false, message: `cannot start ${this.spec.command[0]}: ${(err as Error).message}` });
      process.exit(1);
    }
    this.diag.log(2, `session ${this.spec.name}: started ${JSON.stringify(this.spec.command)} as pid ${this.pty.pid}`);
    this.life.armOrphanTimer();
    this.socketKeeper.start();
    process.on('SIGUSR1', () => void this.socketKeeper.check());
    process.on('SIGHUP', () => {}); // detached: a hangup of the old terminal is not ours
    process.on('SIGTERM', () => this.life.terminate('killed'));
    process.on('SIGINT', () => this.life.terminate('interrupted'));
    report({ ok: true });
  }

  private spawnCommand(): PtyProcess {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    // A login nested in the session must not find the session's name (and take it over), only what it runs inside.
    delete env.ATSR_ID;
    env[SESSION_ENV] = this.spec.socketPath;
    if (this.spec.agentLink) env.SSH_AUTH_SOCK = this.spec.agentLink;
    const [file, ...args] = this.spec.command;
    const options = { file: file!, args, env, cwd: this.spec.cwd || process.cwd(), cols: this.spec.cols, rows: this.spec.rows };
    return new PtyProcess(options, {
      onData: (buf, length) => this.output.onOutput(buf, length),
      onExit: (code, signal) => this.onCommandExit(statusFromExit(code, signal)),
      onReadError: (err) => this.diag.log(1, `pty: ${err.message}`),
    });
  }

  private inputFor(pty: PtyProcess): PtyInput {
    return new PtyInput({ fd: pty.fd, isOpen: () => pty.open }, this.resumeInput);
  }

  // ---- input ----------------------------------------------------------------

  /** Input from `c` into the pty; only the read-write client's, and only while the command runs. */
  write(c: ClientConnection, bytes: Buffer, counted: boolean): void {
    if (c !== this.writer || this.life.exited) return; // viewers' keys are discarded
    this.input?.write(bytes);
    if (counted) this.inCount += bytes.length;
    if (this.input?.full) this.holdInput(c);
  }

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

  // ---- streams --------------------------------------------------------------

  startFor(rx: number | null): StreamStart {
    return this.output.startFor(rx);
  }

  /** Starts streaming to `c` at `from` (a StreamStart's); the exit notice follows if the command is gone. */
  stream(c: ClientConnection, from: number): void {
    this.output.stream(c, from, c === this.writer);
    if (this.life.exited) this.deliverExit(c);
  }

  resize(c: ClientConnection, size: { rows: number; cols: number }): void {
    if (c === this.writer) this.resizePty(size);
  }

  note(level: 1 | 2 | 3, text: string): void {
    this.diag.log(level, `session ${this.spec.name}: ${text}`);
  }

  // ---- clients ----------------------------------------------------------------

  /** How long a connection has to attach (and a new session's output waits for its creator). */
  private get attachLimitMs(): number {
    return this.spec.attachTimeoutMs || ATTACH_TIMEOUT_MS; // a spec from before the limit has none
  }

  private accept(accepted: AcceptedHandle): void {
    // Each chunk is valid only during the call: what is kept is copied on the way.
    // (Nothing is read before the next turn of the event loop, by when `c` is set.)
    const socket = readClient(accepted, (chunk) => {
      try {
        for (const f of c.decode(chunk)) this.onFrame(c, f);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        this.diag.log(1, `session ${this.spec.name}: dropping a connection: ${err.message}`);
        c.drop();
      }
    });
    if (this.pendingCount() >= MAX_PENDING_CONNECTIONS) {
      this.diag.log(1, `session ${this.spec.name}: ${MAX_PENDING_CONNECTIONS} connections have not attached yet; closing a new one`);
      socket.destroy();
      return;
    }
    const limitMs = this.attachLimitMs;
    const c = new ClientConnection(socket, limitMs);
    this.clients.add(c);
    c.setDeadline(limitMs, () => {
      this.diag.log(1, `session ${this.spec.name}: dropping a connection that did not attach within ${limitMs} ms`);
      c.drop();
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
    // Past its first frame a connection that is still open has attached.
    if (c.role !== 'pending') return c.client?.onFrame(f);
    c.clearDeadline();
    switch (f.type) {
      case FrameType.attach:
        return this.onAttach(c, f);
      case FrameType.statusQuery:
        c.role = 'query';
        return c.finish(FrameType.status, this.status());
      case FrameType.screenQuery:
        c.role = 'query';
        return c.finishWith(this.screen());
      default:
        throw new ProtocolError(`first frame must be attach or status query, not 0x${f.type.toString(16)}`);
    }
  }

  private onAttach(c: ClientConnection, f: Frame): void {
    this.output.flush(); // the welcome's (or hello's) offsets include everything read so far
    const client: AttachedClient =
      attachVersion(f) >= RELAY_PROTOCOL_VERSION ? new RelayClient(c, decodeAttachV2(f), this) : new FrontClient(c, decodeAttach(f), this);
    c.client = client;
    if (this.life.ending) return client.refuse('ending', 'the session is ending');
    c.clientAddr = client.req.clientAddr;
    const busy = this.admit(c, client.req);
    if (busy) {
      c.role = 'query';
      return client.refuse('busy', busy);
    }
    this.diag.log(2, `session ${this.spec.name}: ${c.role} attached from ${client.req.clientAddr || 'local'} ${client.describe()}`);
    client.accept({
      id: this.spec.name,
      resumed: this.resumedFor(c),
      out: this.output.ring.end,
      in: this.inCount,
      buf: this.output.ring.capacity,
    });
  }

  /**
   * The attach policy, for both versions: a viewer always; a read-write
   * client when nobody writes, or by taking over (-f). Returns why it is
   * refused (busy), or undefined once `c` has its role.
   */
  private admit(c: ClientConnection, req: AttachedClient['req']): string | undefined {
    this.output.trimWhenQuiet();
    if (req.readOnly) {
      c.role = 'viewer';
      return undefined;
    }
    const old = this.writer;
    if (old && !old.isClosed) {
      if (!req.force) {
        return `session ${this.spec.name} is attached${old.clientAddr ? ` from ${old.clientAddr}` : ''} (use -f to take it over, -r to watch)`;
      }
      // Cut the old client off before the offsets are taken, so that nothing
      // it still sends is counted.
      old.role = 'query';
      // A stale client stops reading; its full socket must not keep the command paused.
      this.output.release(old);
      const message = `session taken over${req.clientAddr ? ` from ${req.clientAddr}` : ''}`;
      old.client?.leave('taken-over', message);
    }
    c.role = 'writer';
    this.writer = c;
    this.attachCount++;
    this.detachedSince = null;
    this.lastClientAddr = req.clientAddr;
    this.life.clearOrphanTimer();
    if (!this.life.exited) {
      c.resizedOnAttach = this.resizePty({ rows: Math.max(1, req.rows), cols: Math.max(1, req.cols) });
      if (req.updateUtmp) this.recordUtmp(req.clientAddr);
      this.pointAgent(req.agentSocket);
    }
    return undefined;
  }

  /** The screen frame: the ring and the sizes it was drawn at, for a front's repaint. */
  private screen(): Buffer {
    const ring = this.output.ring;
    this.output.flush();
    const state = { start: ring.start, out: ring.end, delivered: this.output.deliveredUpTo, sizes: this.drawnSizes.since(ring.start) };
    return encodeScreen(state, ring.copyFrom(ring.start));
  }

  /**
   * dtach's redraw methods, for a read-write plain attach that asked for one
   * (the screen repaint is the front's): the program draws itself again.
   */
  redrawFor(c: ClientConnection, method: 'winch' | 'ctrl_l'): void {
    if (c !== this.writer || this.life.exited || !this.pty) return;
    if (method === 'ctrl_l') this.input?.write(CTRL_L); // not counted: no client typed it
    // A second SIGWINCH would only make the program draw its screen twice.
    else if (!c.resizedOnAttach) signalRedraw(this.pty.pid);
  }

  private resumedFor(c: ClientConnection): boolean {
    return c.role === 'writer' ? this.attachCount > 1 : true;
  }

  /** A client's `hangup`: only the read-write client may end the session so. */
  hangup(c: ClientConnection): void {
    if (c !== this.writer) return;
    this.life.terminate(`hung up by the client${c.clientAddr ? ` from ${c.clientAddr}` : ''}`);
  }

  private onClientGone(c: ClientConnection): void {
    this.clients.delete(c);
    if (c !== this.writer) return;
    this.writer = undefined;
    this.detachedSince = new Date();
    this.diag.log(2, `session ${this.spec.name}: detached`);
    if (this.life.exited && c.position >= 0 && (!c.resumable || c.exitAcked)) return this.life.shutDown(); // it got the exit status
    // An unconfirmed exit notice may have died with the connection: wait for the client to come back.
    this.life.armOrphanTimer(this.life.exited && c.position >= 0 ? EXIT_LINGER_MINUTES : 0);
  }

  /** True if the size changed: the kernel sent the pty's foreground group a SIGWINCH. */
  private resizePty(size: { rows: number; cols: number }): boolean {
    this.output.flush(); // what was read so far was drawn at the old size
    if (!this.drawnSizes.record(this.output.ring.end, size, this.output.ring.start) || !this.pty) return false;
    try {
      this.pty.resize(size.cols, size.rows);
      return true;
    } catch (err) {
      // The command may have just exited and the reader closed the master.
      this.diag.log(3, `resize: ${(err as Error).message}`);
      return false;
    }
  }

  private recordUtmp(clientAddr: string): void {
    if (this.utmp === undefined) {
      if (!this.pty?.open) return; // the command's pty is gone, and its fd number may be another file's
      this.utmp = this.utmpRecorder(this.pty.fd);
    }
    this.utmp?.record(clientAddr);
  }

  /** A recorder for the pty master `fd`, or null (said once) where records cannot be written. */
  private utmpRecorder(fd: number): UtmpRecorder | null {
    const helper = findUtempter();
    if (!helper) {
      this.diag.log(1, 'utmp: no utempter helper found; logon records are off');
      return null;
    }
    const copy = hostNative()?.dup(fd) ?? -1;
    if (copy < 0) {
      this.diag.log(1, 'utmp: host-native.node is missing or cannot duplicate the pty; logon records are off');
      return null;
    }
    return new UtmpRecorder(helper, copy, this.diag);
  }

  private pointAgent(agentSocket: string): void {
    try {
      pointAgentLink(this.spec.agentLink, agentSocket);
    } catch (err) {
      this.diag.log(1, `agent link: ${(err as Error).message}`);
    }
  }

  // ---- exit -------------------------------------------------------------------

  private onCommandExit(status: number): void {
    this.output.flush();
    this.life.commandExited(status);
  }

  private deliverExit(c: ClientConnection): void {
    if (c.exitSent) return;
    c.exitSent = true;
    c.client?.exit(this.life.exitStatus!, this.output.ring.end);
  }

  /** At shutdown: the exit status to whoever streams, and to the others that the session ended. */
  private sayGoodbye(): void {
    for (const c of this.clients) {
      if (c.streaming && this.life.exited) this.deliverExit(c);
      else if (c.client) c.client.leave('hung-up', 'the session ended');
      else c.finish(FrameType.detached, { reason: 'hung-up', message: 'the session ended' }); // not attached yet: as version 1 says it
    }
  }

  private status(): SessionStatus {
    let owner = String(this.uid);
    try {
      owner = userInfo().username;
    } catch {
      // No passwd entry: the uid will do.
    }
    return {
      v: RELAY_PROTOCOL_VERSION,
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
      exited: this.life.exited,
      exitStatus: this.life.exitStatus,
      out: this.output.ring.end,
      in: this.inCount,
      bufferSize: this.output.ring.capacity,
    };
  }
}

/**
 * The host runs little JavaScript per event and spends its time in syscalls.
 * V8's optimizing compilers (Maglev, TurboFan) would compile its hot paths
 * on background threads, and deoptimize them, while its user types: that was
 * most of the host's keystroke tail (p99 1.0–1.5 ms over the raw pty; with
 * them off 0.25–0.6 ms here, docs/benchmarks.md). Interpreted and baseline code
 * is fast enough for the rest. Flags set at run time apply from then on.
 */
function withoutOptimizingCompilers(): void {
  setFlagsFromString('--no-maglev');
  setFlagsFromString('--no-turbofan');
}

/** Entry point of the host role (started by a front with HOST_ROLE_ARG). */
export async function runSessionHost(): Promise<void> {
  withoutOptimizingCompilers();
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
