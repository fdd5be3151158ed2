// Reading other processes' memory and CPU from /proc.
import { readFileSync, readdirSync } from 'node:fs';
import { anonResidentKiB, parentPid, processIds } from '../src/processes.js';
import { isAlive } from '../test/support/atsr-sandbox.js';

/** Pss and its anonymous part (heap, arenas, buffers) in KiB, from smaps_rollup; zeros if gone. */
export interface PssSplit {
  pss: number;
  pssAnon: number;
}

export function pssSplitKiB(pid: number): PssSplit {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
    return { pss: field('Pss'), pssAnon: field('Pss_Anon') };
  } catch {
    return { pss: 0, pssAnon: 0 };
  }
}

/** Proportional set size in KiB (shared pages divided among their users); 0 if the process is gone. */
export const pssKiB = (pid: number): number => pssSplitKiB(pid).pss;

export function sumSplits(splits: readonly PssSplit[]): PssSplit {
  return splits.reduce((a, b) => ({ pss: a.pss + b.pss, pssAnon: a.pssAnon + b.pssAnon }), { pss: 0, pssAnon: 0 });
}

/** `pid` and every process below it. */
export function withDescendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const child of processIds()) {
    const parent = parentPid(child);
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]!) ?? []));
  return found;
}

/** Resident anonymous memory in KiB (src/processes.ts), 0 if gone: cheap enough to sample hundreds of processes often. */
export const anonKiB = (pid: number): number => anonResidentKiB(pid) ?? 0;

/**
 * CPU seconds the process has run so far (user + system) in all its threads,
 * from the scheduler's nanosecond count: /proc/PID/stat's clock ticks round
 * short runs to zero, and /proc/PID/schedstat counts only the main thread,
 * which left out a Node process's GC and compiler threads. A thread that
 * already ended is not counted (Node's threads live as long as the process).
 * 0 if the process is gone.
 */
export function cpuSeconds(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return 0;
  }
  return ns / 1e9;
}

/** Processes whose argument vector satisfies `match`. */
export function findPids(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const pid of processIds()) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
      if (argv.length > 0 && match(argv)) pids.push(pid);
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

export { isAlive };

/** Sends a signal to processes that may already have ended. */
export function killAll(pids: readonly number[], signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Ends processes (SIGTERM) and waits until they are gone, up to `ms`. */
export async function endProcesses(pids: readonly number[], ms = 10_000): Promise<void> {
  killAll(pids);
  for (let waited = 0; waited < ms && pids.some(isAlive); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
