// The host's addon, as built (src/host/host-native.c): it loads, trim()
// answers, dup() gives the copy of the pty master that utmp records are
// removed through (src/host/utmp-recorder.ts), readOn() and writeOut()
// read on and write through as OutputFlow needs (src/host/output-flow.ts),
// and write() puts input into the pty as PtyInput needs (src/host/pty-input.ts).
// FIFOs stand in for the pty and the client's socket.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostNative } from '../../src/host/host-native.js';
import { ROOT } from '../support/atsr-bin.js';
import { seededBytes } from '../support/seeded-bytes.js';

/** FIFOs named `names` in a fresh temp directory (stand-ins for a pty and a socket), and its removal. */
function tempFifos(prefix: string, ...names: string[]): { paths: string[]; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const paths = names.map((n) => join(dir, n));
  execFileSync('mkfifo', paths);
  return { paths, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

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

  it('readOn() reads what waits from `at` while a full read fits, and stops at an empty pipe, without throwing', () => {
    const native = load();
    const { paths: [fifo], remove } = tempFifos('readon-', 'fifo');
    const rd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wr = openSync(fifo, 'w');
    try {
      const buf = Buffer.alloc(1000, 0x2e);
      expect(native.readOn(rd, buf, 10, 1000, 100)).toBe(0); // empty: EAGAIN ends it
      const sent = Buffer.from(Array.from({ length: 250 }, (_, i) => 0xfe - (i % 3)));
      writeSync(wr, sent);
      expect(native.readOn(rd, buf, 10, 59, 50)).toBe(0); // less room than a full read: nothing read
      expect(native.readOn(rd, buf, 10, 1000, 100)).toBe(250);
      expect(buf.subarray(10, 260)).toEqual(sent);
      expect(buf[9]).toBe(0x2e);
      expect(buf[260]).toBe(0x2e);
      writeSync(wr, sent.subarray(0, 30));
      expect(native.readOn(rd, buf, 0, 1000, 100)).toBe(30); // less than a full read: all there was
      expect(() => native.readOn(rd, buf, 10, 1001, 100)).toThrow(TypeError);
      expect(() => native.readOn(rd, buf, 20, 10, 100)).toThrow(TypeError);
      expect(() => native.readOn(rd, buf, 0, 10, 0)).toThrow(TypeError);
      expect(() => (native.readOn as (...a: unknown[]) => number)(rd, 'text', 0, 1, 1)).toThrow(TypeError);
    } finally {
      closeSync(wr);
      closeSync(rd);
      remove();
    }
  });

  it('writeOut() sends the read, and what it read on after a full one, as one frame; a full socket takes a part and says how much', () => {
    const native = load();
    const { paths: [ptyFifo, sockFifo], remove } = tempFifos('writeout-', 'pty', 'sock');
    const pty = openSync(ptyFifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const ptyWriter = openSync(ptyFifo, 'w');
    const sockReader = openSync(sockFifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const sock = openSync(sockFifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const drain = (): Buffer => {
      const got = Buffer.alloc(1 << 20);
      try {
        return got.subarray(0, readSync(sockReader, got));
      } catch {
        return Buffer.alloc(0); // EAGAIN: empty
      }
    };
    const header = Buffer.from([0x42, 9, 9, 9, 9]);
    try {
      // A short read: no reading on, the frame in one write.
      const buf = Buffer.alloc(4096, 0x2e);
      buf.write('hello\xfe', 'latin1');
      expect(native.writeOut(pty, sock, buf, 6, 4096, 100, header)).toBe(11);
      expect(header).toEqual(Buffer.from([0x42, 0, 0, 0, 6]));
      expect(drain()).toEqual(Buffer.from('\x42\0\0\0\x06hello\xfe', 'latin1'));

      // A full read: what the pty holds after it joins the frame.
      const more = Buffer.from(Array.from({ length: 250 }, (_, i) => 0xfe - (i % 3)));
      writeSync(ptyWriter, more);
      buf.fill(0x1e, 0, 100);
      expect(native.writeOut(pty, sock, buf, 100, 4096, 100, header)).toBe(355);
      expect(drain()).toEqual(Buffer.concat([Buffer.from([0x42, 0, 0, 1, 94]), buf.subarray(0, 100), more]));
      expect(buf.subarray(0, 350)).toEqual(Buffer.concat([Buffer.alloc(100, 0x1e), more]));

      // A socket that fills (a pipe holds 64 KiB): the part it took, in order, and nothing more.
      const big = seededBytes(41, 200 * 1024);
      const written = native.writeOut(pty, sock, big, big.length, big.length, 1 << 30, header);
      expect(written).toBeGreaterThan(0);
      expect(written).toBeLessThan(5 + big.length);
      expect(drain()).toEqual(Buffer.concat([header, big]).subarray(0, written));

      expect(() => native.writeOut(pty, sock, buf, 10, 4097, 100, header)).toThrow(TypeError);
      expect(() => native.writeOut(pty, sock, buf, 20, 10, 100, header)).toThrow(TypeError);
      expect(() => native.writeOut(pty, sock, buf, 10, 10, 100, Buffer.alloc(4))).toThrow(TypeError);
      expect(() => native.writeOut(pty, -1, buf, 10, 10, 100, header)).toThrow(TypeError);
    } finally {
      for (const fd of [sock, sockReader, ptyWriter, pty]) closeSync(fd);
      remove();
    }
  });

  it('write() writes a view of a Buffer whole, says how much a full pipe took, and gives -errno without throwing', () => {
    const native = load();
    const { paths: [fifo], remove } = tempFifos('write-', 'fifo');
    const rd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const wr = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      const keys = Buffer.from('..\x1e\x1d\x1c\xfc\xfd\xfe..', 'latin1');
      expect(native.write(wr, keys.subarray(2, 8))).toBe(6);
      const got = Buffer.alloc(100);
      expect(got.subarray(0, readSync(rd, got))).toEqual(Buffer.from('\x1e\x1d\x1c\xfc\xfd\xfe', 'latin1'));

      // A pipe holds 64 KiB: the part it took, then EAGAIN as -11 once it is full.
      const big = seededBytes(43, 200 * 1024);
      const took = native.write(wr, big);
      expect(took).toBeGreaterThan(0);
      expect(took).toBeLessThan(big.length);
      expect(native.write(wr, big.subarray(took))).toBe(-osConstants.errno.EAGAIN);
      const drained = Buffer.alloc(big.length);
      expect(drained.subarray(0, readSync(rd, drained))).toEqual(big.subarray(0, took));

      closeSync(rd);
      expect(native.write(wr, keys)).toBe(-osConstants.errno.EPIPE); // no reader: the pty's EIO comes back the same way
      expect(() => native.write(-1, keys)).toThrow(TypeError);
      expect(() => (native.write as (...a: unknown[]) => number)(wr, 'text')).toThrow(TypeError);
    } finally {
      closeSync(wr);
      remove();
    }
  });
});
