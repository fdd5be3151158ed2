// `atsr [options] <session_name> <command...>`: the front's decisions, from
// the options to a running, attached session (docs/atsr.md).
import { statSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { Diagnostics } from '../log/diagnostics.js';
import { type AtsrOptions, parseOptions } from './options.js';
import { AtsrError, ExitCode } from './exit-codes.js';
import { nameProblem } from '../session/name.js';
import {
  MAX_SOCKET_PATH_BYTES,
  type SocketDir,
  type SocketDirSpec,
  installedSocketRoots,
  privateFallbacks,
  resolveSocketDir,
  searchSocketDirs,
  socketDirCandidates,
  usableSharedRoots,
} from '../session/socket-dir.js';
import { findCommand } from '../session/find-command.js';
import { agentLinkPath } from '../session/internal-names.js';
import { SESSION_ENV, isOwnSession } from '../session/own-session.js';
import { type ListSource, collectSessions, formatSessions, formatSessionsJson } from '../list/list-sessions.js';
import { terminalSafe } from '../list/terminal-safe.js';
import { DirHandle } from '../session/dir-handle.js';
import { removeStaleSocket } from '../session/stale-socket.js';
import { attachSession, connectSocket, type SyncHandshake } from '../front/attach-session.js';
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
  if (opts.action === 'list') return list(opts);

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
      diagFile: opts.diagFile ?? '',
      attachTimeoutMs: attachTimeoutFrom(process.env),
    });
    if (started === 'exists' && opts.action !== 'attach-or-create') {
      throw new AtsrError(`session ${name} exists already`, ExitCode.sessionExists);
    }
    diag.log(2, started === 'exists' ? `session ${name} was created by another client at the same time` : `session ${name} created`);
    if (opts.action === 'create-detached') return ExitCode.ok;
    sock = await tryConnect(dir.dir, name);
    if (!sock) throw new AtsrError(`session ${name} ended before it could be attached`, ExitCode.sessionLost);
  }
  return attachSession(sock, {
    readOnly: opts.readOnly,
    force: opts.force,
    updateUtmp: opts.updateUtmp,
    detach: opts.detach,
    handshake: opts.sync ? makeHandshake(opts) : undefined,
    diag,
  });
}

/** The directories to try in order, and the user's own ones for when another user's entry blocks them. */
interface SocketDirChoice {
  candidates: SocketDirSpec[];
  fallbacks: SocketDirSpec[];
}

/** Where sockets go: the explicit -u/-g or the default chain, then the user's private fallbacks. */
function socketDirChoice(opts: AtsrOptions): SocketDirChoice {
  const installed = installedSocketRoots(process.execPath, { uid: process.getuid!() }).current;
  return { candidates: socketDirCandidates(opts.socketDir, process.env, installed), fallbacks: privateFallbacks(process.env) };
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

async function list(opts: AtsrOptions): Promise<number> {
  const uid = process.getuid!();
  const sources = opts.listDir !== undefined ? listDirSources(opts.listDir, uid) : chainSources(listCandidates(opts), uid);
  const { sessions, problems } = await collectSessions(sources, uid);
  for (const p of problems) process.stderr.write(`atsr: ${terminalSafe(p)}\n`);
  process.stdout.write(opts.json ? formatSessionsJson(sessions) : formatSessions(sessions));
  return ExitCode.ok;
}

/**
 * `-l DIR`: the socket directory DIR, or, when DIR is a shared root, what the
 * caller may see in it (root: every user's subdirectory; a user: DIR/<uid>),
 * so `cd PREFIX; bin/atsr -l session` finds rezumable's sessions. Nothing is
 * created: a listing of a directory named by hand leaves it as it was.
 */
function listDirSources(dir: string, uid: number): ListSource[] {
  if (!isSharedRoot(dir)) return [{ kind: 'dir', path: dir }];
  return uid === 0 ? [{ kind: 'shared', root: dir }] : [{ kind: 'dir', path: join(dir, String(uid)) }];
}

/** World-writable with the sticky bit: a shared root, never a socket directory (those are 0700). */
function isSharedRoot(dir: string): boolean {
  try {
    const st = statSync(dir);
    return st.isDirectory() && (st.mode & 0o1002) === 0o1002;
  } catch {
    return false;
  }
}

/**
 * What `-l` searches: the explicit -u/-g, or the default chain, which for an
 * installed executable also holds PREFIX/run of an older install while that
 * still exists (its sessions keep their sockets there after an upgrade).
 */
function listCandidates(opts: AtsrOptions): SocketDirChoice {
  const { candidates, fallbacks } = socketDirChoice(opts);
  if (opts.socketDir !== undefined) return { candidates, fallbacks };
  const old = installedSocketRoots(process.execPath, { uid: process.getuid!() }).old;
  return { candidates: old === undefined ? candidates : [...candidates, { kind: 'shared', root: old }], fallbacks };
}

/**
 * Every usable directory of the chain: a long session name may have put a
 * session in a later one (the Unix path limit), and another user's entry in
 * the way may have put it in a private fallback.
 */
function chainSources({ candidates, fallbacks }: SocketDirChoice, uid: number): ListSource[] {
  const usable = searchSocketDirs(candidates, { uid }, fallbacks);
  for (const d of usable) if (d.warning) process.stderr.write(`atsr: ${d.warning}\n`);
  // Root listing a shared root sees every user's private subdirectory,
  // also when another user's entry has blocked root's own.
  const roots = uid === 0 ? usableSharedRoots(candidates, { uid }) : [];
  return [
    ...usable.filter((d) => !(d.sharedRoot !== undefined && roots.includes(d.sharedRoot))).map((d): ListSource => ({ kind: 'dir', path: d.dir })),
    ...roots.map((root): ListSource => ({ kind: 'shared', root })),
  ];
}
