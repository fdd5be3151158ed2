// `atsr [options] <session_name> <command...>`: the front's decisions, from
// the options to a running, attached session (docs/atsr.md).
import { readdirSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { Diagnostics } from '../log/diagnostics.js';
import { type AtsrOptions, parseOptions } from './options.js';
import { AtsrError, ExitCode } from './exit-codes.js';
import { nameProblem } from '../session/name.js';
import {
  MAX_SOCKET_PATH_BYTES,
  type SocketDir,
  type SocketDirSpec,
  privateFallbacks,
  resolveSocketDir,
  searchSocketDirs,
  socketDirCandidates,
  usableSharedRoots,
} from '../session/socket-dir.js';
import { findCommand } from '../session/find-command.js';
import { collectSessions, formatSessions } from '../list/list-sessions.js';
import { attachSession, connectSocket, type SyncHandshake } from '../front/attach-session.js';
import { runDirect } from '../front/run-direct.js';
import { startHost } from '../host/start-host.js';

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
  const needsTty = opts.action !== 'create-detached';
  if (needsTty && !process.stdin.isTTY) return cannot(new AtsrError('standard input is not a terminal', ExitCode.noTty));

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

  let sock = await tryConnect(socketPath);
  if (sock && (opts.action === 'create' || opts.action === 'create-detached')) {
    sock.destroy();
    throw new AtsrError(`session ${name} exists already`, ExitCode.sessionExists);
  }
  if (!sock) {
    if (opts.action === 'attach') throw new AtsrError(`no session named ${name} (in ${dir.dir})`, ExitCode.noSession);
    if (!findCommand(opts.command[0]!, process.env)) {
      throw new AtsrError(`${opts.command[0]}: command not found`, ExitCode.commandNotFound);
    }
    const agentLink = process.env.SSH_AUTH_SOCK ? `${socketPath}.agent` : '';
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
    });
    if (started === 'exists' && opts.action !== 'attach-or-create') {
      throw new AtsrError(`session ${name} exists already`, ExitCode.sessionExists);
    }
    diag.log(2, started === 'exists' ? `session ${name} was created by another client at the same time` : `session ${name} created`);
    if (opts.action === 'create-detached') return ExitCode.ok;
    sock = await tryConnect(socketPath);
    if (!sock) throw new AtsrError(`session ${name} ended before it could be attached`, ExitCode.sessionLost);
  }
  return attachSession(sock, {
    readOnly: opts.readOnly,
    force: opts.force,
    updateUtmp: opts.updateUtmp,
    detachKey: opts.detachKey,
    handshake: opts.sync ? makeHandshake(opts) : undefined,
    diag,
  });
}

/** Where sockets go: the explicit -u/-g or the default chain, then the user's private fallbacks. */
function socketDirChoice(opts: AtsrOptions): { candidates: SocketDirSpec[]; fallbacks: SocketDirSpec[] } {
  return { candidates: socketDirCandidates(opts.socketDir, process.env), fallbacks: privateFallbacks(process.env) };
}

/** Connects to a session socket; undefined if there is no live session (a stale socket is removed). */
async function tryConnect(path: string): Promise<Socket | undefined> {
  try {
    return await connectSocket(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') rmSync(path, { force: true });
    else if (code !== 'ENOENT') throw new AtsrError(`cannot connect to ${path}: ${(err as Error).message}`, ExitCode.socketDir);
    return undefined;
  }
}

async function list(opts: AtsrOptions): Promise<number> {
  const uid = process.getuid!();
  let dirs: string[];
  if (opts.listDir !== undefined) {
    dirs = [opts.listDir];
  } else {
    // Every usable directory of the chain: a long session name may have put
    // a session in a later one (the Unix path limit), and another user's
    // entry in the way may have put it in a private fallback.
    const { candidates, fallbacks } = socketDirChoice(opts);
    const usable = searchSocketDirs(candidates, { uid }, fallbacks);
    for (const d of usable) if (d.warning) process.stderr.write(`atsr: ${d.warning}\n`);
    // Root listing a shared root sees every user's private subdirectory,
    // also when another user's entry has blocked root's own.
    const roots = uid === 0 ? usableSharedRoots(candidates, { uid }) : [];
    dirs = [...new Set([...usable.map((d) => d.dir), ...roots.flatMap(subdirectories)])];
  }
  const { sessions, problems } = await collectSessions(dirs);
  for (const p of problems) process.stderr.write(`atsr: ${p}\n`);
  process.stdout.write(opts.json ? `${JSON.stringify(sessions, null, 2)}\n` : formatSessions(sessions));
  return ExitCode.ok;
}

function subdirectories(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(root, d.name));
  } catch {
    return [];
  }
}
