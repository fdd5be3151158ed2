// The host's socket watch, as built into dist/host-native.node
// (src/host/socket-watch.c): it calls back once when the socket is deleted
// or replaced or one of its directories changes owner, mode or inode, never
// while all stays as it was, stops when asked or re-armed, and never keeps
// a process alive. A 20 ms period stands in for the host's 5 s.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostNative } from '../../src/host/host-native.js';
import { ROOT } from '../support/atsr-bin.js';

const ADDON = join(ROOT, 'dist/host-native.node');
const TICK_MS = 20;

function load(): HostNative {
  const holder = { exports: {} as HostNative };
  process.dlopen(holder, ADDON);
  return holder.exports;
}

const listen = (path: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });

const ticks = (n: number): Promise<void> => new Promise((r) => setTimeout(r, n * TICK_MS));

describe('socket watch (host-native.node)', () => {
  const native = load();
  let base: string;
  let dir: string;
  let socket: string;
  let server: Server;
  let ino: number;
  /** When each callback came, and what had been done by then. */
  let calls: string[];
  let done: string;
  let called: Promise<void>;
  let onChange: () => void;

  beforeEach(async () => {
    base = mkdtempSync(join(tmpdir(), 'watch-'));
    dir = join(base, 'sockets');
    mkdirSync(dir, { mode: 0o700 });
    socket = join(dir, 's1');
    server = await listen(socket);
    ino = statSync(socket).ino;
    calls = [];
    done = 'nothing';
    let resolve: () => void;
    called = new Promise((r) => (resolve = r));
    onChange = () => {
      calls.push(done);
      resolve();
    };
  });

  afterEach(() => {
    native.unwatchSocket();
    server.close();
    rmSync(base, { recursive: true, force: true });
  });

  const arm = (): void => native.watchSocket(socket, ino, [dir, base], TICK_MS, onChange);

  /** Does `what` after 10 quiet ticks, and waits for the one callback it must bring. */
  async function changeAndExpectOneCall(what: string, change: () => void): Promise<void> {
    arm();
    await ticks(10);
    done = what;
    change();
    await called;
    await ticks(5);
    expect(calls).toEqual([what]);
  }

  it('calls back once when the socket is deleted, and not before', async () => {
    await changeAndExpectOneCall('deleted', () => rmSync(socket));
  });

  it('calls back when the socket is replaced by another at the same path', async () => {
    await changeAndExpectOneCall('replaced', () => {
      server.close();
      rmSync(socket, { force: true });
      execFileSync('mkfifo', [socket]);
    });
  });

  it("calls back when the socket's directory changes mode", async () => {
    await changeAndExpectOneCall('dir chmod', () => chmodSync(dir, 0o755));
  });

  it("calls back when the socket's directory changes owner", async () => {
    await changeAndExpectOneCall('dir chown', () => chownSync(dir, 65534, 65534));
  });

  it("calls back when the parent's mode changes", async () => {
    await changeAndExpectOneCall('parent chmod', () => chmodSync(base, 0o1777));
  });

  it('calls back when the directory is renamed away and another made in its place', async () => {
    await changeAndExpectOneCall('dir swapped', () => {
      renameSync(dir, join(base, 'old'));
      mkdirSync(dir, { mode: 0o700 });
    });
  });

  it('is quiet after unwatchSocket(), and a new watch replaces the old one', async () => {
    arm();
    native.unwatchSocket();
    const before: string[] = [];
    native.watchSocket(socket, ino, [dir], TICK_MS, () => before.push('old'));
    arm(); // replaces the watch whose callback is `before`'s
    await ticks(3);
    done = 'deleted';
    rmSync(socket);
    await called;
    await ticks(5);
    expect(before).toEqual([]);
    expect(calls).toEqual(['deleted']);
    arm(); // the socket is gone: the next tick calls back
    native.unwatchSocket();
    await ticks(5);
    expect(calls).toEqual(['deleted']);
  });

  it('refuses arguments it cannot use with a TypeError', () => {
    const bad: unknown[][] = [
      [],
      [socket, ino, [dir], TICK_MS],
      [socket, ino, [dir], 0, onChange],
      [socket, ino, [dir], TICK_MS, 'not a function'],
      [socket, 'ino', [dir], TICK_MS, onChange],
      [socket, ino, [dir, dir, dir, dir, dir], TICK_MS, onChange],
      [socket, ino, [dir, 3], TICK_MS, onChange],
      ['', ino, [dir], TICK_MS, onChange],
      [`/${'x'.repeat(5000)}`, ino, [dir], TICK_MS, onChange],
    ];
    const watch = native.watchSocket as (...args: unknown[]) => void;
    for (const args of bad) expect(() => watch(...args), JSON.stringify(args).slice(0, 80)).toThrow(TypeError);
  });

  it('never keeps a process alive', () => {
    // A process whose only handle is the watch exits at once, with status 0.
    const script = `const h = { exports: {} }; process.dlopen(h, ${JSON.stringify(ADDON)});
      h.exports.watchSocket(${JSON.stringify(socket)}, ${ino}, [], 60000, () => process.exit(3));`;
    expect(execFileSync(process.execPath, ['-e', script], { timeout: 10_000 }).length).toBe(0);
  });
});
