// Memory that comes back after a burst of output. A 64 MiB burst leaves a
// host ~12 MiB bigger for good (docs/benchmarks.md): not the V8 heap, but
// glibc's malloc heap, full of the per-read Buffers V8 had not collected
// yet and of free pages pinned between live chunks. Once the output has
// been quiet a while, a full GC frees the dead Buffers and malloc_trim(0)
// gives the free pages back to the kernel. Either step alone gives back
// little (a GC frees into malloc, which keeps the pages; a trim before the
// GC finds them still in use).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { anonResidentKiB } from '../processes.js';
import { hostNative } from './host-native.js';

/** Output quiet this long counts as the end of a burst. */
const QUIET_MS = 2000;
/** Less output than this since the last trim (keystroke echoes, a prompt) is not worth a GC. */
const BURST_BYTES = 1 << 20;
/**
 * After output alone, a trim waits until the process has grown this much
 * since the last one: short of it, the host is within the 1 MiB of its idle
 * footprint that it must come back to anyway, and the trim's full GC would
 * cost about as much CPU as the 1 MiB burst itself (docs/benchmarks.md, "The
 * host's read-on in C, and the trim's own cost").
 */
const WORTH_TRIMMING_KIB = 1024;

export interface TrimSteps {
  collectGarbage(): void;
  /** Returns free malloc pages to the kernel. */
  trimMalloc(): void;
  /** Resident anonymous memory, KiB; undefined where it cannot be read (then every burst is trimmed). */
  residentKiB(): number | undefined;
}

/**
 * Counts output and trims once it has gone quiet after at least BURST_BYTES,
 * if the process grew by WORTH_TRIMMING_KIB since the last trim.
 * The host's own start counts as work: compiling the bundle and starting
 * the session leave V8's young generation grown and garbage in malloc, which
 * the first trim gives back (1.7 MiB of an idle host's 12.5 MiB here); so
 * does an attach (0.56 MiB).
 */
export class IdleMemoryTrim {
  private sinceTrim = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Work other than output asked for this trim: it trims whatever the growth. */
  private workPending = true;
  /** residentKiB() after the last trim. */
  private afterTrimKiB = 0;

  constructor(private readonly steps: TrimSteps) {
    this.armOrRefresh();
  }

  /** Work that leaves garbage whatever the output (an attach: its handshake, the utmp helper's spawn): trim once quiet. */
  noteWork(): void {
    this.workPending = true;
    this.armOrRefresh();
  }

  /** `bytes` of output just went out: the quiet period starts again. */
  noteOutput(bytes: number): void {
    this.sinceTrim += bytes;
    if (this.sinceTrim >= BURST_BYTES) this.armOrRefresh();
  }

  private armOrRefresh(): void {
    if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(this.trim, QUIET_MS).unref();
  }

  private readonly trim = (): void => {
    this.timer = undefined;
    this.sinceTrim = 0;
    const resident = this.steps.residentKiB();
    if (!this.workPending && resident !== undefined && resident - this.afterTrimKiB < WORTH_TRIMMING_KIB) return;
    this.workPending = false;
    this.steps.collectGarbage();
    this.steps.trimMalloc();
    this.afterTrimKiB = this.steps.residentKiB() ?? 0;
  };
}

/**
 * The trim for this process, or undefined where host-native.node is not
 * beside the executable (or does not load): a GC alone gives nothing back.
 */
export function idleMemoryTrim(): IdleMemoryTrim | undefined {
  const native = hostNative();
  if (!native) return undefined;
  return new IdleMemoryTrim({ collectGarbage: memoryReducingGc(), trimMalloc: () => native.trim(), residentKiB: () => anonResidentKiB('self') });
}

/** V8's gc extension (--expose-gc). */
type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** A full GC that also shrinks V8's heap, exposed when first needed. */
function memoryReducingGc(): () => void {
  let gc: GcFunction | undefined;
  return () => {
    // A context made after --expose-gc has `gc`; the main one was made before.
    if (!gc) {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as GcFunction;
    }
    // last-resort: V8's memory-reducing GC (as on a low-memory notification),
    // which also gives back the heap pages the burst made V8 grow.
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  };
}
