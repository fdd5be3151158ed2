// The standalone executable as shipped: dist/atsr (the native entry, which
// runs dist/atsr-node for all of these) runs, and starts its session hosts
// from the Node executable, with no Node on PATH, TMPDIR on a noexec mount,
// a read-only HOME, no HOME at all, or a user's NODE_OPTIONS; dist/rezume
// takes the client role by its name; the build recorded the glibc floor; its
// session host does V8's background work on its main thread (ci/node-flags.ts).
// Runs as root: it mounts tmpfs.
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, privateTempDir } from '../support/atsr-bin.js';
import { isAlive, waitUntil, type ListedSession, type RunResult } from '../support/atsr-sandbox.js';
import { V2Client } from '../support/raw-attach.js';

const DIST = join(ROOT, 'dist');
const ATSR = join(DIST, 'atsr');
const SEA = join(DIST, 'atsr-node');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const COMMAND = ['sh', '-c', 'echo ok; sleep 30'];

/** Runs an executable with exactly `env` (nothing inherited), stdin closed. */
function runExe(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

let top: { dir: string; remove: () => void };
const mounts: string[] = [];
const hosts = new Set<number>(); // killed in afterAll if a test fails before it ends them
// The directories the environments below point at, made in beforeAll.
let bin = '';
let home = '';
let noexecTmp = '';
let readOnlyHome = '';

function mountTmpfs(dir: string, options: string): void {
  mkdirSync(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${options},size=1m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot mount a tmpfs on ${dir}: this test needs root with mount permission (${String(err)})`);
  }
  mounts.push(dir);
}

beforeAll(() => {
  top = privateTempDir('packaging');
  // PATH holds only what the session's command uses: no node anywhere.
  bin = join(top.dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['sh', 'sleep']) symlinkSync(`/bin/${tool}`, join(bin, tool));
  home = join(top.dir, 'home');
  mkdirSync(home, { mode: 0o700 });
  noexecTmp = join(top.dir, 'tmp');
  mountTmpfs(noexecTmp, 'noexec');
  readOnlyHome = join(top.dir, 'rohome');
  mountTmpfs(readOnlyHome, 'ro'); // read-only for root too, unlike a chmod
});

afterAll(() => {
  for (const pid of hosts) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of mounts) execFileSync('umount', [dir]);
  top.remove();
});

describe('the test environments are what they claim', () => {
  it('TMPDIR refuses to run programs, HOME refuses writes', () => {
    const exe = join(noexecTmp, 'true');
    copyFileSync('/bin/true', exe);
    expect(() => execFileSync(exe)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(() => mkdirSync(join(readOnlyHome, '.atsr'))).toThrow(expect.objectContaining({ code: 'EROFS' }));
  });
});

const environments: { name: string; env: () => NodeJS.ProcessEnv }[] = [
  { name: 'no node on PATH', env: () => ({ PATH: bin, HOME: home }) },
  { name: 'TMPDIR on a noexec mount', env: () => ({ PATH: bin, HOME: home, TMPDIR: noexecTmp }) },
  { name: 'read-only HOME', env: () => ({ PATH: bin, HOME: readOnlyHome }) },
  { name: 'HOME unset', env: () => ({ PATH: bin }) },
  { name: 'a NODE_OPTIONS that would break node', env: () => ({ PATH: bin, HOME: home, NODE_OPTIONS: '--require=/nonexistent.js' }) },
];

describe.each(environments.map((e, i) => ({ ...e, i })))('dist/atsr with $name', ({ env, i }) => {
  it('--version prints the version', async () => {
    expect(await runExe(ATSR, ['--version'], env())).toEqual({ code: 0, stdout: `atsr ${VERSION}\n`, stderr: '' });
  });

  it('creates a session hosted by the Node executable, lists it, and it ends on SIGTERM', async () => {
    const sockets = join(top.dir, `sockets-${i}`);
    const created = await runExe(ATSR, ['-u', sockets, '-n', 'pk', ...COMMAND], env());
    expect(created).toEqual({ code: 0, stdout: '', stderr: '' });

    let session: ListedSession | undefined;
    await waitUntil('the session has printed "ok"', async () => {
      const listed = await runExe(ATSR, ['-u', sockets, '-l', '--json'], env());
      if (listed.code !== 0) throw new Error(`atsr -l exited ${listed.code}: ${listed.stderr}`);
      [session] = JSON.parse(listed.stdout) as ListedSession[];
      if (session) hosts.add(session.pid);
      return session?.out === 'ok\r\n'.length;
    });
    expect(session).toMatchObject({ name: 'pk', command: COMMAND, exited: false, attached: false });
    const pid = session!.pid;
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(SEA);

    process.kill(pid, 'SIGTERM');
    await waitUntil('the session host has exited', () => !isAlive(pid));
  });
});

describe('dist/rezume', () => {
  it('is the same command and takes the client role by its name, which the entry passes on', async () => {
    expect(readlinkSync(join(DIST, 'rezume'))).toBe('atsr');
    const byPath = await runExe('rezume', [], { PATH: `${DIST}:${bin}` });
    const byFile = await runExe(join(DIST, 'rezume'), [], { PATH: bin });
    for (const r of [byPath, byFile]) {
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^rezume:/);
    }
  });
});

describe('dist/glibc-floor.txt', () => {
  it('holds the newest glibc version the shipped binaries need', () => {
    expect(readFileSync(join(DIST, 'glibc-floor.txt'), 'utf8')).toMatch(/^2\.\d+\n$/);
  });
});

/** How many V8 worker threads the process has, and the nanoseconds they have run (/proc/PID/task/TID/schedstat). */
function v8Workers(pid: number): { threads: number; ns: number } {
  let threads = 0;
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8') !== 'V8Worker\n') continue;
    threads++;
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  }
  return { threads, ns };
}

describe('the session host of dist/atsr-node', () => {
  it("collects garbage and compiles on its main thread: V8's worker threads do not run during 4 MiB of output", async () => {
    const sockets = join(top.dir, 'sockets-gc');
    const env = { PATH: '/usr/bin:/bin', HOME: home };
    const command = ['sh', '-c', 'read go; head -c 4194304 /dev/zero | tr "\\0" x; echo; echo DONE; sleep 30'];
    expect(await runExe(ATSR, ['-u', sockets, '-n', 'gc', ...command], env)).toEqual({ code: 0, stdout: '', stderr: '' });
    const listed = await runExe(ATSR, ['-u', sockets, '-l', '--json'], env);
    const pid = (JSON.parse(listed.stdout) as ListedSession[])[0]!.pid;
    hosts.add(pid);
    const client = await V2Client.attach(join(sockets, 'gc'), { inband: false });
    try {
      await waitUntil('the host accepted the attach', () => client.outputFrames > 0);
      const before = v8Workers(pid);
      client.type('\r');
      await client.waitFor('DONE');
      expect(before.threads).toBeGreaterThan(0);
      expect(v8Workers(pid)).toEqual(before);
    } finally {
      client.sock.destroy();
      process.kill(pid, 'SIGTERM');
    }
    await waitUntil('the session host has exited', () => !isAlive(pid));
  });
});
