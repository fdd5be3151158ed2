// Where session sockets live, and the checks that keep other users out of
// them (after tmux): the directory is the user's own, mode 0700, and not a
// symlink. A shared root (-g) holds one private subdirectory per user.
//
// Directories are made one level at a time through descriptors (DirHandle):
// each level is opened with O_NOFOLLOW inside its held parent, checked with
// fstat, created with mkdir inside the held parent only when that parent is
// root's or ours, and chmodded only through its own descriptor, only when we
// created it. So no symlink another user swaps in is ever followed by a
// mkdir or a chmod (docs/security.md, "Socket directories").
import { type Stats, lstatSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AtsrError, ExitCode } from '../cli/exit-codes.js';
import { DirHandle } from './dir-handle.js';

/** sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export type SocketDirSpec = { kind: 'user'; dir: string } | { kind: 'shared'; root: string };

export interface SocketDir {
  /** The directory the sockets are in. */
  dir: string;
  /** The shared root it belongs to, for `-g` directories. */
  sharedRoot?: string;
  /**
   * Set when another user's entry was in the way and one of the user's
   * private directories is used instead: the one warning to print.
   */
  warning?: string;
  /**
   * Set when it is the first candidate's: while it and its parent stay as
   * they are, no other directory can take its place (the host then only
   * watches them, src/host/socket-keeper.ts).
   */
  first?: boolean;
}

export interface Identity {
  uid: number;
}

const ROOT_UID = 0;

/** Another user's entry in the way: what would clear it. */
interface Blocker {
  fix: string;
}

/** An entry at `path` owned by `uid`, which only they or root can remove. */
const entryOf = (uid: number, path: string): Blocker => ({ fix: `to use ${path} again, have uid ${uid} or root remove it` });

/**
 * An entry at `path` that kept appearing and vanishing faster than its owner
 * could be seen: not the user's own doing (their atsr makes a directory and
 * leaves it), so another user's, as far as falling back goes.
 */
const unseenEntryAt = (path: string): Blocker => ({ fix: `to use ${path} again, have root find who keeps making and removing an entry there` });

/** Why a directory cannot be used; `blockedBy` is set when another user's entry is the reason. */
class SocketDirProblem extends AtsrError {
  constructor(
    message: string,
    readonly blockedBy?: Blocker,
  ) {
    super(message, ExitCode.socketDir);
  }
}

/**
 * The candidates in order: the explicit -u/-g, or the defaults, ending with
 * the installed shared root when there is one (see installedSocketRoots).
 */
export function socketDirCandidates(
  explicit: SocketDirSpec | undefined,
  env: NodeJS.ProcessEnv,
  installedRoot?: string,
): SocketDirSpec[] {
  if (explicit) return [explicit];
  const out: SocketDirSpec[] = [];
  if (env.HOME) out.push({ kind: 'user', dir: join(env.HOME, '.atsr') });
  if (env.TMPDIR) out.push({ kind: 'shared', root: join(env.TMPDIR, 'atsr') });
  out.push({ kind: 'shared', root: '/tmp/atsr' });
  if (installedRoot !== undefined) out.push({ kind: 'shared', root: installedRoot });
  return out;
}

/** The installer's shared socket root, PREFIX/session (rezumable's -g). */
export const INSTALLED_SOCKET_ROOT = 'session';
/** Where installs before it put rezumable's sessions; listed while it exists. */
export const OLD_INSTALLED_SOCKET_ROOT = 'run';

/** The installer's shared roots beside an installed executable, the ones that exist. */
export interface InstalledRoots {
  current?: string;
  old?: string;
}

/**
 * For an executable at PREFIX/bin/NAME: PREFIX/session and PREFIX/run, each
 * only when it is a directory as the installer makes it (sticky 1777,
 * root's, or the caller's for an install into their own prefix), so a
 * development build or an uninstalled prefix adds nothing. Only a filter:
 * the directories are checked again through descriptors when opened.
 */
