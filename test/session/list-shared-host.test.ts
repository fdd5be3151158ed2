// Root's `atsr -l` on a shared host (issue 10, items 1, 4, 11): what a user
// puts in their socket directory cannot make root delete root's files or
// write to root's terminal, the owner and PID shown are the kernel's, and
// a thousand sessions are listed in time, whole, through a pipe.
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeHost, ThrowawayUser, inProcessHosts, statusClaims, traversableTempDir } from '../support/fake-hosts.js';
import { atsrCommand } from '../support/atsr-bin.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('list-shared');
let user: ThrowawayUser;
let tmp: { dir: string; remove: () => void };
/** A shared socket root as the installer makes it: root's, sticky, world-writable. */
let root: string;

beforeAll(() => {
  user = ThrowawayUser.create();
  tmp = traversableTempDir('list-shared');
  root = `${tmp.dir}/run`;
  mkdirSync(root);
  chmodSync(root, 0o1777); // mkdir's mode passes through the umask
});
afterAll(() => {
  tmp?.remove();
  user?.remove();
});

const SWAP_ATTEMPTS = 10;

describe('root listing a shared root', () => {
  it(`deletes nothing of root's when a user swaps their directory for a symlink during the query (${SWAP_ATTEMPTS} attempts)`, async () => {
    const target = `${tmp.dir}/roots-own`;
    mkdirSync(target, { mode: 0o700 });
    const mine = `${root}/${user.uid}`;
    let swapped = 0;
    let deleted = 0;
    let ownStaleRemoved = 0;
    for (let i = 0; i < SWAP_ATTEMPTS; i++) {
      writeFileSync(`${target}/passwd`, 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
      user.privateDir(mine);
      const host = await FakeHost.start(user, [
        { path: `${mine}/passwd`, stale: true },
        { path: `${mine}/stall`, swap: { dir: mine, away: `${mine}.away`, target } },
      ]);
      const r = await box().run(['-g', root, '-l']);
      expect(r.code).toBe(0);
      if (host.said('swapped')) swapped++;
      if (!existsSync(`${target}/passwd`)) deleted++;
      if (!existsSync(`${mine}.away/passwd`)) ownStaleRemoved++;
      await host.stop();
      rmSync(mine, { recursive: true, force: true });
      rmSync(`${mine}.away`, { recursive: true, force: true });
    }
    // Every attempt raced (the swap happened while root listed), none reached root's file;
    // the user's own stale socket was removed, in the directory it really is in.
    expect({ swapped, deleted, ownStaleRemoved }).toEqual({ swapped: SWAP_ATTEMPTS, deleted: 0, ownStaleRemoved: SWAP_ATTEMPTS });
    expect(readFileSync(`${target}/passwd`, 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
  });

  it("lists root's session while a user's thousands of empty directories sit beside it, with few descriptors to spare", async () => {
    expect((await box().run(['-g', root, '-n', 'fdv', 'sleep', '60'])).code).toBe(0);
    // Each directory was held open for the whole listing: with 512 descriptors, 2,000 empty ones left the rest unlisted (EMFILE).
    const empties = Array.from({ length: 2000 }, (_, i) => `${root}/0x${i}`);
    for (const d of empties) {
      mkdirSync(d);
      chownSync(d, user.uid, user.gid); // as if the user had made them
    }
    let host: number | null | undefined;
    try {
      const r = spawnSync('prlimit', ['--nofile=512:512', '--', ...atsrCommand(), '-g', root, '-l', '--json'], { env: box().env(), encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr).not.toContain('EMFILE');
      host = (JSON.parse(r.stdout) as Array<{ name: string; pid: number | null }>).find((s) => s.name === 'fdv')?.pid;
      expect(host).toBeGreaterThan(1);
    } finally {
      for (const d of empties) rmSync(d, { recursive: true, force: true });
      if (host) process.kill(host, 'SIGTERM'); // outside the sandbox's directories: its cleanup would not find it
    }
  });

  it("names a directory a user made in another uid's name: that uid's sessions are elsewhere, and root is told", async () => {
    // The user takes uid 65534's place first; 65534's sessions then go to its ~/.atsr, which root's listing does not see.
    const squat = user.privateDir(`${root}/65534`);
    try {
      const text = await box().run(['-g', root, '-l']);
      expect(text.code).toBe(0);
      expect(text.stderr).toContain(
        `atsr: ${root}/65534: made by uid ${user.uid}, not uid 65534: uid 65534's sessions are in their own ~/.atsr and not listed here; ` +
          `remove the directory (its sessions are uid ${user.uid}'s) so that theirs come back here\n`,
      );
      expect(text.stderr).not.toContain(`${root}/${user.uid}:`); // the user's own place is theirs
    } finally {
      rmSync(squat, { recursive: true, force: true });
    }
  });

  it("prints nothing raw from a session, and the kernel's owner and PID, not the claims", async () => {
    const mine = user.privateDir(`${root}/${user.uid}`);
    const evil = statusClaims({
      name: '\x1b]0;owned\x07',
      pid: 1,
      owner: 'root',
      uid: 0,
      command: ['sh', '-c', '\x1b[2J\x1b[H\x1b[31mred\x9b1m\u202etxt.exe'],
      clientAddr: '\x1b[5m192.0.2.9',
      createdAt: '2026-11-25T10:00:00.000Z\x1b[2J',
    });
    const host = await FakeHost.start(user, [
      { path: `${mine}/evil`, claims: evil },
      { path: `${mine}/odd\x1b[2Jname`, claims: statusClaims({ name: 'odd' }) },
    ]);
    try {
      const text = await box().run(['-g', root, '-l']);
      expect(text.code).toBe(0);
      const out = Buffer.from(text.stdout, 'latin1').toString('utf8');
      expect(out).not.toMatch(/[\p{Cc}\p{Cf}](?<!\n)/u);
      const lines = out.split('\n').filter((l) => l.includes(String(host.pid)));
      expect(lines).toHaveLength(2);
      const evilLine = lines.find((l) => l.startsWith('  evil '))!;
      expect(evilLine).toMatch(new RegExp(`^  evil +${host.pid} +${user.name} `));
      expect(evilLine).toContain(`\\x1b[5m192.0.2.9`);
      expect(evilLine).toContain(`sh -c $'\\x1b[2J\\x1b[H\\x1b[31mred\\u009b1m\\u202etxt.exe'`);
      expect(lines.some((l) => l.startsWith('  odd\\x1b[2Jname '))).toBe(true);

      const json = await box().run(['-g', root, '-l', '--json']);
      const raw = Buffer.from(json.stdout, 'latin1');
      expect(raw.includes(0x1b)).toBe(false);
      expect(raw.toString('utf8')).not.toMatch(/[\p{Cc}\p{Cf}](?<![\n])/u);
      const listed = (JSON.parse(raw.toString('utf8')) as Array<Record<string, unknown>>)
        .filter((s) => s.uid === user.uid)
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      expect(listed.map((s) => [s.name, s.pid, s.owner, s.uid])).toEqual([
        ['evil', host.pid, user.name, user.uid],
        ['odd\x1b[2Jname', host.pid, user.name, user.uid],
      ]);
      expect(listed[0]!.command).toEqual(evil.command); // the same value, escaped only in its text
    } finally {
      await host.stop();
      rmSync(mine, { recursive: true, force: true });
    }
  });
});

describe('atsr -l at scale', () => {
  it("shows a session's status fields and no others, each bounded: a flood of claims neither floods nor crashes root's listing", async () => {
    const mine = user.privateDir(`${root}/${user.uid}`);
    const words = ['a'.repeat(3000), 'b'.repeat(3000), 'c'];
    // (A status frame may hold 1 MiB; the fake host takes its claims as one argument, at most 128 KiB.) DEL is
    // sent raw in JSON and shown escaped, 4 characters each: unbounded, 200 such sessions made one row 400 MB.
    const flood = statusClaims({ clientAddr: '\x7f'.repeat(100_000), command: words, problem: 'no host (stale socket, not removed)', extra: 'x' });
    const host = await FakeHost.start(user, [{ path: `${mine}/flood`, claims: flood }]);
    try {
      const json = await box().run(['-g', root, '-l', '--json']);
      expect(json.code).toBe(0);
      const utf8 = (latin1: string): string => Buffer.from(latin1, 'latin1').toString('utf8');
      const listed = (JSON.parse(utf8(json.stdout)) as Array<Record<string, unknown>>).find((s) => s.name === 'flood')!;
      expect(listed.clientAddr).toBe(`${'\x7f'.repeat(256)}…`);
      expect(listed.command).toEqual([words[0], `${'b'.repeat(4096 - 3000)}…`]);
      expect(Object.keys(listed).sort()).toEqual(
        ['attached', 'bufferSize', 'clientAddr', 'command', 'createdAt', 'detachedSince', 'exitStatus', 'exited', 'in', 'name', 'out', 'owner', 'pid', 'socket', 'uid', 'viewers'],
      );
      const text = await box().run(['-g', root, '-l']);
      expect(text.code).toBe(0);
      const line = utf8(text.stdout).split('\n').find((l) => l.startsWith('  flood '))!;
      expect(line).toContain(`${'\\x7f'.repeat(256)}…`);
      expect(line).not.toContain('stale socket');
      expect(line.length).toBeLessThan(8000);
    } finally {
      await host.stop();
      rmSync(mine, { recursive: true, force: true });
    }
  });

  it('lists 1,000 sessions, and 5 that never answer as such, in under 5 s', async () => {
    mkdirSync(box().sockets, { mode: 0o700 });
    const names = Array.from({ length: 1005 }, (_, i) => `s${String(i).padStart(4, '0')}`);
    const silent = new Set(names.slice(1000));
    const stop = await inProcessHosts(box().sockets, names, silent);
    try {
      const started = Date.now();
      const r = await box().atsr(['-l', '--json']);
      const elapsed = Date.now() - started;
      expect(r.code).toBe(0);
      const listed = JSON.parse(r.stdout) as Array<{ name: string; pid: number; owner: string; problem?: string }>;
      expect(listed).toHaveLength(1005);
      expect(listed.filter((s) => s.problem === undefined).map((s) => s.name)).toEqual(names.slice(0, 1000));
      // The kernel's word on each: the listening process (this one) and the socket's owner.
      expect(new Set(listed.map((s) => `${s.pid} ${s.owner}`))).toEqual(new Set([`${process.pid} root`]));
      expect(listed.slice(1000).map((s) => [s.name, s.problem])).toEqual([...silent].map((n) => [n, 'no answer within 2 s']));
      expect(elapsed).toBeLessThan(5000);

      const text = await box().atsr(['-l']);
      expect(text.stdout.split('\n').filter((l) => l.endsWith('(no answer within 2 s)'))).toHaveLength(5);
    } finally {
      await stop();
    }
  });

  it('writes the whole JSON of 300 sessions into a pipe whose reader is slow', async () => {
    mkdirSync(box().sockets, { mode: 0o700 });
    const stop = await inProcessHosts(box().sockets, Array.from({ length: 300 }, (_, i) => `p${i}`), new Set());
    try {
      // A shell pipe (64 KiB), read only after a second: atsr must wait for it, not exit with the rest unwritten.
      const [atsr, ...pre] = atsrCommand();
      const argv = [...pre, '-u', box().sockets, '-l', '--json'].map((a) => `'${a}'`).join(' ');
      const sh = spawn('sh', ['-c', `'${atsr}' ${argv} | { sleep 1; cat; }`], { env: box().env(), stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      sh.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      await new Promise((r) => sh.once('close', r));
      expect(out.length).toBeGreaterThan(65_536);
      expect((JSON.parse(out) as unknown[]).length).toBe(300);
    } finally {
      await stop();
    }
  });
});
