// Upgrade and uninstall with a live session: the session host started from
// the old install keeps running, stays listed and attachable, and the
// admin's rezumable tunables survive; uninstall restores sshd_config and
// leaves the session alone unless --kill-sessions.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InstallSandbox, installerBin } from './installer-harness.js';
import { PtyRun } from '../support/pty-harness.js';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';

const CONFIG = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\n';
const TICKER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.2; done'];

let sandbox: InstallSandbox;
let hostPid = 0;
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => {
  if (hostPid > 0 && isAlive(hostPid)) process.kill(hostPid, 'SIGTERM');
  hostPid = 0;
  sandbox?.remove();
});

const atsr = (): string => join(sandbox.prefix, 'bin/atsr');
const runRoot = (): string => join(sandbox.prefix, 'run');

function listSessions(): { name: string; pid: number }[] {
  const r = spawnSync(atsr(), ['-l', '-g', runRoot(), '--json'], { encoding: 'utf8', timeout: 10_000 });
  return JSON.parse(r.stdout) as { name: string; pid: number }[];
}

/** Installs, then starts a detached session with the installed atsr; returns its host PID. */
async function installWithSession(): Promise<number> {
  sandbox = new InstallSandbox(CONFIG);
  const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
  expect(r.status).toBe(0);
  const started = spawnSync(atsr(), ['-n', '-g', runRoot(), 'up1', ...TICKER], { encoding: 'utf8', timeout: 10_000 });
  expect(started.status).toBe(0);
  const [session] = listSessions();
  expect(session?.name).toBe('up1');
  hostPid = session!.pid;
  return hostPid;
}

describe('upgrade over a live session', () => {
  it('keeps the session running and attachable, and keeps the rezumable edits', async () => {
    const pid = await installWithSession();
    const rezumablePath = join(sandbox.prefix, 'bin/rezumable');
    const edited = readFileSync(rezumablePath, 'utf8').replace(/^ORPHAN_TIMEOUT=.*$/m, 'ORPHAN_TIMEOUT=45').replace(/^EXTRA=.*$/m, "EXTRA='-w -d 1'");
    writeFileSync(rezumablePath, edited);
    const oldInode = statSync(atsr()).ino;

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Upgrade atsr`);
    expect(r.stdout).toContain(`replace ${atsr()} (atomically: running sessions keep the old copy)`);
    expect(statSync(atsr()).ino).not.toBe(oldInode);
    const rezumable = readFileSync(rezumablePath, 'utf8');
    expect(rezumable).toContain('\nORPHAN_TIMEOUT=45\n');
    expect(rezumable).toContain("\nEXTRA='-w -d 1'\n");
    expect(rezumable).toBe(edited); // same version: nothing but the tunables could differ

    expect(isAlive(pid)).toBe(true);
    expect(listSessions()).toMatchObject([{ name: 'up1', pid }]);
    const attach = new PtyRun([atsr(), '-a', '-g', runRoot(), 'up1'], { env: { ...process.env, TERM: 'xterm' } });
    try {
      await attach.waitFor(/tick\d+/);
    } finally {
      attach.kill('SIGKILL');
    }
  });
});

describe('uninstall', () => {
  it('restores sshd_config, removes the install and leaves the live session alone', async () => {
    const pid = await installWithSession();
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
    expect(u.stderr).not.toContain('install-atsr:');
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`Note: 1 running session(s) are left alone, and ${runRoot()} with them (--kill-sessions ends them)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(CONFIG);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
    // Left: the live session's socket root, the log of it, and the rezumable stub.
    expect(readdirSync(sandbox.prefix)).toEqual(['bin', 'install.log', 'run']);
    expect(readdirSync(join(sandbox.prefix, 'bin'))).toEqual(['rezumable']);
    expect(isAlive(pid)).toBe(true);
    expect(u.stdout).toContain(`Note: ${join(sandbox.prefix, 'install.log')} is kept, listing what is left: run --uninstall --kill-sessions later to finish\n`);

    // A login whose .profile still execs rezumable runs its command, with or without a resume client.
    const stub = join(sandbox.prefix, 'bin/rezumable');
    for (const env of [{ ...process.env, ATSR_ID: 'x1' }, process.env]) {
      expect(spawnSync(stub, ['sh', '-c', 'echo "still $0"; exit 7', 'here'], { encoding: 'utf8', env })).toMatchObject({ status: 7, stdout: 'still here\n', stderr: '' });
    }
    expect(u.stdout).toContain(`Note: ${stub} stays, as a stub that runs its command directly: a .profile that still execs it keeps working.`);

    // A later run finishes: the session ends, its socket root goes, only the stub stays.
    const again = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--kill-sessions', '--yes']);
    expect(again.stderr).not.toContain('install-atsr:');
    expect(again.status).toBe(0);
    await waitUntil('the session host has ended', () => !isAlive(pid));
    expect(readdirSync(sandbox.prefix)).toEqual(['bin']);
    expect(readdirSync(join(sandbox.prefix, 'bin'))).toEqual(['rezumable']);
  });

  it('with --kill-sessions ends them and removes the prefix entirely', async () => {
    const pid = await installWithSession();
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--kill-sessions', '--no-restart-sshd', '--yes']);
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`  ended up1 (pid ${pid}, `);
    await waitUntil('the session host has ended', () => !isAlive(pid));
    expect(readdirSync(sandbox.prefix)).toEqual(['bin']);
    expect(readdirSync(join(sandbox.prefix, 'bin'))).toEqual(['rezumable']);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(CONFIG);
  });
});
