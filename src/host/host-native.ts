// host-native.node (src/host/host-native.c), loaded once, when first needed:
// the host's malloc_trim and dup, and the listing's SO_PEERCRED, which Node
// does not offer, and its
// read-on loop, output written through and input written into the pty,
// which fs.readSync, Writable and fs.writeSync make costly, and its socket
// watch, which in JavaScript was nearly all of an idle host's CPU. Undefined where
// the addon is not beside the executable or does not load; that is never a
// reason for a session not to start, only for doing without (see callers).
import { findShippedFile } from '../shipped-file.js';

export interface HostNative {
  /** malloc_trim(0); true if it gave memory back. */
  trim(): boolean;
  /** A close-on-exec duplicate of `fd`, or -1. */
  dup(fd: number): number;
  /** The kernel's PID of a connected Unix socket's peer (SO_PEERCRED; for a listener, who called listen()); 0 outside our PID namespace, -1 if none. */
  peerPid(fd: number): number;
  /** Reads `fd` into `buf` from `at` while `full` bytes fit before `end` and each read was full; the bytes read. */
  readOn(fd: number, buf: Buffer, at: number, end: number, full: number): number;
  /** One write(2) of the whole of `buf` to `fd`: the bytes written, or -errno (-EAGAIN when it is full). */
  write(fd: number, buf: Buffer): number;
  /**
   * Sends `buf`'s first `length` bytes (read on up to `end` first, as readOn,
   * when `length` >= `full`) to `sock` as one frame whose header is `header`
   * with the payload's length written in; the bytes of header and payload the
   * socket took, which is fewer when it filled or failed.
   */
  writeOut(pty: number, sock: number, buf: Buffer, length: number, end: number, full: number, header: Buffer): number;
  /**
   * Every `ms`, on an unref'd libuv timer: stat(`socket`) must give a
   * socket of inode `ino`, and lstat of each of `dirs` (at most 4) the device, inode, mode
   * and owner they had when armed; at the first difference the watch stops
   * and `onChange` is called once. Arming again replaces the watch.
   */
  watchSocket(socket: string, ino: number, dirs: string[], ms: number, onChange: () => void): void;
  /** Stops the socket watch. */
  unwatchSocket(): void;
}

/** undefined until first asked; null: not beside the executable, or did not load. */
let native: HostNative | null | undefined;

export function hostNative(): HostNative | undefined {
  if (native === undefined) {
    native = null;
    const file = findShippedFile('host-native.node');
    if (file) {
      const holder = { exports: {} as HostNative };
      try {
        process.dlopen(holder, file);
        native = holder.exports;
      } catch {
        // Without it: see the callers.
      }
    }
  }
  return native ?? undefined;
}