export function installedSocketRoots(execPath: string, who: Identity): InstalledRoots {
  const bin = dirname(execPath);
  if (basename(bin) !== 'bin') return {};
  const prefix = dirname(bin);
  const made = (name: string): string | undefined => {
    const path = join(prefix, name);
    try {
      const st = lstatSync(path);
      const asInstalled = st.isDirectory() && (st.mode & 0o7777) === 0o1777 && (st.uid === ROOT_UID || st.uid === who.uid);
      return asInstalled ? path : undefined;
    } catch {
      return undefined;
    }
  };
  return { current: made(INSTALLED_SOCKET_ROOT), old: made(OLD_INSTALLED_SOCKET_ROOT) };
}

/**
 * The user's private directories, where sessions go when another user's
 * entry blocks the candidates: `$HOME/.atsr`, then `$XDG_RUNTIME_DIR/atsr`
 * (the per-user runtime directory only root and the user can write).
 */
export function privateFallbacks(env: NodeJS.ProcessEnv): SocketDirSpec[] {
  const out: SocketDirSpec[] = [];
  if (env.HOME) out.push({ kind: 'user', dir: join(env.HOME, '.atsr') });
  if (env.XDG_RUNTIME_DIR?.startsWith('/')) out.push({ kind: 'user', dir: join(env.XDG_RUNTIME_DIR, 'atsr') });
  return out;
}

/**
 * The first candidate that is usable and where a socket for `name` fits the
 * Unix path limit. Creates directories that are missing. An explicit
 * directory that cannot be used is an error, never a silent fallback:
 * sessions must not be spread over several places. The one exception is
 * another user's entry in the way: nobody may deny a user resilience, so the
 * first usable of `fallbacks` is used, with a warning.
 */
export function resolveSocketDir(
  candidates: SocketDirSpec[],
  name: string | undefined,
  who: Identity,
  fallbacks: SocketDirSpec[] = [],
): SocketDir {
  const problems: SocketDirProblem[] = [];
  const fits = (dir: SocketDir): SocketDir => {
    if (name !== undefined) checkSocketPathLength(join(dir.dir, name));
    return dir;
  };
  const tryEach = (specs: SocketDirSpec[]): { dir: SocketDir; index: number } | undefined => {
    for (const [index, spec] of specs.entries()) {
      const dir = attempt(() => fits(prepare(spec, who)), problems);
      if (dir) return { dir, index };
    }
    return undefined;
  };
  const found = tryEach(candidates);
  if (found) return found.index === 0 ? { ...found.dir, first: true } : found.dir;
  const blocked = problems.find((p) => p.blockedBy);
  const fallback = blocked ? tryEach(fallbacks) : undefined;
  if (blocked && fallback) return { ...fallback.dir, warning: blockedWarning(blocked, fallback.dir.dir) };
  throw noUsableDir(problems);
}

/** What `step` gives, or undefined with its problem recorded (anything else is thrown on). */
function attempt(step: () => SocketDir, problems: SocketDirProblem[]): SocketDir | undefined {
  try {
    return step();
  } catch (err) {
    if (!(err instanceof SocketDirProblem)) throw err;
    problems.push(err);
    return undefined;
  }
}

/**
 * Every directory `atsr -l` searches: each usable candidate, and, when
 * another user's entry blocks one, the user's private fallbacks (the first
 * new one carries the warning). Throws when there is none.
 */
export function searchSocketDirs(candidates: SocketDirSpec[], who: Identity, fallbacks: SocketDirSpec[] = []): SocketDir[] {
  const found: SocketDir[] = [];
  const problems: SocketDirProblem[] = [];
  const collect = (specs: SocketDirSpec[]): void => {
    for (const spec of specs) {
      const dir = attempt(() => prepare(spec, who), problems);
      if (dir && !found.some((d) => d.dir === dir.dir)) found.push(dir);
    }
  };
  collect(candidates);
  const blocked = problems.find((p) => p.blockedBy);
  if (blocked) {
    const before = found.length;
    collect(fallbacks);
    if (found.length > before) found[before] = { ...found[before]!, warning: blockedWarning(blocked, found[before]!.dir) };
  }
  if (found.length === 0) throw noUsableDir(problems);
  return found;
}

/**
 * The usable shared roots among the candidates, whatever the state of the
 * caller's own subdirectory in them: root lists every user's sessions there
 * even when another user has blocked root's own.
 */
export function usableSharedRoots(candidates: SocketDirSpec[], who: Identity): string[] {
  return candidates.flatMap((spec) => {
    if (spec.kind !== 'shared') return [];
    const root = resolve(spec.root);
    try {
      openSharedRoot(root, who).close();
      return [root];
    } catch (err) {
      if (err instanceof SocketDirProblem) return [];
      throw err;
    }
  });
}

