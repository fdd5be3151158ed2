// The host's addon, as built (src/host/host-native.c): it loads, trim()
// answers, and dup() gives the copy of the pty master that utmp records are
// removed through (src/host/utmp-recorder.ts).
import { closeSync, existsSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostNative } from '../../src/host/host-native.js';
import { ROOT } from '../support/atsr-bin.js';

describe('dist/host-native.node', () => {
  const load = (): HostNative => {
    const file = join(ROOT, 'dist/host-native.node');
    expect(existsSync(file)).toBe(true);
    const holder = { exports: {} as HostNative };
    process.dlopen(holder, file);
    return holder.exports;
  };

  it('is built and loads as a Node-API addon whose trim() answers whether it gave memory back', () => {
    expect(typeof load().trim()).toBe('boolean');
  });

  it('dup() gives a close-on-exec copy of a descriptor, -1 for a closed one, and refuses what is not one', () => {
    const native = load();
    const fd = openSync('/dev/null', 'r');
    const copy = native.dup(fd);
    try {
      expect(copy).toBeGreaterThan(fd);
      expect(fstatSync(copy).ino).toBe(fstatSync(fd).ino);
      // fdinfo's flags are octal; O_CLOEXEC is 02000000.
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${copy}`, 'utf8'))![1]!;
      expect(parseInt(flags, 8) & 0o2000000).toBe(0o2000000);
    } finally {
      closeSync(copy);
      closeSync(fd);
    }
    expect(native.dup(fd)).toBe(-1);
    expect(() => native.dup(-1)).toThrow(TypeError);
    expect(() => (native.dup as (fd: unknown) => number)('3')).toThrow(TypeError);
  });
});
