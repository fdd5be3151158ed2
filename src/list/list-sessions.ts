// `atsr -l`: every socket in the socket directories, with what the kernel
// says about it (its owner, the PID listening on it) and the session's own
// status answer for the rest. Directories are held by descriptors and
// everything inside them is done through those (docs/security.md); sockets
// whose host is gone are removed and not listed; a session that does not
// answer is listed as such.
import type { Stats } from 'node:fs';
import { DirHandle, type PinnedEntry } from '../session/dir-handle.js';
import { removeStaleSocket } from '../session/stale-socket.js';
import type { SessionStatus } from '../protocol/messages.js';
import { processOwner } from '../processes.js';
import { type Answer, mapLimited, parallelQueries, queryStatus } from './status-query.js';
import { ansiCQuoted, hasUnsafe, terminalSafe, terminalSafeJson } from './terminal-safe.js';
import { userNames } from './user-names.js';

export type ListSource = { kind: 'dir'; path: string } | { kind: 'shared'; root: string };

/** What the kernel says: the socket's name and owner, and the process listening on it. */
interface KernelFacts {
  name: string;
  pid: number | null;
  owner: string;
  uid: number;
  socket: string;
}

type StatusFields = Omit<SessionStatus, 'name' | 'pid' | 'owner' | 'uid'>;
export type AnsweredSession = KernelFacts & StatusFields & { problem?: undefined };
export type SilentSession = KernelFacts & { problem: string };
export type ListedSession = AnsweredSession | SilentSession;

/** A socket directory held open, with the sockets it held when opened. */
class HeldDir {
  readonly socketNames: string[];

  constructor(readonly handle: DirHandle) {
    this.socketNames = handle.names().filter((n) => {
      try {
        return handle.lstatChild(n)?.isSocket() === true;
      } catch {
        return false; // a directory we may read but not search
      }
    });
  }
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';

/** Opens the directories to list; what cannot be opened is a problem, a missing one is nothing. */
function openSources(sources: ListSource[], me: number, problems: string[]): HeldDir[] {
  const held: HeldDir[] = [];
  const tryOpen = (open: () => DirHandle, path: string): DirHandle | undefined => {
    try {
      return open();
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') problems.push(`${path}: not listed (${errorCode(err)})`);
      return undefined;
    }
  };
  for (const src of sources) {
    if (src.kind === 'dir') {
      const d = tryOpen(() => DirHandle.open(src.path), src.path);
      if (d) held.push(new HeldDir(d));
      continue;
    }
    const root = tryOpen(() => DirHandle.open(src.root), src.root);
    if (!root) continue;
    try {
      const why = sharedRootProblem(root.stat(), me);
      if (why) {
        problems.push(`${src.root}: not listed (${why})`);
        continue;
      }
      for (const n of root.names()) {
        if (!root.lstatChild(n)?.isDirectory()) continue;
        const d = tryOpen(() => root.openChild(n), `${src.root}/${n}`);
        if (!d) continue;
        const squatter = squatterOf(n, d.stat().uid);
        if (squatter !== undefined) problems.push(`${src.root}/${n}: ${squatter}`);
        // Only a directory with sockets stays open: a user's thousands of empty ones ran root out of descriptors, and the rest went unlisted.
        const dir = new HeldDir(d);
        if (dir.socketNames.length > 0) held.push(dir);
        else d.close();
      }
    } finally {
      root.close();
    }
  }
  return held;
}

/**
 * Why a shared root's directory named for uid `name` and owned by `owner`
 * hides that uid's sessions, if it does: another user made it first, so the
 * uid's sessions went to their private fallback (~/.atsr), which a listing of
 * the root does not see.
 */
function squatterOf(name: string, owner: number): string | undefined {
  if (!/^\d+$/.test(name) || Number(name) === owner) return undefined;
  return `made by uid ${owner}, not uid ${name}: uid ${name}'s sessions are in their own ~/.atsr and not listed here; remove the directory (its sessions are uid ${owner}'s) so that theirs come back here`;
}

/** A shared root is root's or the caller's own, and sticky if others may write to it. */
function sharedRootProblem(st: Stats, me: number): string | undefined {
  if (st.uid !== 0 && st.uid !== me) return `owned by uid ${st.uid}`;
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0) return 'world-writable without the sticky bit';
  return undefined;
}

interface Probe {
  dir: HeldDir;
  name: string;
  socket: Stats;
  answer: Answer;
  /** The kernel's PID for the socket's listener, unchecked (see listenerPid). */
  listener: number | undefined;
}

/** Pins the socket, checks it is one, asks it; undefined if it vanished or is not a socket now. */
async function probe(dir: HeldDir, name: string): Promise<Probe | undefined> {
  let pinned: PinnedEntry;
  try {
    pinned = dir.handle.pinChild(name);
  } catch {
    return undefined;
  }
  try {
    const socket = pinned.stat();
    if (!socket.isSocket()) return undefined;
    return { dir, name, socket, ...(await queryStatus(pinned)) };
  } finally {
    pinned.close();
  }
}

/**
 * The process listening on the probed socket, as the kernel recorded it when
 * listen() was called (SO_PEERCRED), if it is owned by the socket file's
 * owner and is not PID 0, 1 or this process; else null. Never from the
 * session's answer, nor from /proc/net/unix, whose lines a user can forge
 * with a newline in a bound path (docs/security.md).
 */
