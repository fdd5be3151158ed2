// The PID `atsr -l` shows for a session, and the one `--kill-sessions`
// signals, is the process the kernel recorded calling listen() on the socket
// (SO_PEERCRED of a connection to it), owned by the socket file's owner.
// /proc/net/unix, which a user can forge lines of with a newline in a bound
// path, plays no part: a forged line neither names a root process for a
// root socket file nor hides a session's listener.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListedSession } from '../../src/list/list-sessions.js';
import { atsrCommand } from '../support/atsr-bin.js';
import { FakeHost, ThrowawayUser, traversableTempDir } from '../support/fake-hosts.js';

const run = promisify(execFile);

let user: ThrowawayUser;
let tmp: { dir: string; remove: () => void };
let victim: ChildProcess;
let tcp: ChildProcess;
const forgers: FakeHost[] = [];

/** A root process listening at `path` that closes each connection at once (as a host that does not answer). */
async function listener(path: string, fork: 'no' | 'child' | 'grandchild' = 'no'): Promise<ChildProcess> {
  const script = `
import os, socket, sys, threading, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
if sys.argv[2] != 'no' and os.fork() == 0:
    # The child holds the listening socket too, as a host's forked command does until its exec.
    if sys.argv[2] == 'grandchild' and os.fork() != 0:
        s.close()
    time.sleep(3600)
print('up', flush=True)
while True:
    c, _ = s.accept(); c.close()
`;
  const p = spawn('python3', ['-c', script, path, fork], { detached: true });
  await new Promise((r) => p.stdout!.once('data', r));
  return p;
}

/** The inode of the one socket `pid` holds. */
function socketInodeOf(pid: number): number {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
    if (m) return Number(m[1]);
  }
  throw new Error(`${pid} holds no socket`);
}

/** A user's socket whose bound path ends one line of /proc/net/unix and writes `forgedLine`. */
async function forge(forgedLine: string, n: number): Promise<void> {
  const mine = user.privateDir(`${tmp.dir}/mine${n}`);
  const path = `${mine}/x\n${forgedLine}`; // short fields: within the 107 bytes of a socket path
  mkdirSync(dirname(path), { recursive: true });
  execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, mine]); // as if the user had made them
  forgers.push(await FakeHost.start(user, [{ path, stall: true }]));
  expect(readFileSync('/proc/net/unix', 'latin1')).toContain(`\n${forgedLine}\n`);
}

/** The sessions root's `atsr -l DIR --json` lists (the built executable, which carries host-native.node). */
async function listed(dir: string): Promise<Map<string, ListedSession>> {
  const [file, ...args] = atsrCommand();
  const { stdout } = await run(file!, [...args, '-l', dir, '--json']);
  return new Map((JSON.parse(stdout) as ListedSession[]).map((s) => [s.name, s]));
}

beforeAll(async () => {
  user = ThrowawayUser.create();
  tmp = traversableTempDir('listeners');
  mkdirSync(`${tmp.dir}/s`, { mode: 0o700 });
  victim = await listener(`${tmp.dir}/s/victim`);
  // A root process with a TCP socket: its inode is in no line of /proc/net/unix but a forged one.
  tcp = spawn('python3', ['-c', `import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); print('up', flush=True); time.sleep(3600)`]);
  await new Promise((r) => tcp.stdout!.once('data', r));
});
afterAll(async () => {
  for (const p of [victim, tcp]) p?.kill('SIGKILL');
  for (const f of forgers) await f.stop();
  tmp?.remove();
  user?.remove();
});

describe('the listening PID', () => {
  it('is the process that called listen(), if the socket file is its owner\'s', async () => {
    expect((await listed(`${tmp.dir}/s`)).get('victim')?.pid).toBe(victim.pid);
    mkdirSync(`${tmp.dir}/u`, { mode: 0o700 });
    const theirs = await listener(`${tmp.dir}/u/theirs`);
    try {
      chownSync(`${tmp.dir}/u/theirs`, user.uid, user.gid); // a root listener behind a user's socket file
      expect((await listed(`${tmp.dir}/u`)).get('theirs')?.pid).toBeNull();
    } finally {
      theirs.kill('SIGKILL');
    }
  });

  it('is the listener while its forked child (or that child\'s child) holds the socket too', async () => {
    for (const fork of ['child', 'grandchild'] as const) {
      const dir = `${tmp.dir}/f-${fork}`;
      mkdirSync(dir, { mode: 0o700 });
      const p = await listener(`${dir}/forked`, fork);
      try {
        expect((await listed(dir)).get('forked')?.pid).toBe(p.pid);
      } finally {
        process.kill(-p.pid!, 'SIGKILL');
      }
    }
  });

  it("is not changed by a user's forged /proc/net/unix lines: no root process for a root socket, and the listener still named", async () => {
    const victimPath = `${tmp.dir}/s/victim`;
    // A second listener claimed for the live session's path (it had no PID then: the path was ambiguous).
    await forge(`0: 2 0 10000 1 1 ${socketInodeOf(tcp.pid!)} ${victimPath}`, 1);
    // A root process's TCP socket claimed to listen at a root socket whose host has gone.
    const gone = await listener(`${tmp.dir}/s/gone`);
    gone.kill('SIGKILL');
    await new Promise((r) => gone.once('exit', r));
    await forge(`0: 2 0 10000 1 1 ${socketInodeOf(tcp.pid!)} ${tmp.dir}/s/gone`, 2);
    const sessions = await listed(`${tmp.dir}/s`);
    expect(sessions.get('victim')?.pid).toBe(victim.pid);
    expect(sessions.has('gone')).toBe(false); // root's stale socket: removed, not listed
    expect([...sessions.values()].map((s) => s.pid)).not.toContain(tcp.pid);
  });
});
