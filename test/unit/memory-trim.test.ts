// The host's trim after bursts (src/host/memory-trim.ts): when it runs, and
// in which order. What it gives back is measured by `npm run bench -- --only
// burst`, not here; the addon itself by host-native.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleMemoryTrim } from '../../src/host/memory-trim.js';

const MIB = 1 << 20;

interface RecordingTrim {
  trim: IdleMemoryTrim;
  steps: string[];
  /** The process's resident memory grows by `kib`. */
  grow(kib: number): void;
}

/** A trim that records its steps, as the host's start makes it; its process resident at 10 MiB. */
function newRecordingTrim(): RecordingTrim {
  const steps: string[] = [];
  let residentKiB = 10 * 1024;
  const trim = new IdleMemoryTrim({
    collectGarbage: () => steps.push('gc'),
    trimMalloc: () => steps.push('malloc_trim'),
    residentKiB: () => residentKiB,
  });
  return { trim, steps, grow: (kib) => (residentKiB += kib) };
}

/** A trim past the one the host's start makes (which each test checks first). */
function recordingTrim(): RecordingTrim {
  const r = newRecordingTrim();
  vi.advanceTimersByTime(2000);
  expect(r.steps).toEqual(['gc', 'malloc_trim']);
  r.steps.length = 0;
  return r;
}

describe('IdleMemoryTrim', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("trims once 2 s after the host's start, and the start's small output (a prompt) does not put it off", () => {
    const { trim, steps } = newRecordingTrim();
    vi.advanceTimersByTime(1000);
    trim.noteOutput(100);
    vi.advanceTimersByTime(999);
    expect(steps).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(steps).toEqual(['gc', 'malloc_trim']);
    vi.advanceTimersByTime(60_000);
    expect(steps).toEqual(['gc', 'malloc_trim']);
  });

  it('trims 2 s after other work (an attach), also with no output and no growth', () => {
    const { trim, steps } = recordingTrim();
    trim.noteWork();
    vi.advanceTimersByTime(1000);
    trim.noteWork();
    vi.advanceTimersByTime(1999);
    expect(steps).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(steps).toEqual(['gc', 'malloc_trim']);
  });

  it('never trims after less than 1 MiB of output (keystroke echoes, prompts)', () => {
    const { trim, steps } = recordingTrim();
    for (let i = 0; i < 255; i++) trim.noteOutput(4096);
    vi.advanceTimersByTime(60_000);
    expect(steps).toEqual([]);
  });

  it('trims once, GC first, 2 s after a burst of output that grew the process by 1 MiB went quiet', () => {
    const { trim, steps, grow } = recordingTrim();
    trim.noteOutput(MIB);
    grow(1024);
    vi.advanceTimersByTime(1999);
    expect(steps).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(steps).toEqual(['gc', 'malloc_trim']);
    vi.advanceTimersByTime(60_000);
    expect(steps).toEqual(['gc', 'malloc_trim']);
  });

  it('leaves a burst that grew the process by less than 1 MiB, and trims at a later quiet once the growth since the last trim reaches it', () => {
    const { trim, steps, grow } = recordingTrim();
    trim.noteOutput(MIB);
    grow(1023);
    vi.advanceTimersByTime(60_000);
    expect(steps).toEqual([]);
    trim.noteOutput(MIB);
    grow(1);
    vi.advanceTimersByTime(2000);
    expect(steps).toEqual(['gc', 'malloc_trim']);
  });

  it('trims after every burst where the process cannot read its own size', () => {
    const steps: string[] = [];
    const trim = new IdleMemoryTrim({ collectGarbage: () => steps.push('gc'), trimMalloc: () => {}, residentKiB: () => undefined });
    vi.advanceTimersByTime(2000);
    for (let i = 0; i < 2; i++) {
      trim.noteOutput(MIB);
      vi.advanceTimersByTime(2000);
    }
    expect(steps).toEqual(['gc', 'gc', 'gc']);
  });

  it('waits while output keeps coming, and counts anew after a trim', () => {
    const { trim, steps, grow } = recordingTrim();
    grow(4096);
    trim.noteOutput(MIB);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1500);
      trim.noteOutput(4096);
    }
    expect(steps).toEqual([]);
    vi.advanceTimersByTime(2000);
    expect(steps).toEqual(['gc', 'malloc_trim']);
    grow(4096);
    trim.noteOutput(MIB - 1);
    vi.advanceTimersByTime(60_000);
    expect(steps).toEqual(['gc', 'malloc_trim']);
    trim.noteOutput(1);
    vi.advanceTimersByTime(2000);
    expect(steps).toEqual(['gc', 'malloc_trim', 'gc', 'malloc_trim']);
  });
});