function noUsableDir(problems: SocketDirProblem[]): AtsrError {
  return new AtsrError([...new Set(problems.map((p) => p.message))].join('; '), ExitCode.socketDir);
}

function blockedWarning(problem: SocketDirProblem, used: string): string {
  return `${problem.message}; using ${used} instead (${problem.blockedBy!.fix})`;
}

export function checkSocketPathLength(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SocketDirProblem(
      `socket path ${path} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES}-byte limit of Unix sockets (use a shorter -u/-g directory or session name)`,
    );
  }
}

/** Makes (or checks) the directories of `spec`, one level at a time. */
function prepare(spec: SocketDirSpec, who: Identity): SocketDir {
  if (spec.kind === 'user') {
    const dir = resolve(spec.dir);
    within(openAncestor(dirname(dir), who, 0o700), (parent) => openLevel(parent, dir, PRIVATE_DIR, who).close());
    return { dir };
  }
  const root = resolve(spec.root);
  const dir = join(root, String(who.uid));
  within(openSharedRoot(root, who), (rootDir) => openLevel(rootDir, dir, PRIVATE_DIR, who).close());
  return { dir, sharedRoot: root };
}

function openSharedRoot(root: string, who: Identity): DirHandle {
  return within(openAncestor(dirname(root), who, 0o755), (parent) => openLevel(parent, root, SHARED_ROOT, who));
}

/** Runs `work` with `handle`, and closes it, also on a throw. */
function within<T>(handle: DirHandle, work: (handle: DirHandle) => T): T {
  try {
    return work(handle);
  } finally {
    handle.close();
  }
}

/** What a level must be, and the mode it is created with. */
interface LevelKind {
  what: string;
  mode: number;
  /** Whether `uid` may own it. */
  mayOwn(uid: number, who: Identity): boolean;
  check(st: Stats, path: string, who: Identity): void;
}

/** A socket directory: only `who` can enter it. */
const PRIVATE_DIR: LevelKind = {
  what: 'socket directory',
  mode: 0o700,
  mayOwn: (uid, who) => uid === who.uid,
  check(st, path, who) {
    if (st.uid !== who.uid) {
      throw new SocketDirProblem(`socket directory ${path} is owned by uid ${st.uid}, not by you (uid ${who.uid})`, entryOf(st.uid, path));
    }
    if ((st.mode & 0o077) !== 0) {
      throw new SocketDirProblem(`socket directory ${path} has mode ${(st.mode & 0o777).toString(8)}; it must be 700 (chmod 700 ${path})`);
    }
  },
};

/**
 * A shared root: root's or the user's own, world-writable only with the
 * sticky bit. One owned by another user is not trusted: its owner could
 * rename the user's directory away and put a symlink or their own in its
 * place (tmux and OpenSSH likewise trust only root's directories or yours).
 */
const SHARED_ROOT: LevelKind = {
  what: 'shared socket root',
  mode: 0o1777,
  mayOwn: (uid, who) => uid === who.uid || uid === ROOT_UID,
  check(st, path, who) {
    if (!this.mayOwn(st.uid, who)) {
      throw new SocketDirProblem(`shared socket root ${path} is owned by uid ${st.uid}, neither root nor you`, entryOf(st.uid, path));
    }
    if (worldWritableWithoutSticky(st)) {
      throw new SocketDirProblem(`shared socket root ${path} is world-writable without the sticky bit (chmod 1777 ${path})`);
    }
  },
};

/** A missing directory above the ones atsr manages, made on the way down. */
const ANCESTOR = (mode: number): LevelKind => ({
  what: 'directory',
  mode,
  mayOwn: (uid, who) => uid === who.uid,
  check: () => undefined,
});

