// `atsr [options] <session_name> <command...>`: the front's decisions, from
// the options to a running, attached session (docs/atsr.md).
import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { Diagnostics } from '../log/diagnostics.js';
import { type AtsrOptions, parseOptions } from './options.js';
import { AtsrError, ExitCode } from './exit-codes.js';
import { nameProblem } from '../session/name.js';
import { MAX_SOCKET_PATH_BYTES, type SocketDir, resolveSocketDir } from '../session/socket-dir.js';
import { socketDirChoice } from './socket-dir-choice.js';
import { findCommand } from '../session/find-command.js';
import { agentLinkPath } from '../session/internal-names.js';
import { SESSION_ENV, isOwnSession } from '../session/own-session.js';
import { runList } from '../list/list-command.js';
import { DirHandle } from '../session/dir-handle.js';
import { removeStaleSocket } from '../session/stale-socket.js';
import { attachSession, clientFields, connectSocket, type SyncHandshake } from '../front/attach-session.js';
import { execRelay, hostVersion, relayFile } from '../front/relay-front.js';
import { RELAY_PROTOCOL_VERSION } from '../protocol/messages.js';
import { redrawMethodFor } from '../front/redraw-method.js';
import { showScreen } from '../front/screen-on-attach.js';
import { runDirect } from '../front/run-direct.js';
import { startHost } from '../host/start-host.js';
import { attachTimeoutFrom } from '../host/host-spec.js';

/** Supplied by the resume layer (src/inband/) for `-s` with an ATSR_ID client. */
export type HandshakeFactory = (opts: AtsrOptions) => SyncHandshake | undefined;