function listenerPid(p: Probe): number | null {
  const pid = p.listener;
  return pid !== undefined && pid > 1 && pid !== process.pid && processOwner(pid) === p.socket.uid ? pid : null;
}

/** How long a claimed string is shown: a user's host may answer with a megabyte of anything, for each of thousands of sessions. */
const MAX_CLAIM_CHARS = 256;
/** A claimed command's words together (a real one is the argv a user typed; `ps` cuts long ones too). */
const MAX_COMMAND_CHARS = 4096;
/** What a cut string ends with. */
const CUT = '…';

function bounded(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max) + CUT;
}

function boundedWords(words: string[], max: number): string[] {
  const shown: string[] = [];
  let left = max;
  for (const w of words) {
    if (w.length > left) {
      shown.push(w.slice(0, left) + CUT);
      break;
    }
    shown.push(w);
    left -= w.length;
  }
  return shown;
}

/**
 * The status fields a session's answer may set in the listing: those a host
 * sends and no others (an answer's `problem` would pass for the listing's
 * own), its strings bounded. Its `name`, `pid`, `owner` and `uid` are the
 * kernel's (KernelFacts).
 */
function shownClaims(st: SessionStatus): StatusFields {
  return {
    ...(typeof st.v === 'number' ? { v: st.v } : {}),
    command: boundedWords(st.command, MAX_COMMAND_CHARS),
    createdAt: bounded(st.createdAt, MAX_CLAIM_CHARS),
    attached: st.attached,
    viewers: st.viewers,
    detachedSince: st.detachedSince === null ? null : bounded(st.detachedSince, MAX_CLAIM_CHARS),
    clientAddr: bounded(st.clientAddr, MAX_CLAIM_CHARS),
    exited: st.exited,
    exitStatus: st.exitStatus,
    out: st.out,
    in: st.in,
    bufferSize: st.bufferSize,
  };
}

function byAge(a: ListedSession, b: ListedSession): number {
  if (a.problem === undefined && b.problem === undefined) return a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name);
  if (a.problem === undefined) return -1;
  if (b.problem === undefined) return 1;
  return a.socket.localeCompare(b.socket);
}

/** Every session in `sources`; removes stale sockets (see removeStaleSocket). */
export async function collectSessions(
  sources: ListSource[],
  me = process.getuid!(),
): Promise<{ sessions: ListedSession[]; problems: string[] }> {
  const problems: string[] = [];
  const dirs = openSources(sources, me, problems);
  try {
    const found = dirs.flatMap((dir) => dir.socketNames.map((name) => ({ dir, name })));
    const probes = (await mapLimited(found, parallelQueries(), (f) => probe(f.dir, f.name))).filter((p) => p !== undefined);
    const live = probes.filter((p) => p.answer.kind !== 'refused' || !removeStaleSocket(p.dir.handle, p.name, p.socket, me));
    const names = userNames(live.map((p) => p.socket.uid));
    const sessions = live.map((p): ListedSession => {
      const who = {
        name: p.name,
        pid: listenerPid(p),
        owner: names.get(p.socket.uid)!,
        uid: p.socket.uid,
      };
      const socket = `${p.dir.handle.path}/${p.name}`;
      if (p.answer.kind !== 'status') {
        return { ...who, problem: p.answer.kind === 'refused' ? 'no host (stale socket, not removed)' : p.answer.why, socket };
      }
      return { ...who, ...shownClaims(p.answer.status), socket };
    });
    return { sessions: sessions.sort(byAge), problems };
  } finally {
    for (const d of dirs) d.handle.close();
  }
}

export function duration(sinceIso: string, now: Date): string {
  let s = Math.max(0, Math.floor((now.getTime() - Date.parse(sinceIso)) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

export function shellWord(w: string): string {
  if (hasUnsafe(w)) return ansiCQuoted(w);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

function columns(s: ListedSession, now: Date): string[] {
  const kernel = [s.name, s.pid === null ? '-' : String(s.pid), s.owner];
  if (s.problem !== undefined) return [' ', ...kernel, '-', '-', '-', `(${s.problem})`].map(terminalSafe);
  return [
    s.attached ? '*' : ' ',
    ...kernel,
    s.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    s.attached || !s.detachedSince ? '-' : `detached ${duration(s.detachedSince, now)}`,
    s.clientAddr || '-',
    s.command.map(shellWord).join(' ') + (s.exited ? ` (exited ${s.exitStatus})` : ''),
  ].map(terminalSafe);
}

/** The header line's column names, over the columns of columns(). */
const HEADER = [' ', 'NAME', 'PID', 'OWNER', 'CREATED', 'DETACHED', 'FROM', 'COMMAND'];

/** What the text listing says when there is nothing to list. */
export const NO_SESSIONS = 'no sessions\n';

/**
 * A header line, then one line per session: `*` when attached, name, pid,
 * owner, created, detached for, from, command; `no sessions` when none.
 */
export function formatSessions(sessions: ListedSession[], now = new Date()): string {
  if (sessions.length === 0) return NO_SESSIONS;
  const rows = [HEADER, ...sessions.map((s) => columns(s, now))];
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' ').trimEnd() + '\n')
    .join('');
}

/** `--json`: the sessions as JSON, every character a terminal would act on escaped. */
export const formatSessionsJson = (sessions: ListedSession[]): string => `${terminalSafeJson(sessions)}\n`;
