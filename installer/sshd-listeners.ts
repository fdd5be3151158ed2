// The running sshd listeners and the config file each reads, from /proc.
// A listener is the sshd that accepts connections; per-connection children
// (titled "sshd: USER [priv]") and `sshd -t`/`-T`/`-i` runs are not. Its file
// is its -f argument, else the default, resolved as sshd resolves it when a
// SIGHUP makes it re-execute itself: in its own root and working directory.
// Only root's processes count: any user can start a process named "sshd"
// with any arguments, and the installer names their files to the admin and
// signals them.
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { processIds } from '../src/processes.js';
import { isAbsolute, join } from 'node:path';
import { DEFAULT_SSHD_CONFIG } from './options.js';

export interface SshdListener {
  pid: number;
  /** The file it reads, as an absolute path in its own file system view. */
  config: string;
  /** Whether its command line names the file with -f (else it reads the default). */
  named: boolean;
  /** The file's device and inode, as the listener sees it; undefined when it cannot be read. */
  identity: string | undefined;
}

/** sshd's options that take an argument (OpenSSH's getopt string "C:E:b:c:f:g:h:k:o:p:u:46DQRTdeiqrtV"). */
const TAKES_ARGUMENT = new Set([...'CEbcfghkopu']);
/** Modes that check or serve one connection: no listener. */
const NOT_A_LISTENER = new Set([...'tTi']);

interface SshdArgs {
  config: string | undefined;
  flags: Set<string>;
}

/** sshd's arguments (program name excluded), parsed as its getopt does: options end at the first non-option. */
export function parseSshdArgs(args: readonly string[]): SshdArgs {
  const parsed: SshdArgs = { config: undefined, flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--' || !arg.startsWith('-') || arg === '-') break;
    for (let j = 1; j < arg.length; j++) {
      const opt = arg[j]!;
      if (!TAKES_ARGUMENT.has(opt)) {
        parsed.flags.add(opt);
        continue;
      }
      const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i];
      if (opt === 'f') parsed.config = value;
      break;
    }
  }
  return parsed;
}

/**
 * The argv of a listener from /proc/PID/cmdline, or undefined for a
 * per-connection child. A listener may have rewritten its title into one
 * string: "sshd: /usr/sbin/sshd -f X -D [listener] 0 of 10-100 startups".
 */
function listenerArgv(cmdline: string): string[] | undefined {
  const argv = cmdline.split('\0').filter(Boolean);
  if (argv.length === 0) return undefined;
  if (!argv[0]!.startsWith('sshd:')) return argv;
  const title = argv.join(' ');
  if (!title.includes('[listener]')) return undefined;
  return title.slice('sshd:'.length).trim().split(/\s+/);
}

export function fileIdentity(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * Whether the kernel says the process runs as root (real and effective uid).
 * Not the owner of /proc/PID: any process can make that root's by
 * declaring itself non-dumpable.
 */
function runsAsRoot(proc: string): boolean {
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`${proc}/status`, 'utf8'));
  return uids?.[1] === '0' && uids[2] === '0';
}

function listenerOf(pid: number): SshdListener | undefined {
  const proc = `/proc/${pid}`;
  if (readFileSync(`${proc}/comm`, 'utf8').trim() !== 'sshd' || !runsAsRoot(proc)) return undefined;
  const argv = listenerArgv(readFileSync(`${proc}/cmdline`, 'utf8'));
  if (argv === undefined) return undefined;
  const args = parseSshdArgs(argv.slice(1));
  if ([...args.flags].some((f) => NOT_A_LISTENER.has(f))) return undefined;
  const named = args.config ?? DEFAULT_SSHD_CONFIG;
  // Through /proc/PID/root and /proc/PID/cwd: the file this sshd sees, also when it runs in a container.
  const config = isAbsolute(named) ? named : join(readlinkSync(`${proc}/cwd`), named);
  const seen = isAbsolute(named) ? `${proc}/root${named}` : `${proc}/cwd/${named}`;
  return { pid, config, named: args.config !== undefined, identity: fileIdentity(seen) };
}

/** Every running sshd listener of root's, with the file it reads. */
export function runningSshdListeners(): SshdListener[] {
  let pids: number[];
  try {
    pids = processIds();
  } catch {
    return [];
  }
  const listeners: SshdListener[] = [];
  for (const pid of pids) {
    try {
      const l = listenerOf(pid);
      if (l !== undefined) listeners.push(l);
    } catch {
      // it exited while being looked at
    }
  }
  return listeners;
}

/** Whether the listener reads this file (the same file, by device and inode). */
export function reads(listener: SshdListener, path: string): boolean {
  const id = fileIdentity(path);
  return id !== undefined && listener.identity === id;
}
