// Which process listens on a session's socket, from what the kernel says:
// /proc/net/unix (listening socket inode <- bound path) and /proc/PID/fd
// (socket:[inode] -> PID), never from the session's own answer
// (docs/security.md). A user controls the bound path's text, so a path with
// a newline can forge a line of /proc/net/unix: an inode named on two lines,
// a path with two listening inodes, or a socket held by two processes is
// ambiguous and yields no PID. One exception: a host that just forked its
// command (node-pty's forkpty) shares the socket with the child until the
// child's exec closes it, so a holder whose other holders are all its own
// children is the listener.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { parentPid, processIds } from '../processes.js';

/** __SO_ACCEPTCON in /proc/net/unix's Flags: a listening socket. */
const ACCEPTCON = 0x10000;
const SOCK_STREAM = 1;
const LINE = /^[0-9a-f]+: [0-9A-F]+ [0-9A-F]+ ([0-9A-F]+) ([0-9A-F]+) [0-9A-F]+ (\d+)(?: (.*))?$/;

interface UnixSockets {
  /** Listening stream sockets' inodes by bound path. */
  listening: Map<string, number[]>;
  /** How many lines name each inode (more than one: a forged line). */
  lines: Map<number, number>;
}

function readUnixSockets(): UnixSockets {
  const listening = new Map<string, number[]>();
  const lines = new Map<number, number>();
  for (const line of readFileSync('/proc/net/unix', 'latin1').split('\n').slice(1)) {
    const m = LINE.exec(line);
    if (!m) continue;
    const inode = Number(m[3]);
    lines.set(inode, (lines.get(inode) ?? 0) + 1);
    const path = m[4];
    if (path === undefined || (parseInt(m[1]!, 16) & ACCEPTCON) === 0 || parseInt(m[2]!, 16) !== SOCK_STREAM) continue;
    listening.set(path, [...(listening.get(path) ?? []), inode]);
  }
  return { listening, lines };
}

/** Reads of /proc/net/unix at most, while one may have raced with other sockets. */
const MAX_READS = 5;

/** The one listening inode bound at `spellings` (ways to write one socket's path), named on one line; else undefined. */
function listeningInode(sockets: UnixSockets, spellings: readonly string[]): number | undefined {
  const inodes = [...new Set(spellings.flatMap((p) => sockets.listening.get(p) ?? []))];
  return inodes.length === 1 && sockets.lines.get(inodes[0]!) === 1 ? inodes[0] : undefined;
}

/**
 * /proc/net/unix, read again (at most MAX_READS times in all) while some
 * socket of `wanted` has no unambiguous listening inode in it. The kernel
 * hands the table out in pieces, and sockets made or closed between two
 * pieces make a read repeat or skip lines of others: 6 lines repeated and 5
 * skipped in 2,920 reads of a 119 KB table here, with other sockets made
 * and closed all along. A forged line is in every read, and a socket nobody
 * listens on is missing from every one: those stay as they are.
 */
function readSettledUnixSockets(wanted: readonly (readonly string[])[]): UnixSockets {
  let sockets = readUnixSockets();
  for (let reads = 1; reads < MAX_READS && wanted.some((w) => listeningInode(sockets, w) === undefined); reads++) sockets = readUnixSockets();
  return sockets;
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return []; // gone, or not ours to read
  }
}

/** PIDs of processes (in this network namespace) holding each of `inodes`. */
function holders(inodes: Set<number>): Map<number, number[]> {
  const found = new Map<number, number[]>();
  if (inodes.size === 0) return found;
  const ownNetns = readlinkSync('/proc/self/ns/net');
  for (const pid of processIds()) {
    const held = new Set<number>();
    for (const fd of readdirOrEmpty(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(Number(m[1]))) held.add(Number(m[1]));
      } catch {
        // Closed meanwhile.
      }
    }
    if (held.size === 0) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ownNetns) continue;
    } catch {
      continue;
    }
    for (const inode of held) found.set(inode, [...(found.get(inode) ?? []), pid]);
  }
  return found;
}

/** The one holder, or the holder whose other holders are all its children (forked, not yet exec'd). */
function listenerAmong(pids: readonly number[]): number | undefined {
  if (pids.length === 1) return pids[0];
  const parents = pids.map(parentPid);
  const candidates = pids.filter((p) => parents.every((parent, i) => pids[i] === p || parent === p));
  return candidates.length === 1 ? candidates[0] : undefined;
}

function ownerOf(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

export class ListenerTable {
  private constructor(
    private readonly sockets: UnixSockets,
    private readonly pidsByInode: Map<number, number[]>,
  ) {}

  /** Reads the kernel's tables for `sockets`, each the ways to write one socket's path. */
  static read(sockets: readonly (readonly string[])[]): ListenerTable {
    try {
      const table = readSettledUnixSockets(sockets);
      const wanted = new Set<number>();
      for (const p of sockets.flat()) for (const inode of table.listening.get(p) ?? []) wanted.add(inode);
      return new ListenerTable(table, holders(wanted));
    } catch {
      // No /proc to read (a hardened mount): no PID is certain.
      return new ListenerTable({ listening: new Map(), lines: new Map() }, new Map());
    }
  }

  /**
   * The one process that listens on the socket bound at `spellings` (ways
   * to write one socket's path) and that belongs to `uid`, the socket
   * file's owner; undefined unless exactly one such process is certain.
   */
  pidFor(spellings: string[], uid: number): number | undefined {
    const inode = listeningInode(this.sockets, spellings);
    if (inode === undefined) return undefined;
    const pid = listenerAmong(this.pidsByInode.get(inode) ?? []);
    return pid !== undefined && pid > 1 && pid !== process.pid && ownerOf(pid) === uid ? pid : undefined;
  }
}