const worldWritableWithoutSticky = (st: Stats): boolean => (st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0;

/**
 * Opens an existing directory above the managed levels as the path names it
 * (symlinks in it are the configuration's), creating missing ones one level
 * at a time with `mode`.
 */
function openAncestor(path: string, who: Identity, mode: number): DirHandle {
  try {
    return DirHandle.openToActIn(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || path === dirname(path)) {
      throw new SocketDirProblem(`socket directory ${path}: ${(err as Error).message}`);
    }
  }
  return within(openAncestor(dirname(path), who, mode), (parent) => openLevel(parent, path, ANCESTOR(mode), who));
}

/**
 * Tries to open or make one level before giving up on an entry that keeps
 * appearing and vanishing (another user flipping a symlink there: each try
 * is a race they must win).
 */
const LEVEL_ATTEMPTS = 100;

/** Opens (creating if missing) the level `path` inside `parent`, and checks it through its descriptor. */
function openLevel(parent: DirHandle, path: string, kind: LevelKind, who: Identity): DirHandle {
  let flipper: Blocker | undefined;
  for (let attempt = 0; attempt < LEVEL_ATTEMPTS; attempt++) {
    const existing = openChild(parent, path, kind, who);
    if (existing) return checked(existing, path, kind, who, false);
    if (makeChild(parent, path, kind, who)) {
      const made = openChild(parent, path, kind, who);
      if (made) return checked(made, path, kind, who, true);
    }
    // Something appeared there first, or what we made is gone: look again,
    // noting whose entry it was in case it vanishes every time.
    const st = parent.lstatChild(basename(path));
    if (st && !kind.mayOwn(st.uid, who)) flipper = entryOf(st.uid, path);
  }
  throw new SocketDirProblem(`${kind.what} ${path} keeps appearing and vanishing`, flipper ?? unseenEntryAt(path));
}

/** Checks an opened level through its descriptor; fchmods it only if we made it. */
function checked(dir: DirHandle, path: string, kind: LevelKind, who: Identity, made: boolean): DirHandle {
  try {
    if (made) {
      const st = dir.stat();
      // Only what the kernel says is ours, and only what we made, is ever chmodded.
      if (st.uid !== who.uid) {
        throw new SocketDirProblem(`${kind.what} ${path} was replaced by uid ${st.uid}'s`, entryOf(st.uid, path));
      }
      dir.chmod(kind.mode); // mkdir's mode is filtered by the umask
    }
    kind.check(dir.stat(), path, who);
    return dir;
  } catch (err) {
    dir.close();
    throw err instanceof AtsrError ? err : new SocketDirProblem(`${kind.what} ${path}: ${(err as Error).message}`);
  }
}

/** The child opened with O_NOFOLLOW, or undefined when there is none. */
function openChild(parent: DirHandle, path: string, kind: LevelKind, who: Identity): DirHandle | undefined {
  const name = basename(path);
  let openError: Error;
  try {
    return parent.openChild(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    openError = err as Error;
  }
  // Say what is in the way, and whose it is.
  const st = parent.lstatChild(name);
  if (!st) return undefined; // removed meanwhile: make it
  const blockedBy = kind.mayOwn(st.uid, who) ? undefined : entryOf(st.uid, path);
  if (st.isSymbolicLink()) throw new SocketDirProblem(`${kind.what} ${path} is a symlink (refused)`, blockedBy);
  if (!st.isDirectory()) throw new SocketDirProblem(`${kind.what} ${path} is not a directory`, blockedBy);
  kind.check(st, path, who); // someone else's directory we cannot enter
  throw new SocketDirProblem(`${kind.what} ${path}: ${openError.message}`);
}

/**
 * mkdir inside the held parent, which must be root's or ours and not open to
 * everyone without the sticky bit: in anyone else's directory its owner could
 * swap what we make. False when something appeared there first.
 */
function makeChild(parent: DirHandle, path: string, kind: LevelKind, who: Identity): boolean {
  const st = parent.stat();
  if (st.uid !== who.uid && st.uid !== ROOT_UID) {
    throw new SocketDirProblem(`cannot create ${kind.what} ${path}: ${parent.path} is owned by uid ${st.uid}, neither root nor you`, {
      fix: `give -u or -g a directory in one of your own or root's`,
    });
  }
  if (worldWritableWithoutSticky(st)) {
    throw new SocketDirProblem(`cannot create ${kind.what} ${path}: ${parent.path} is world-writable without the sticky bit`);
  }
  try {
    parent.makeChild(basename(path), kind.mode);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new SocketDirProblem(`cannot create ${kind.what} ${path}: ${(err as Error).message}`);
  }
}
