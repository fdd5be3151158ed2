// What the kernel says about processes: which exist, from /proc and signal 0.
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** Every process ID in /proc now (the list may be stale by the time it is used). */
export function processIds(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** Whether a process is there: signal 0 sends nothing; EPERM means it exists but is another user's. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const PAGE_KIB = 4;

/**
 * Resident anonymous memory in KiB (resident minus file-backed and shared
 * pages, from /proc/PID/statm): cheap enough to read often, where
 * smaps_rollup costs about a millisecond. Undefined if it cannot be read.
 */
export function anonResidentKiB(pid: number | 'self'): number | undefined {
  try {
    const [, resident, shared] = readFileSync(`/proc/${pid}/statm`, 'latin1').split(' ').map(Number);
    return (resident! - shared!) * PAGE_KIB;
  } catch {
    return undefined;
  }
}

/** A process's parent, from /proc/PID/stat (read after the command name, which may hold anything); 0 if gone. */
export function parentPid(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The uid that owns `pid` (its /proc entry's owner), or undefined if it is gone. */
export function processOwner(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}
