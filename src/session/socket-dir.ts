// Where session sockets live, and the checks that keep other users out of
// them (after tmux): the directory is the user's own, mode 0700, and not a
// symlink. A shared root (-g) holds one private subdirectory per user.
import { lstatSync, mkdirSync, chmodSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { AtsrError, ExitCode } from '../cli/exit-codes.js';

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export type SocketDirSpec = { kind: 'user'; dir: string } | { kind: 'shared'; root: string };

export interface SocketDir {
  /** The directory the sockets are in. */
  dir: string;
  /** The shared root it belongs to, for `-g` directories. */
  sharedRoot?: string;
}

export interface Identity {
  uid: number;
}

/** The candidates in order: the explicit -u/-g, or the defaults. */
export function socketDirCandidates(
  explicit: SocketDirSpec | undefined,
  env: NodeJS.ProcessEnv,
): SocketDirSpec[] {
  if (explicit) return [explicit];
  const out: SocketDirSpec[] = [];
  if (env.HOME) out.push({ kind: 'user', dir: join(env.HOME, '.atsr') });
  if (env.TMPDIR) out.push({ kind: 'shared', root: join(env.TMPDIR, 'atsr') });
  out.push({ kind: 'shared', root: '/tmp/atsr' });
  return out;
}

/**
 * The first candidate that is usable and where a socket for `name` fits the
 * Unix path limit. Creates directories that are missing. An explicit
 * directory that cannot be used is an error, never a silent fallback:
 * sessions must not be spread over several places.
 */
export function resolveSocketDir(
  candidates: SocketDirSpec[],
  name: string | undefined,
  who: Identity,
): SocketDir {
  const problems: string[] = [];
  for (const spec of candidates) {
    try {
      const dir = prepare(spec, who);
      if (name !== undefined) checkSocketPathLength(join(dir.dir, name));
      return dir;
    } catch (err) {
      if (!(err instanceof AtsrError)) throw err;
      problems.push(err.message);
    }
  }
  throw new AtsrError(problems.join('; '), ExitCode.socketDir);
}

export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new AtsrError(
      `socket path ${path} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets (use a shorter -u/-g directory or session name)`,
      ExitCode.socketDir,
    );
  }
}

function prepare(spec: SocketDirSpec, who: Identity): SocketDir {
  if (spec.kind === 'user') {
    ensurePrivateDir(spec.dir, who);
    return { dir: spec.dir };
  }
  ensureSharedRoot(spec.root, who);
  const dir = join(spec.root, String(who.uid));
  ensurePrivateDir(dir, who);
  return { dir, sharedRoot: spec.root };
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AtsrError(`socket directory ${path}: ${(err as Error).message}`, ExitCode.socketDir);
  }
}

function makeDir(path: string, mode: number): void {
  try {
    mkdirSync(path, { recursive: true, mode });
    chmodSync(path, mode); // mkdir's mode is filtered by the umask
  } catch (err) {
    throw new AtsrError(`cannot create socket directory ${path}: ${(err as Error).message}`, ExitCode.socketDir);
  }
}

/** A directory only `who` can enter: create it 0700, or check an existing one. */
export function ensurePrivateDir(path: string, who: Identity): void {
  let st = lstatOrUndefined(path);
  if (!st) {
    makeDir(path, 0o700);
    st = lstatOrUndefined(path);
  }
  if (!st) throw new AtsrError(`socket directory ${path} vanished`, ExitCode.socketDir);
  if (st.isSymbolicLink()) throw new AtsrError(`socket directory ${path} is a symlink (refused)`, ExitCode.socketDir);
  if (!st.isDirectory()) throw new AtsrError(`socket directory ${path} is not a directory`, ExitCode.socketDir);
  if (st.uid !== who.uid) {
    throw new AtsrError(`socket directory ${path} is owned by uid ${st.uid}, not by you (uid ${who.uid})`, ExitCode.socketDir);
  }
  if ((st.mode & 0o077) !== 0) {
    throw new AtsrError(
      `socket directory ${path} has mode ${(st.mode & 0o777).toString(8)}; it must be 700 (chmod 700 ${path})`,
      ExitCode.socketDir,
    );
  }
}

/** A shared root: root's or the user's own, world-writable only with the sticky bit. */
function ensureSharedRoot(path: string, who: Identity): void {
  let st = lstatOrUndefined(path);
  if (!st) {
    makeDir(path, 0o1777);
    st = lstatOrUndefined(path);
  }
  if (!st) throw new AtsrError(`shared socket root ${path} vanished`, ExitCode.socketDir);
  if (st.isSymbolicLink()) throw new AtsrError(`shared socket root ${path} is a symlink (refused)`, ExitCode.socketDir);
  if (!st.isDirectory()) throw new AtsrError(`shared socket root ${path} is not a directory`, ExitCode.socketDir);
  if (st.uid !== 0 && st.uid !== who.uid) {
    throw new AtsrError(`shared socket root ${path} is owned by uid ${st.uid}, neither root nor you`, ExitCode.socketDir);
  }
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0) {
    throw new AtsrError(
      `shared socket root ${path} is world-writable without the sticky bit (chmod 1777 ${path})`,
      ExitCode.socketDir,
    );
  }
}
