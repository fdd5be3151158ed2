// Issue 10 items 7 and 8, end to end with throwaway users and the real
// dist/atsr: another user can never deny you a resumable session (their
// entry in a shared root sends you to your own private directory, with one
// warning, and -l still finds the session there), and a /tmp cleaner that
// deletes a whole shared root locks nobody out.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ListedSession, waitUntil } from '../support/atsr-sandbox.js';
import type { ThrowawayUser } from '../support/throwaway-user.js';
import { useSandbox, useUserPair } from '../support/use-sandbox.js';

const box = useSandbox('shared-root');
const users = useUserPair();

/** A root-owned directory that holds the test's shared roots, like an install prefix. */
function prefix(): string {
  const p = users.tempDir('/tmp/atsr-shared-');
  chmodSync(p, 0o755);
  return p;
}

/** A shared root as the installer makes it: root's, 1777. */
function sharedRoot(): string {
  const root = `${prefix()}/run`;
  mkdirSync(root);
  chmodSync(root, 0o1777);
  return root;
}

const modeOf = (path: string): string => (lstatSync(path).mode & 0o7777).toString(8);

async function listAs(u: ThrowawayUser, args: string[], env = u.env()): Promise<{ sessions: ListedSession[]; stderr: string }> {
  const r = await u.atsr([...args, '-l', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return { sessions: JSON.parse(r.stdout) as ListedSession[], stderr: r.stderr };
}

/** Attaches as `u` on a real pty, types a line, and sees the session's command answer it. */
async function attachAndEcho(u: ThrowawayUser, args: string[], env = u.env()): Promise<string> {
  const front = u.attach(['-e', '^]', ...args], env);
  try {
    front.write('ping\r');
    await front.waitFor('got:ping');
    front.write('\x1d');
    expect((await front.exit()).exitCode).toBe(0);
    return front.text();
  } finally {
    front.kill('SIGKILL');
  }
}

// The session's command: answers each line, for attachAndEcho.
const ECHO = ['sh', '-c', 'while read line; do echo "got:$line"; done'];

describe('another user cannot deny you resilience (item 8)', () => {
  it(`B's ROOT/<A's uid> sends A to ~/.atsr with one warning; -n, -l and -a all work there`, async () => {
    const root = sharedRoot();
    const taken = `${root}/${users.a.uid}`;
    mkdirSync(taken, { mode: 0o700 });
    chownSync(taken, users.b.uid, users.b.gid);
    const warning =
      `atsr: socket directory ${taken} is owned by uid ${users.b.uid}, not by you (uid ${users.a.uid}); ` +
      `using ${users.a.home}/.atsr instead (to use ${taken} again, have uid ${users.b.uid} or root remove it)\n`;

    const made = await users.a.atsr(['-g', root, '-n', 's1', ...ECHO]);
    expect([made.code, made.stderr]).toEqual([0, warning]);
    const { sessions, stderr } = await listAs(users.a, ['-g', root]);
    expect(stderr).toBe(warning);
    expect(sessions.map((s) => [s.name, s.socket])).toEqual([['s1', `${users.a.home}/.atsr/s1`]]);
    expect(await attachAndEcho(users.a, ['-g', root, '-a', 's1'])).toContain(warning.replace('\n', '\r\n'));
    expect(modeOf(taken)).toBe('700');
  });

  it(`a shared root B owns is not trusted: A falls back with one warning`, async () => {
    const root = `${prefix()}/run`;
    mkdirSync(root);
    chmodSync(root, 0o1777);
    chownSync(root, users.b.uid, users.b.gid);
    const warning =
      `atsr: shared socket root ${root} is owned by uid ${users.b.uid}, neither root nor you; ` +
      `using ${users.a.home}/.atsr instead (to use ${root} again, have uid ${users.b.uid} or root remove it)\n`;
    const made = await users.a.atsr(['-g', root, '-n', 's2', ...ECHO]);
    expect([made.code, made.stderr]).toEqual([0, warning]);
    expect(existsSync(`${root}/${users.a.uid}`)).toBe(false);
    const { sessions } = await listAs(users.a, ['-g', root]);
    expect(sessions.map((s) => s.name)).toContain('s2');
    await attachAndEcho(users.a, ['-g', root, '-a', 's2']);
  });

  it('with HOME unusable too, A gets $XDG_RUNTIME_DIR/atsr', async () => {
    const root = sharedRoot();
    mkdirSync(`${root}/${users.a.uid}`, { mode: 0o700 });
    chownSync(`${root}/${users.a.uid}`, users.b.uid, users.b.gid);
    const home = prefix(); // root's, 755: A cannot make .atsr in it
    const xdg = users.tempDir('/tmp/atsr-xdg-');
    chownSync(xdg, users.a.uid, users.a.gid);
    const env = users.a.env({ HOME: home, XDG_RUNTIME_DIR: xdg });
    const made = await users.a.atsr(['-g', root, '-n', 's3', ...ECHO], env);
    expect(made.code).toBe(0);
    expect(made.stderr).toMatch(new RegExp(`^atsr: socket directory ${root}/${users.a.uid} is owned by uid ${users.b.uid}, not by you \\(uid ${users.a.uid}\\); using ${xdg}/atsr instead \\(.*\\)\\n$`));
    expect(modeOf(`${xdg}/atsr`)).toBe('700');
    const { sessions } = await listAs(users.a, ['-g', root], env);
    expect(sessions.map((s) => [s.name, s.socket])).toEqual([['s3', `${xdg}/atsr/s3`]]);
    await attachAndEcho(users.a, ['-g', root, '-a', 's3'], env);
  });

  it("once B's entry is gone, A's live session moves back to ROOT/<uid>, where A's next atsr looks", async () => {
    const root = sharedRoot();
    const taken = `${root}/${users.a.uid}`;
    mkdirSync(taken, { mode: 0o700 });
    chownSync(taken, users.b.uid, users.b.gid);
    expect((await users.a.atsr(['-g', root, '-n', 'back1', ...ECHO])).code).toBe(0);
    const host = (await listAs(users.a, ['-g', root])).sessions.find((s) => s.name === 'back1');
    expect(host!.socket).toBe(`${users.a.home}/.atsr/back1`);

    rmSync(taken, { recursive: true }); // root clears it, as the warning says
    process.kill(host!.pid, 'SIGUSR1');
    await waitUntil('the socket moved back to the shared root', () => existsSync(`${taken}/back1`) && !existsSync(`${users.a.home}/.atsr/back1`));
    const { sessions, stderr } = await listAs(users.a, ['-g', root]);
    expect([stderr, sessions.map((s) => [s.name, s.pid, s.socket])]).toEqual(['', [['back1', host!.pid, `${taken}/back1`]]]);
    expect(modeOf(taken)).toBe('700');
    await attachAndEcho(users.a, ['-g', root, '-a', 'back1']);
  });

  it("B's symlink at ROOT/0 neither chmods its target nor hides the other users' sessions from root's -l", async () => {
    const root = sharedRoot();
    expect((await users.a.atsr(['-g', root, '-n', 'sa', ...ECHO])).code).toBe(0);
    const target = `${prefix()}/etc`;
    mkdirSync(target, { mode: 0o755 });
    chmodSync(target, 0o755);
    const planted = `${root}/0`;
    expect((await users.b.run(['ln', '-s', target, planted])).code).toBe(0);
    const home = `${box().dir}/root-home`;
    const r = await box().run(['-g', root, '-l', '--json'], { env: box().env({ HOME: home }) });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `atsr: socket directory ${planted} is a symlink (refused); using ${home}/.atsr instead (to use ${planted} again, have uid ${users.b.uid} or root remove it)\n`,
    );
    expect((JSON.parse(r.stdout) as ListedSession[]).map((s) => [s.name, s.socket])).toEqual([['sa', `${root}/${users.a.uid}/sa`]]);
    expect(modeOf(target)).toBe('755');
  });
});

describe('a /tmp cleaner deleting the whole shared root (item 7)', () => {
  it('the first host recreates it 1777 and sticky; the other user is not locked out and keeps the live session', async () => {
    // Straight in /tmp, where cleaners work: whoever notices first can recreate it.
    const root = users.tempDir('/tmp/atsr-tmproot-');
    chmodSync(root, 0o1777);
    expect((await users.a.atsr(['-g', root, '-n', 'wa', ...ECHO])).code).toBe(0);
    expect((await users.b.atsr(['-g', root, '-n', 'wb', ...ECHO])).code).toBe(0);
    const [hostA] = (await listAs(users.a, ['-g', root])).sessions;
    const [hostB] = (await listAs(users.b, ['-g', root])).sessions;

    rmSync(root, { recursive: true, force: true }); // the cleaner
    process.kill(hostA!.pid, 'SIGUSR1'); // A's host notices first
    await waitUntil("A's socket is back", () => existsSync(`${root}/${users.a.uid}/wa`));
    expect(modeOf(root)).toBe('1777');
    expect(lstatSync(root).uid).toBe(users.a.uid);
    expect(modeOf(`${root}/${users.a.uid}`)).toBe('700');

    // The root is A's now, which B cannot trust: B's host moves its socket to
    // B's own directory, where B's front looks, with one warning.
    process.kill(hostB!.pid, 'SIGUSR1');
    await waitUntil("B's socket is back", () => existsSync(`${users.b.home}/.atsr/wb`));
    const { sessions, stderr } = await listAs(users.b, ['-g', root]);
    expect(stderr).toMatch(/^atsr: shared socket root .* is owned by uid \d+, neither root nor you; using .*\n$/);
    expect(sessions.map((s) => [s.name, s.pid, s.socket])).toEqual([['wb', hostB!.pid, `${users.b.home}/.atsr/wb`]]);
    await attachAndEcho(users.b, ['-g', root, '-a', 'wb']);
    await attachAndEcho(users.a, ['-g', root, '-a', 'wa']);
  });
});

describe('made one level at a time, as before for the user', () => {
  it("a socket directory under root's search-only (0711) directory still works", async () => {
    const p = prefix();
    chmodSync(p, 0o711);
    const dir = `${p}/a-sockets`;
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, users.a.uid, users.a.gid);
    const made = await users.a.atsr(['-u', dir, '-n', 'x1', ...ECHO]);
    expect([made.code, made.stderr]).toEqual([0, '']);
    const { sessions } = await listAs(users.a, ['-u', dir]);
    expect(sessions.map((s) => s.socket)).toEqual([`${dir}/x1`]);
  });
});
