// The listening PID comes from the kernel's tables, and a user who forges a
// line of /proc/net/unix (a socket path with a newline in it) cannot make
// it name a root process for a root socket file.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListenerTable } from '../../src/list/listeners.js';
import { FakeHost, ThrowawayUser, traversableTempDir } from '../support/fake-hosts.js';

let user: ThrowawayUser;
let tmp: { dir: string; remove: () => void };
let victim: ChildProcess;
let forger: FakeHost | undefined;

/** The inode /proc/net/unix gives the socket bound at `path`. */
function inodeOf(path: string): number {
  const line = readFileSync('/proc/net/unix', 'latin1').split('\n').find((l) => l.endsWith(` ${path}`))!;
  return Number(line.split(/\s+/)[6]);
}

/**
 * A process listening at `path` that forks, as a host does for its command:
 * the child holds the listening socket too until its exec would close it.
 * `grandchild`: the child forks again and closes its own copy, so the
 * socket's other holder is not the listener's child.
 */
async function forkedListener(path: string, grandchild: boolean): Promise<ChildProcess> {
  const script = `
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
if os.fork() == 0:
    if sys.argv[2] == '1' and os.fork() != 0:
        s.close()
    print('up', flush=True)
time.sleep(3600)
`;
  const p = spawn('python3', ['-c', script, path, grandchild ? '1' : '0'], { detached: true });
  await new Promise((r) => p.stdout!.once('data', r));
  return p;
}

/** A socket file nothing listens on, as a host that died leaves it. */
async function staleSocket(path: string): Promise<void> {
  const server = createServer().listen(`${path}.tmp`);
  await new Promise((r) => server.once('listening', r));
  linkSync(`${path}.tmp`, path);
  await new Promise((r) => server.close(r));
  rmSync(`${path}.tmp`, { force: true });
}

beforeAll(async () => {
  user = ThrowawayUser.create();
  tmp = traversableTempDir('listeners');
  victim = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(`${tmp.dir}/victim`)}, () => console.log('up'))`]);
  await new Promise((r) => victim.stdout!.once('data', r));
});
afterAll(async () => {
  victim?.kill('SIGKILL');
  await forger?.stop();
  tmp?.remove();
  user?.remove();
});

describe('ListenerTable', () => {
  it('finds the process listening on a socket, owned by the socket file owner', () => {
    const path = `${tmp.dir}/victim`;
    const table = ListenerTable.read([[path]]);
    expect(table.pidFor([path], 0)).toBe(victim.pid);
    expect(table.pidFor([path], user.uid)).toBeUndefined(); // not the owner the socket file has
    expect(table.pidFor([`${tmp.dir}/nothing`], 0)).toBeUndefined();
  });

  it('names a listener that shares its socket with its own forked child, and none where the other holder is not its child', async () => {
    for (const grandchild of [false, true]) {
      const path = `${tmp.dir}/forked-${grandchild}`;
      const listener = await forkedListener(path, grandchild);
      try {
        expect(ListenerTable.read([[path]]).pidFor([path], 0)).toBe(grandchild ? undefined : listener.pid);
      } finally {
        process.kill(-listener.pid!, 'SIGKILL');
      }
    }
  });

  it('names every listener of a big table while other sockets are made and closed as it is read', async () => {
    // 1,500 listeners make /proc/net/unix ~120 KB, handed out in pieces; two
    // processes make and close sockets all along, which makes a single read
    // repeat or skip lines of others now and then.
    const COUNT = 1500;
    const held = spawn('python3', ['-c', `
import os, socket, sys, time
keep = []
for j in range(${COUNT}):
    s = socket.socket(socket.AF_UNIX); s.bind('%s/k%d' % (sys.argv[1], j)); s.listen(); keep.append(s)
print('up', flush=True)
time.sleep(3600)
`, tmp.dir]);
    const churn = [0, 1].map((k) => spawn('python3', ['-c', `
import os, socket, sys
i = 0
while True:
    p = '%s/c${k}-%d' % (sys.argv[1], i % 50); i += 1
    s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(); s.close(); os.unlink(p)
`, tmp.dir]));
    try {
      await new Promise((r) => held.stdout!.once('data', r));
      const sockets = Array.from({ length: COUNT }, (_, j) => [`${tmp.dir}/k${j}`]);
      let missed = 0;
      for (let read = 0; read < 100; read++) {
        const table = ListenerTable.read(sockets);
        missed += sockets.filter((spellings) => table.pidFor(spellings, 0) !== held.pid).length;
      }
      expect(missed).toBe(0);
    } finally {
      for (const c of [held, ...churn]) c.kill('SIGKILL');
    }
  }, 60_000);

  it("gives no PID for a root socket file that a user's forged /proc/net/unix line points at a root process", async () => {
    const stale = `${tmp.dir}/stale`;
    await staleSocket(stale);
    const mine = user.privateDir(`${tmp.dir}/mine`);
    // The bound path's text ends one line and writes another: "<inode of root's victim> listens at <stale>".
    const forgedLine = `0: 2 0 10000 1 1 ${inodeOf(`${tmp.dir}/victim`)} ${stale}`;
    const forged = `${mine}/x\n${forgedLine}`; // short fields: within the 107 bytes of a socket path
    mkdirSync(dirname(forged), { recursive: true });
    execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, mine]); // as if the user had made them
    forger = await FakeHost.start(user, [{ path: forged, stall: true }]);
    expect(readFileSync('/proc/net/unix', 'latin1')).toContain(`\n${forgedLine}\n`);
    expect(ListenerTable.read([[stale]]).pidFor([stale], 0)).toBeUndefined();
  });
});
