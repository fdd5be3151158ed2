// Logon (utmp) records of a session's pty (src/host/utmp-recorder.ts),
// written by the system's utempter helper and read back with `who` and
// `utmpdump` (wtmp, the history): the record appears on a read-write attach
// with the client's address and the host's PID, follows a new attach from
// elsewhere, stays as it is on one from the same address, goes when the
// command exits, and is never written with -w. No process stays beside the
// host.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processIds } from '../../src/processes.js';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';
import type { PtyRun } from '../support/pty-harness.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('utmp');
const UTMP = '/run/utmp';
const WTMP = '/var/log/wtmp';
const HELPER = '/usr/lib/x86_64-linux-gnu/utempter/utempter';

interface WhoLine {
  pid: number;
  host: string;
}

/** The USER_PROCESS record `who -u` shows for `line` (pts/N), if any. */
function whoFor(line: string): WhoLine | undefined {
  for (const row of execFileSync('who', ['-u'], { encoding: 'utf8' }).split('\n')) {
    const m = /^\S+\s+(pts\/\d+)\s.*\s(\d+)\s+\((.*)\)$/.exec(row);
    if (m && m[1] === line) return { pid: Number(m[2]), host: m[3]! };
  }
  return undefined;
}

function wtmpLines(): string[] {
  return execFileSync('utmpdump', [WTMP], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
}

/** wtmp's entries since `from` (a count of its lines) by process `pid`, as `utmpdump` prints them: `[7]` a logon, `[8]` its end. */
function wtmpOf(pid: number, from: number): string[] {
  const mine = new RegExp(`^\\[\\d\\] \\[0*${pid}\\] `);
  return wtmpLines()
    .slice(from)
    .filter((l) => mine.test(l));
}

/** A session whose command prints its tty, READY, then runs `script` (by default: waits for a line and exits). */
async function started(name: string, args: string[], clientAddr: string, script = 'read x; exit 0'): Promise<{ run: PtyRun; line: string; hostPid: number }> {
  const run = box().attach([...args, name, 'sh', '-c', `tty; printf READY; ${script}`], {
    env: box().env({ SSH_CLIENT: `${clientAddr} 40000 22` }),
  });
  await run.waitFor('READY');
  const line = /\/dev\/(pts\/\d+)/.exec(run.text())![1]!;
  return { run, line, hostPid: (await box().session(name)).pid };
}

/** The processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return processIds().filter((p) => {
    try {
      return readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(pid);
    } catch {
      return false; // gone meanwhile
    }
  });
}

const created: string[] = [];

beforeAll(() => {
  expect(existsSync(HELPER)).toBe(true);
  // CI starts with an empty /run; a booted machine has both files already.
  const utmpGroup = Number(execFileSync('getent', ['group', 'utmp'], { encoding: 'utf8' }).split(':')[2]);
  for (const file of [UTMP, WTMP]) {
    if (existsSync(file)) continue;
    writeFileSync(file, '');
    chownSync(file, 0, utmpGroup);
    chmodSync(file, 0o664);
    created.push(file);
  }
});

afterAll(() => {
  for (const file of created) rmSync(file, { force: true });
});

describe('logon records', () => {
  it('name the client and the host on attach, and go when the command exits; no keeper process stays', async () => {
    const mark = wtmpLines().length - 1; // history written before this test (its PIDs may be reused)
    const s = await started('u1', ['-c'], '192.0.2.7');
    await waitUntil('the record is written', () => whoFor(s.line) !== undefined, 5000);
    expect(whoFor(s.line)).toEqual({ pid: s.hostPid, host: '192.0.2.7' });
    // The host's only child is the command (the helper has exited).
    await waitUntil('the helper has exited', () => childrenOf(s.hostPid).length === 1, 5000);
    expect(readFileSync(`/proc/${childrenOf(s.hostPid)[0]}/cmdline`, 'latin1')).toMatch(/^sh\0-c\0tty;/);

    s.run.write('\r');
    expect((await s.run.exit(10_000)).exitCode).toBe(0);
    await waitUntil('the host has exited', () => !isAlive(s.hostPid), 10_000);
    // Its record is gone. (The pty closed with the command: another test's session may hold the line by now.)
    expect(whoFor(s.line)?.pid).not.toBe(s.hostPid);
    const history = wtmpOf(s.hostPid, mark);
    expect(history).toHaveLength(2);
    expect(history[0]).toMatch(new RegExp(`^\\[7\\] .*\\[${s.line} *\\] \\[192\\.0\\.2\\.7 *\\]`));
    expect(history[1]).toMatch(new RegExp(`^\\[8\\] .*\\[${s.line} *\\]`));
  });

  it('follow the session to a new attach from another address', async () => {
    const s = await started('u2', ['-c'], '192.0.2.8');
    await waitUntil('the first record is written', () => whoFor(s.line)?.host === '192.0.2.8', 5000);
    s.run.kill('SIGKILL'); // the connection drops: the session stays, and so does its record
    await waitUntil('the session is detached', async () => !(await box().session('u2')).attached, 10_000);
    expect(whoFor(s.line)).toEqual({ pid: s.hostPid, host: '192.0.2.8' });

    const again = box().attach(['-a', 'u2'], { env: box().env({ SSH_CLIENT: '198.51.100.9 40001 22' }) });
    await waitUntil('the record names the new address', () => whoFor(s.line)?.host === '198.51.100.9', 5000);
    expect(whoFor(s.line)).toEqual({ pid: s.hostPid, host: '198.51.100.9' });
    again.write('\r');
    expect((await again.exit(10_000)).exitCode).toBe(0);
    await waitUntil('the host has exited', () => !isAlive(s.hostPid), 10_000);
    // Its record is gone. (The pty closed with the command: another test's session may hold the line by now.)
    expect(whoFor(s.line)?.pid).not.toBe(s.hostPid);
  });

  it('stay as they are on a resume from the same address: one logon in wtmp, no helper run', async () => {
    const mark = wtmpLines().length - 1;
    const s = await started('u6', ['-c'], '192.0.2.13');
    await waitUntil('the record is written', () => whoFor(s.line) !== undefined, 5000);
    for (let round = 0; round < 2; round++) {
      s.run.kill('SIGKILL');
      await waitUntil('the session is detached', async () => !(await box().session('u6')).attached, 10_000);
      s.run = box().attach(['-a', 'u6'], { env: box().env({ SSH_CLIENT: '192.0.2.13 40001 22' }) });
      await waitUntil('attached again', async () => (await box().session('u6')).attached, 10_000);
    }
    // The helper runs one at a time, in order: whatever the resumes ran is in wtmp before the next address is in utmp.
    s.run.kill('SIGKILL');
    await waitUntil('the session is detached', async () => !(await box().session('u6')).attached, 10_000);
    const other = box().attach(['-a', 'u6'], { env: box().env({ SSH_CLIENT: '198.51.100.14 40001 22' }) });
    await waitUntil('the record names the new address', () => whoFor(s.line)?.host === '198.51.100.14', 5000);
    other.write('\r');
    expect((await other.exit(10_000)).exitCode).toBe(0);
    await waitUntil('the host has exited', () => !isAlive(s.hostPid), 10_000);
    // utmpdump's fields: [type] [pid] [id] [user] [line] [host] ...
    const history = wtmpOf(s.hostPid, mark).map((l) => l.split('] [').map((f) => f.trim()));
    expect(history.map((f) => `${f[0]}] ${f[5]}`)).toEqual(['[7] 192.0.2.13', '[8] ', '[7] 198.51.100.14', '[8] ']);
  });

  it('leave the host reading its pty without blocking: a full pty read, then silence, and the session still answers', async () => {
    // The helper's stdin was once the host's duplicate of the master. libuv
    // makes a child's stdin blocking, on the description the host shares, and
    // the host's read-on after a full 4095-byte read then blocked on the empty
    // pty for good (3 of 200 hosts in the scale bench).
    const burst = "head -c 4095 /dev/zero | tr '\\0' x";
    const { run, line } = await started('u4', ['-c'], '192.0.2.11', `while read x; do [ "$x" = q ] && exit 0; ${burst}; read y; printf MARK; done`);
    await waitUntil('the record is written', () => whoFor(line) !== undefined, 5000);
    for (let round = 0; round < 3; round++) {
      const from = run.output().length;
      run.write('\r');
      await run.waitFor('x'.repeat(4095), 5000, from);
      run.write('\r');
      await run.waitFor('MARK', 5000, from);
    }
    run.write('q\r');
    expect((await run.exit(10_000)).exitCode).toBe(0);
  });

  it('are not written for a command that ends before its record is due, and no helper run fails', async () => {
    const mark = wtmpLines().length - 1;
    const log = join(box().dir, 'u5.log');
    const run = box().attach(['-d', '2', '-o', log, '-c', 'u5', 'sh', '-c', 'printf READY; read x; exit 3'], {
      env: box().env({ SSH_CLIENT: '192.0.2.12 40000 22' }),
    });
    await run.waitFor('READY'); // attached: its record is due 100 ms from the attach
    const ready = performance.now();
    run.write('\r');
    expect((await run.exit(10_000)).exitCode).toBe(3);
    const ended = performance.now() - ready; // the host knew of the exit before the front ended
    const hostPid = Number(/atsr\[host (\d+)\]/.exec(readFileSync(log, 'latin1'))?.[1]);
    await waitUntil('the host has exited', () => !isAlive(hostPid), 10_000);
    expect(readFileSync(log, 'latin1')).not.toMatch(/utmp:/);
    const history = wtmpOf(hostPid, mark).map((l) => l.slice(0, 3));
    // On a machine too slow to end the command within those 100 ms the record came, and went.
    if (ended < 90) expect(history).toEqual([]);
    else expect([[], ['[7]', '[8]']]).toContainEqual(history);
  });

  it('are not written with -w', async () => {
    const mark = wtmpLines().length - 1;
    const s = await started('u3', ['-w', '-c'], '192.0.2.10');
    s.run.write('\r');
    expect((await s.run.exit(10_000)).exitCode).toBe(0);
    await waitUntil('the host has exited', () => !isAlive(s.hostPid), 10_000);
    // Whatever the host wrote is in wtmp's history by now; it wrote nothing.
    expect(wtmpOf(s.hostPid, mark)).toEqual([]);
  });
});
