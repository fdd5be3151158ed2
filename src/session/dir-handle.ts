// A directory held by an open descriptor, and everything done inside it done
// through that descriptor: once opened, no rename or symlink swap of its
// path can redirect what we create, change or delete. Node has no openat()
// family; on Linux `/proc/self/fd/N/NAME` resolves NAME inside the directory
// that descriptor N holds, which is the same thing (docs/security.md).
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  unlinkSync,
  type Stats,
} from 'node:fs';

const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Linux's O_PATH (x86-64), which fs.constants lacks: a handle on the inode itself, no read or write. */
const O_PATH = 0o10000000;

/** A single path component: no '/', not '.' or '..', not empty. */
function checkedName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new Error(`not a single path component: ${JSON.stringify(name)}`);
  }
  return name;
}

export class DirHandle {
  private closed = false;

  private constructor(
    private readonly fd: number,
    /** The path it was opened by, for messages only: never used to act. */
    readonly path: string,
  ) {}

  /**
   * Opens `path` as a directory. Its last component must not be a symlink
   * (ELOOP/ENOTDIR otherwise); components before it resolve as usual.
   */
  static open(path: string): DirHandle {
    return new DirHandle(openSync(path, OPEN_DIR), path);
  }

  /**
   * Opens a directory as a configured path names it (symlinks in it are
   * followed), only to act inside it: O_PATH needs search permission on it,
   * not read permission. stat() and the *Child methods work on it; chmod()
   * and names() do not.
   */
  static openToActIn(path: string): DirHandle {
    return new DirHandle(openSync(path, O_PATH | constants.O_DIRECTORY), path);
  }

  /** Where `name` inside this directory resolves, relative to the descriptor. */
  private at(name: string): string {
    if (this.closed) throw new Error(`${this.path}: directory handle already closed`);
    return `/proc/self/fd/${this.fd}/${checkedName(name)}`;
  }

  /** Opens a subdirectory; refuses a symlink in its place. */
  openChild(name: string): DirHandle {
    return new DirHandle(openSync(this.at(name), OPEN_DIR), `${this.path}/${name}`);
  }

  /** mkdir inside this directory (the umask still filters `mode`: fchmod after opening). */
  makeChild(name: string, mode: number): void {
    mkdirSync(this.at(name), { mode });
  }

  /** lstat of an entry, or undefined when there is none. */
  lstatChild(name: string): Stats | undefined {
    try {
      return lstatSync(this.at(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  unlinkChild(name: string): void {
    unlinkSync(this.at(name));
  }

  removeChildDir(name: string): void {
    rmdirSync(this.at(name));
  }

  /**
   * Holds the entry itself (a symlink is held as the link, never followed),
   * so that what is checked is what is then connected to.
   */
  pinChild(name: string): PinnedEntry {
    return new PinnedEntry(openSync(this.at(name), O_PATH | constants.O_NOFOLLOW), `${this.path}/${name}`);
  }

  names(): string[] {
    return readdirSync(`/proc/self/fd/${this.fd}`);
  }

  /** What the kernel says about the directory itself. */
  stat(): Stats {
    return fstatSync(this.fd);
  }

  chmod(mode: number): void {
    fchmodSync(this.fd, mode);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** One directory entry held by an O_PATH descriptor: renames and swaps of its name cannot change which inode this is. */
export class PinnedEntry {
  constructor(
    private readonly fd: number,
    /** The path it was found by, for messages only. */
    readonly path: string,
  ) {}

  stat(): Stats {
    return fstatSync(this.fd);
  }

  /** A path to this very inode, e.g. for connect() to a socket: short enough for sun_path whatever the name. */
  get procPath(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  close(): void {
    closeSync(this.fd);
  }
}