export async function runAtsr(argv: string[], makeHandshake: HandshakeFactory): Promise<number> {
  const parsed = parseOptions(argv, process.env);
  if (parsed.kind === 'printed') return ExitCode.ok;
  const opts = parsed.options;
  const diag = new Diagnostics({ level: opts.diagLevel, file: opts.diagFile, toStderr: true, role: 'front' });
  if (opts.action === 'list') return runList(opts);

  // Where a resumable session cannot be had, -t/-c still run the command.
  const fallsBack = opts.action === 'attach-or-create' || opts.action === 'create';
  const cannot = (err: AtsrError): number => {
    if (fallsBack) return runDirect(opts.command, err.message);
    throw err;
  };

  const problem = nameProblem(opts.name);
  if (problem) {
    const what = opts.nameVar ? `${problem} (from $${opts.nameVar})` : problem;
    return cannot(new AtsrError(what, ExitCode.badName));
  }
  const name = opts.name!;
  const socketDirs = socketDirChoice(opts);
  let dir: SocketDir;
  try {
    dir = resolveSocketDir(socketDirs.candidates, name, { uid: process.getuid!() }, socketDirs.fallbacks);
  } catch (err) {
    if (err instanceof AtsrError) return cannot(err);
    throw err;
  }
  if (dir.warning) process.stderr.write(`atsr: ${dir.warning}\n`);
  const socketPath = join(dir.dir, name);
  diag.log(3, `socket ${socketPath}`);
  if (opts.action !== 'create-detached' && isOwnSession(socketPath, process.env)) {
    return cannot(new AtsrError(`this terminal is inside session ${name} already ($${SESSION_ENV})`, ExitCode.sessionBusy));
  }

  let sock = await tryConnect(dir.dir, name);
  if (sock && (opts.action === 'create' || opts.action === 'create-detached')) {
    sock.destroy();
    throw new AtsrError(`session ${name} exists already`, ExitCode.sessionExists);
  }
  if (!sock && opts.action === 'attach') throw new AtsrError(`no session named ${name} (in ${dir.dir})`, ExitCode.noSession);
  // Only now is a terminal needed: the exit codes above hold with or without one.
  // isatty, not process.stdin: a stdin stream would leave fd 0 non-blocking for the command runDirect execs.
  if (opts.action !== 'create-detached' && !isatty(0)) {
    sock?.destroy();
    return cannot(new AtsrError('standard input is not a terminal', ExitCode.noTty));
  }
  /** This front started the host: it runs this executable, and its output waits for this attach. */
  let startedHere = false;
  if (!sock) {
    if (!findCommand(opts.command[0]!, process.env)) {
      throw new AtsrError(`${opts.command[0]}: command not found`, ExitCode.commandNotFound);
    }
    const agentLink = process.env.SSH_AUTH_SOCK ? agentLinkPath(socketPath) : '';
    const started = await startHost({
      name,
      socketPath,
      socketDirs,
      command: opts.command,
      cwd: process.cwd(),
      bufferSize: opts.bufferSize,
      orphanMinutes: opts.orphanMinutes,
      rows: process.stdout.rows || 24,
      cols: process.stdout.columns || 80,
      agentLink: agentLink && Buffer.byteLength(agentLink) <= MAX_SOCKET_PATH_BYTES ? agentLink : '',
      diagLevel: opts.diagLevel,
      // The host runs from another directory: a relative -o names the front's file.
      diagFile: opts.diagFile ? resolve(opts.diagFile) : '',
      attachTimeoutMs: attachTimeoutFrom(process.env),
      holdForCreator: opts.action !== 'create-detached',
    });
    if (started === 'exists' && opts.action !== 'attach-or-create') {
      throw new AtsrError(`session ${name} exists already`, ExitCode.sessionExists);
    }
    diag.log(2, started === 'exists' ? `session ${name} was created by another client at the same time` : `session ${name} created`);
    if (opts.action === 'create-detached') return ExitCode.ok;
    startedHere = started !== 'exists';
    sock = await tryConnect(dir.dir, name);
    if (!sock) throw new AtsrError(`session ${name} ended before it could be attached`, ExitCode.sessionLost);
  }
  const handshake = opts.sync ? makeHandshake(opts) : undefined;
  const relay = relayFile(process.env);
  if (relay) {
    // A host started here needs no version question, and has no screen to repaint yet.
    if (startedHere) sock.destroy();
    if (startedHere || (await hostVersion(sock)) >= RELAY_PROTOCOL_VERSION) {
      const term = process.env.TERM ?? '';
      const client = clientFields();
      // A plain attach shows the current screen (a resume replays exactly instead).
      const redraw = handshake === undefined ? redrawMethodFor(term, opts.redraw) : 'none';
      let from: number | undefined;
      if (redraw === 'screen' && !startedHere) {
        from = await showScreen(socketPath, term, client, diag).catch((err: Error) => {
          diag.log(1, `no screen repaint: ${err.message}`);
          return undefined;
        });
      }
      return execRelay(relay, socketPath, {
        v: RELAY_PROTOCOL_VERSION,
        readOnly: opts.readOnly,
        force: opts.force,
        ...client,
        updateUtmp: opts.updateUtmp,
        inband: handshake !== undefined,
        term,
        detach: opts.detach,
        from,
        redraw: redraw === 'winch' || redraw === 'ctrl_l' ? redraw : undefined,
      });
    }
    // An older host, still running after an upgrade: the TypeScript front speaks its version.
    sock = await tryConnect(dir.dir, name);
    if (!sock) throw new AtsrError(`session ${name} ended before it could be attached`, ExitCode.sessionLost);
  }
  return attachSession(sock, {
    readOnly: opts.readOnly,
    force: opts.force,
    updateUtmp: opts.updateUtmp,
    detach: opts.detach,
    handshake,
    diag,
  });
}

/** Connects to a session socket; undefined if there is no live session (a stale socket is removed). */
async function tryConnect(dir: string, name: string): Promise<Socket | undefined> {
  const path = join(dir, name);
  try {
    return await connectSocket(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') removeStale(dir, name);
    else if (code !== 'ENOENT') throw new AtsrError(`cannot connect to ${path}: ${(err as Error).message}`, ExitCode.socketDir);
    return undefined;
  }
}

/** The socket refused: removed through the directory's descriptor, never by a path (docs/security.md). */
function removeStale(dir: string, name: string): void {
  let held: DirHandle;
  try {
    held = DirHandle.open(dir);
  } catch {
    return; // the directory went with it
  }
  try {
    const st = held.lstatChild(name);
    if (st?.isSocket()) removeStaleSocket(held, name, st, process.getuid!());
  } finally {
    held.close();
  }
}
