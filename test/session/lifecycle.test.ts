// Orphan timeout, `kill PID` of a host, and a socket deleted under a live host.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_ROLE_ARG, HOST_SPEC_ENV, type HostSpec } from '../../src/host/host-spec.js';
import { atsrCommand } from '../support/atsr-bin.js';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

/** A command that records the hangup signal it gets in `file`. */
const recordsHangup = (file: string): string[] => [
  'sh', '-c', `trap 'echo HUP > ${file}; exit 1' HUP; trap 'echo TERM > ${file}; exit 2' TERM; echo up; while :; do sleep 0.05; done`,
];

const box = useSandbox('life');

/** Whether `pid` runs (a zombie does not: nobody may reap it in a container). */
function runs(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('lifecycle', () => {
  it('-x longer than Node keeps a timer (24.8 days) does not end the session at once', async () => {
    // 43,200 minutes (30 days) as one setTimeout fired after 1 ms: the session ended as it was made.
    expect((await box().atsr(['-x', '43200', '-n', 'x30', 'sleep', '600'])).code).toBe(0);
    const { pid } = await box().session('x30');
    const started = Date.now();
    await waitUntil('a second has passed', () => Date.now() - started > 1000);
    expect(isAlive(pid)).toBe(true);
    expect((await box().session('x30')).command).toEqual(['sleep', '600']);
  });

  it('a host that cannot listen says why on its readiness line, and exits', () => {
    const socketPath = join(box().dir, 'no-such-dir', 'nl1');
    const spec: HostSpec = {
      name: 'nl1', socketPath, socketDirs: { candidates: [], fallbacks: [] }, command: ['true'], cwd: '/', bufferSize: 4096,
      orphanMinutes: 0, rows: 24, cols: 80, agentLink: '', diagLevel: 0, diagFile: '', attachTimeoutMs: 10_000, holdForCreator: false,
    };
    const [file, ...args] = atsrCommand();
    const run = spawnSync(file!, [...args, HOST_ROLE_ARG, 'nl1'], { env: { ...process.env, [HOST_SPEC_ENV]: JSON.stringify(spec) }, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({ ok: false, exists: false, message: `cannot listen on ${socketPath}: listen EACCES: permission denied ${socketPath}` }); // libuv reports a missing directory so
  });

  it('-x hangs the command up after the timeout with no read-write client, then removes the socket', async () => {
    const mark = `${box().dir}/hup`;
    // 0.02 minutes = 1.2 s.
    expect((await box().atsr(['-x', '0.02', '-n', 'o1', ...recordsHangup(mark)])).code).toBe(0);
    const { pid, socket } = await box().session('o1');
    await waitUntil('the host is gone', () => !isAlive(pid));
    expect(readFileSync(mark, 'utf8')).toBe('HUP\n');
    expect(existsSync(socket)).toBe(false);
  });

  it('the orphan hang-up ends everything left in the command\'s session; only a setsid() child survives', async () => {
    const d = box().dir;
    // A background job that ignores HUP and TERM, and a child in a session of its own.
    writeFileSync(`${d}/stubborn.sh`, `trap '' HUP TERM; echo $$ > ${d}/stubborn.pid; while :; do sleep 0.05; done\n`);
    writeFileSync(`${d}/own.sh`, `echo $$ > ${d}/own.pid; exec sleep 30\n`);
    writeFileSync(
      `${d}/main.sh`,
      `sh ${d}/stubborn.sh & setsid sh ${d}/own.sh & until [ -s ${d}/stubborn.pid ] && [ -s ${d}/own.pid ]; do sleep 0.01; done; echo up; while :; do sleep 0.05; done\n`,
    );
    // Attached, the orphan timer waits; it starts when the front goes (0.005 minutes = 0.3 s).
    const a = box().attach(['-x', '0.005', '-c', 'h1', 'sh', `${d}/main.sh`]);
    await a.waitFor('up');
    const stubborn = Number(readFileSync(`${d}/stubborn.pid`, 'utf8'));
    const own = Number(readFileSync(`${d}/own.pid`, 'utf8'));
    const { pid } = await box().session('h1');
    try {
      a.kill('SIGKILL');
      await waitUntil('the host is gone', () => !isAlive(pid));
      expect(runs(stubborn)).toBe(false);
      expect(runs(own)).toBe(true);
    } finally {
      for (const p of [stubborn, own]) if (runs(p)) process.kill(p, 'SIGKILL');
    }
  });

  it('-x does not fire while a read-write client is attached', async () => {
    const mark = `${box().dir}/hup2`;
    const a = box().attach(['-x', '0.01', '-c', 'o2', ...recordsHangup(mark)]);
    await a.waitFor('up');
    await new Promise((r) => setTimeout(r, 1500)); // longer than the 0.6 s timeout
    expect((await box().session('o2')).exited).toBe(false);
    expect(existsSync(mark)).toBe(false);
  });

  it('kill PID of a host hangs up the command and the attached front exits with its status', async () => {
    const mark = `${box().dir}/hup3`;
    const a = box().attach(['-c', 'k1', ...recordsHangup(mark)]);
    await a.waitFor('up');
    const { pid, socket } = await box().session('k1');
    process.kill(pid, 'SIGTERM');
    expect((await a.exit()).exitCode).toBe(1);
    expect(readFileSync(mark, 'utf8')).toBe('HUP\n');
    await waitUntil('the host is gone', () => !isAlive(pid));
    expect(existsSync(socket)).toBe(false);
  });

  it('-o with a relative path: the host writes to the file the front named, though it runs from elsewhere', async () => {
    const r = await box().run(['-u', box().sockets, '-d', '2', '-o', 'relative.log', '-n', 'r4', 'sleep', '60'], { cwd: box().dir });
    expect(r.code).toBe(0);
    const log = join(box().dir, 'relative.log');
    await waitUntil('the host wrote its line', () => /atsr\[host \d+\]: session r4: started /.test(readFileSync(log, 'latin1')));
    expect(readFileSync(log, 'latin1')).toMatch(/atsr\[front \d+\]: session r4 created/);
  });

  it('recreates a deleted socket on SIGUSR1', async () => {
    expect((await box().atsr(['-n', 'r1', 'sh', '-c', 'while read l; do echo "echo:$l"; done'])).code).toBe(0);
    const { pid, socket } = await box().session('r1');
    rmSync(socket);
    expect(await box().list()).toEqual([]);
    process.kill(pid, 'SIGUSR1');
    await waitUntil('the socket is back', () => existsSync(socket));
    const a = box().attach(['-a', 'r1']);
    a.write('back\r');
    await a.waitFor('echo:back');
  });

  it('recreates a deleted socket by itself', async () => {
    expect((await box().atsr(['-n', 'r2', 'sleep', '60'])).code).toBe(0);
    const { socket } = await box().session('r2');
    rmSync(socket);
    await waitUntil('the socket is back', () => existsSync(socket), 12_000);
    expect((await box().session('r2')).command).toEqual(['sleep', '60']);
  });

  it("a host that ends after another took its deleted socket's name leaves that host's socket alone", async () => {
    expect((await box().atsr(['-n', 'd1', 'sleep', '60'])).code).toBe(0);
    const first = await box().session('d1');
    // A /tmp cleaner deletes the socket, and a new session takes the name
    // before the first host's check (every 5 s) binds it again.
    let second = first;
    for (let attempt = 0; attempt < 3 && second.pid === first.pid; attempt++) {
      rmSync(first.socket, { force: true });
      if ((await box().atsr(['-n', 'd1', 'sleep', '61'])).code === 0) second = await box().session('d1');
    }
    expect(second.pid).not.toBe(first.pid);
    process.kill(first.pid, 'SIGTERM');
    await waitUntil('the first host is gone', () => !isAlive(first.pid));
    expect(existsSync(second.socket)).toBe(true);
    expect((await box().session('d1')).command).toEqual(['sleep', '61']);
  });

  it('keeps recreating a deleted socket by itself once its checks are made in C', async () => {
    const log = join(box().dir, 'host.log');
    const logged = (pattern: RegExp): string[] => readFileSync(log, 'latin1').match(pattern) ?? [];
    expect((await box().atsr(['-d', '2', '-o', log, '-n', 'r3', 'sleep', '60'])).code).toBe(0);
    const { pid, socket } = await box().session('r3');
    process.kill(pid, 'SIGUSR1'); // the first check, which finds the socket at the first candidate directory
    await waitUntil('the checks are made in C', () => logged(/socket checked in \w+/g).length > 0);
    for (const round of [1, 2]) {
      rmSync(socket);
      await waitUntil(`the socket is back (${round})`, () => existsSync(socket), 12_000);
      await waitUntil(`the host said so (${round})`, () => logged(/socket bound at /g).length === round);
    }
    expect((await box().session('r3')).command).toEqual(['sleep', '60']);
    expect(logged(/socket checked in \w+/g)).toEqual(['socket checked in C']);
  });
});
