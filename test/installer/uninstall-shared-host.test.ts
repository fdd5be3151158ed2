// The uninstall on a shared host (issue 10, items 1 and 3): what a user puts
// in the socket root cannot make root delete root's files, and
// --kill-sessions signals only the process the kernel shows listening on a
// socket, never a PID that a session claims.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INSTALLER, InstallSandbox, installerBin, type Result } from './installer-harness.js';
import { FakeHost, ThrowawayUser, statusClaims } from '../support/fake-hosts.js';
import { isAlive } from '../support/atsr-sandbox.js';

let user: ThrowawayUser;
let sandbox: InstallSandbox | undefined;
let host: FakeHost | undefined;
let victim: ChildProcess | undefined;

beforeAll(async () => {
  await installerBin();
  user = ThrowawayUser.create();
}, 180_000);
afterEach(async () => {
  await host?.stop();
  victim?.kill('SIGKILL');
  sandbox?.remove();
  host = victim = sandbox = undefined;
});
afterAll(() => user?.remove());

/** Installs into a fresh sandbox that the throwaway user can reach; returns the socket root. */
async function install(): Promise<string> {
  sandbox = new InstallSandbox('UsePAM yes\n');
  chmodSync(sandbox.dir, 0o755);
  const r = await sandbox.run(sandbox.installArgs('--no-accept-env'));
  expect(r.status).toBe(0);
  return join(sandbox.prefix, 'session');
}

/** The uninstall as root, in a process group of its own (the old code signalled its group for a claimed PID 0). */
function uninstall(...flags: string[]): Promise<Result> {
  const child = spawn('sh', [INSTALLER, '--', '--uninstall', '--prefix', sandbox!.prefix, '--no-restart-sshd', '--yes', ...flags], {
    env: sandbox!.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const ATTEMPTS = 3;
/** An error, a stack trace, or a signal that ended the installer. */
const TROUBLE = /install-atsr:|internal error|\n\s+at |Terminated/;

describe('uninstall on a shared host', () => {
  it('--kill-sessions keeps the socket root and the log, listing it, while a session could not be ended; a later run finishes', async () => {
    const runRoot = await install();
    const mine = user.privateDir(join(runRoot, String(user.uid)));
    // A socket file of the user's whose listener is a root process: no PID of the user's is certain, so nothing is signalled.
    victim = spawn('python3', ['-c', `import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); print('up', flush=True)
while True:
    c, _ = s.accept(); c.close()`, `${mine}/stuck`]);
    await new Promise((r) => victim!.stdout!.once('data', r));
    chownSync(`${mine}/stuck`, user.uid, user.gid);

    const u = await uninstall('--kill-sessions');
    expect(u.stderr).not.toMatch(TROUBLE);
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`  not ended: stuck (${user.name}): no process of ${user.name} certainly listens on its socket\n`);
    expect(u.stdout).toContain(`  kept ${runRoot}: a session in it was not ended (see above)\n`);
    expect(u.stdout).toContain(`  kept ${join(sandbox!.prefix, 'install.log')}, listing what is left: run --uninstall --kill-sessions again to finish\n`);
    expect(isAlive(victim.pid!)).toBe(true);
    expect(existsSync(`${mine}/stuck`)).toBe(true);
    expect(readFileSync(join(sandbox!.prefix, 'install.log'), 'utf8')).toContain(runRoot);

    victim.kill('SIGKILL');
    await new Promise((r) => victim!.once('exit', r));
    const again = await uninstall('--kill-sessions');
    expect(again.stderr).not.toMatch(TROUBLE);
    expect(again.status).toBe(0);
    expect(readdirSync(sandbox!.prefix)).toEqual(['bin']);
  });

  it(`deletes nothing of root's when a user swaps their socket directory for a symlink during it (${ATTEMPTS} attempts)`, async () => {
    let deleted = 0;
    for (let i = 0; i < ATTEMPTS; i++) {
      const runRoot = await install();
      const target = join(sandbox!.dir, 'etc');
      mkdirSync(target, { mode: 0o700 });
      writeFileSync(join(target, 'shadow'), 'root:*:19000::::::\n', { mode: 0o600 });
      const mine = user.privateDir(join(runRoot, String(user.uid)));
      host = await FakeHost.start(user, [
        { path: `${mine}/shadow`, stale: true },
        { path: `${mine}/stall`, swap: { dir: mine, away: `${mine}.away`, target } },
      ]);
      const u = await uninstall();
      expect(u.stderr).not.toMatch(TROUBLE);
      expect(u.status).toBe(0);
      expect(host.said('swapped')).toBe(true);
      if (!existsSync(join(target, 'shadow'))) deleted++;
      expect(existsSync(`${mine}.away/shadow`)).toBe(false); // the user's own stale socket, where it really is
      await host.stop();
      host = undefined;
      sandbox!.remove();
      sandbox = undefined;
    }
    expect(deleted).toBe(0);
  });

  it('--kill-sessions signals no PID a session claims: not a root process, not 0, not an unknown one', async () => {
    const runRoot = await install();
    victim = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
    const mine = user.privateDir(join(runRoot, String(user.uid)));
    const claim = (name: string, pid: number, minute: number) => ({
      path: `${mine}/${name}`,
      claims: statusClaims({ name, pid, createdAt: `2026-11-25T10:0${minute}:00.000Z` }),
    });
    host = await FakeHost.start(user, [claim('root-sleep', victim.pid!, 1), claim('zero', 0, 2), claim('unknown', 4_194_000, 3)]);
    const hostEnded = host.ended();

    const u = await uninstall('--kill-sessions');
    expect(u.stderr).not.toMatch(TROUBLE);
    expect(u.status).toBe(0);
    expect(isAlive(victim.pid!)).toBe(true);
    // Each socket's real listener is the user's fake host: that is what was signalled, and said.
    for (const name of ['root-sleep', 'zero', 'unknown']) {
      expect(u.stdout).toContain(`  ended ${name} (pid ${host.pid}, ${user.name})\n`);
    }
    expect(await hostEnded).toBe('SIGTERM');
    expect(readdirSync(sandbox!.prefix)).toEqual(['bin']); // only the rezumable stub is left
    expect(readFileSync(sandbox!.sshdConfig, 'utf8')).toBe('UsePAM yes\n');
  });
});
