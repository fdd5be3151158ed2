// What the kernel says about processes: which exist, from /proc and signal 0.
import { readdirSync } from 'node:fs';

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
