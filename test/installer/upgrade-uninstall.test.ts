// Upgrade and uninstall with a live session: the session host started from
// the old install keeps running, stays listed and attachable, and the
// admin's rezumable tunables survive; uninstall restores sshd_config and
// leaves the session alone unless --kill-sessions. An upgrade from an install
// whose socket root was PREFIX/run moves rezumable to PREFIX/session and
// keeps PREFIX/run, listed, until its sessions have ended. An upgrade from an
// install whose bin/atsr was the Node executable puts bin/atsr-node in first.
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InstallSandbox, installerBin } from './installer-harness.js';
import { PtyRun } from '../support/pty-harness.js';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';

const CONFIG = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\n';
const TICKER = ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick$i; sleep 0.2; done'];

let sandbox: InstallSandbox;
let hostPid = 0;
/** Further session hosts a test started, ended after it. */
const morePids: number[] = [];
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => {
  if (hostPid > 0 && isAlive(hostPid)) process.kill(hostPid, 'SIGTERM');
  hostPid = 0;
  for (const pid of morePids.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGTERM');
  sandbox?.remove();
});

const atsr = (): string => join(sandbox.prefix, 'bin/atsr');
const atsrNode = (): string => join(sandbox.prefix, 'bin/atsr-node');
const runRoot = (): string => join(sandbox.prefix, 'session');

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
    const oldNodeInode = statSync(atsrNode()).ino;
    // What versions before host-native.node shipped beside the executable, and logged.
    const retired = join(sandbox.prefix, 'bin/malloc-trim.node');
    copyFileSync(join(sandbox.prefix, 'bin/host-native.node'), retired);
    appendFileSync(join(sandbox.prefix, 'install.log'), `${new Date().toISOString()}\twrote-file\t${retired}\n`);

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Upgrade atsr`);
    expect(r.stdout).toContain(`replace ${atsr()} (atomically: running sessions keep the old copy)`);
    expect(statSync(atsr()).ino).not.toBe(oldInode);
    expect(r.stdout).toContain(`replace ${atsrNode()} (atomically: running sessions keep the old copy)`);
    expect(statSync(atsrNode()).ino).not.toBe(oldNodeInode);
    expect(readlinkSync(`/proc/${pid}/exe`)).toBe(`${atsrNode()} (deleted)`); // the host runs on its copy
    expect(r.stdout).toContain(`remove ${retired} (an older version's; host-native.node replaces it)`);
    expect(existsSync(retired)).toBe(false);
    expect(readFileSync(join(sandbox.prefix, 'install.log'), 'utf8')).toContain(`\tremoved-file\t${retired}\n`);
    // The uninstall's plan no longer lists it.
    const plan = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--dry-run']);
    expect(plan.status).toBe(0);
    expect(plan.stdout).toContain(`remove ${join(sandbox.prefix, 'bin/host-native.node')}\n`);
    expect(plan.stdout).not.toContain(retired);
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

describe('upgrade from an install whose bin/atsr was the Node executable', () => {
  it('puts atsr-node beside the new entry, and the session the old executable hosts stays attachable', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    // What installers before the native entry left: bin/atsr the Node executable, no bin/atsr-node.
    renameSync(atsrNode(), atsr());
    const log = join(sandbox.prefix, 'install.log');
    writeFileSync(log, readFileSync(log, 'utf8').split('\n').filter((l) => !l.endsWith(`\twrote-file\t${atsrNode()}`)).join('\n'));
    expect(spawnSync(atsr(), ['-n', '-g', runRoot(), 'old1', ...TICKER], { timeout: 10_000 }).status).toBe(0);
    const [session] = listSessions();
    hostPid = session!.pid;
    expect(readlinkSync(`/proc/${hostPid}/exe`)).toBe(atsr());

    const r = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`install ${atsrNode()}\n`);
    expect(r.stdout).toContain(`replace ${atsr()} (atomically: running sessions keep the old copy)`);
    expect(r.stdout.indexOf(`install ${atsrNode()}`)).toBeLessThan(r.stdout.indexOf(`replace ${atsr()}`));
    expect(readlinkSync(`/proc/${hostPid}/exe`)).toBe(`${atsr()} (deleted)`);
    expect(listSessions()).toMatchObject([{ name: 'old1', pid: hostPid }]);
    const attach = new PtyRun([atsr(), '-a', '-g', runRoot(), 'old1'], { env: { ...process.env, TERM: 'xterm' } });
    try {
      await attach.waitFor(/tick\d+/);
    } finally {
      attach.kill('SIGKILL');
    }
    const plan = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--dry-run']);
    expect(plan.stdout).toContain(`remove ${atsrNode()}\n`);
  });
});

/** Turns a fresh install into what installers before PREFIX/session left: the socket root PREFIX/run, in rezumable and install.log. */
function makeOldLayout(): string {
  const old = join(sandbox.prefix, 'run');
  renameSync(runRoot(), old);
  const swap = (file: string): void => writeFileSync(file, readFileSync(file, 'utf8').replaceAll(runRoot(), old));
  swap(join(sandbox.prefix, 'bin/rezumable'));
  swap(join(sandbox.prefix, 'install.log'));
  expect(readFileSync(join(sandbox.prefix, 'bin/rezumable'), 'utf8')).toContain(`\nSOCKET_ROOT='${old}'\n`);
  return old;
}

/** What a plain `atsr -l` of the installed executable lists under the prefix, as `socket-dir/name`. */
function plainListing(): string[] {
  const r = spawnSync(atsr(), ['-l', '--json'], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, HOME: sandbox.dir } });
  expect(r.status, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { socket: string }[]).map((s) => s.socket).filter((p) => p.startsWith(`${sandbox.prefix}/`)).map((p) => p.slice(sandbox.prefix.length + 1));
}

describe('upgrade from an install whose socket root was PREFIX/run', () => {
  it('moves rezumable to PREFIX/session, keeps PREFIX/run listed while its session runs, and removes it once empty', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    const old = makeOldLayout();
    const uid = process.getuid!();
    expect(spawnSync(atsr(), ['-n', '-g', old, 'old1', ...TICKER], { timeout: 10_000 }).status).toBe(0);

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`create ${runRoot()} (the shared socket root for -g: sticky, a private directory per user, mode 1777)`);
    expect(r.stdout).toContain(`Note: 1 running session(s) keep their sockets in ${old}, the socket root of the older install: atsr -l lists them`);
    expect((statSync(runRoot()).mode & 0o7777).toString(8)).toBe('1777');
    expect(readFileSync(join(sandbox.prefix, 'bin/rezumable'), 'utf8')).toContain(`\nSOCKET_ROOT='${runRoot()}'\n`);
    // The live socket stays where its host bound it, and both roots are listed.
    expect(spawnSync(atsr(), ['-n', '-g', runRoot(), 'new1', ...TICKER], { timeout: 10_000 }).status).toBe(0);
    morePids.push(...(JSON.parse(spawnSync(atsr(), ['-l', runRoot(), '--json'], { encoding: 'utf8' }).stdout) as { pid: number }[]).map((s) => s.pid));
    const listed = plainListing();
    expect(listed.sort()).toEqual([`run/${uid}/old1`, `session/${uid}/new1`]);
    const pids = (JSON.parse(spawnSync(atsr(), ['-l', old, '--json'], { encoding: 'utf8' }).stdout) as { pid: number }[]).map((s) => s.pid);
    expect(pids).toHaveLength(1);
    hostPid = pids[0]!;

    // Once the old session has ended, the next upgrade removes PREFIX/run; uninstall then knows nothing of it.
    process.kill(hostPid, 'SIGTERM');
    await waitUntil('the old session host has ended', () => !isAlive(hostPid));
    const again = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`remove ${old} (the older install's socket root; no session in it)`);
    expect(existsSync(old)).toBe(false);
    expect(plainListing()).toEqual([`session/${uid}/new1`]);
  });

  it('--uninstall --kill-sessions ends the sessions left in PREFIX/run too, and removes it', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    const old = makeOldLayout();
    expect(spawnSync(atsr(), ['-n', '-g', old, 'old1', ...TICKER], { timeout: 10_000 }).status).toBe(0);
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    hostPid = (JSON.parse(spawnSync(atsr(), ['-l', old, '--json'], { encoding: 'utf8' }).stdout) as { pid: number }[])[0]!.pid;

    const kept = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
    expect(kept.status).toBe(0);
    expect(kept.stdout).toContain(`Note: 1 running session(s) are left alone, and ${old} with them (--kill-sessions ends them)\n`);
    expect(readdirSync(sandbox.prefix)).toEqual(['bin', 'install.log', 'run']);
    expect(isAlive(hostPid)).toBe(true);

    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--kill-sessions', '--yes']);
    expect(u.stderr).not.toContain('install-atsr:');
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`  ended old1 (pid ${hostPid}, `);
    await waitUntil('the old session host has ended', () => !isAlive(hostPid));
    expect(readdirSync(sandbox.prefix)).toEqual(['bin']);
  });

  it('keeps a socket root the admin set in rezumable', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    makeOldLayout();
    const rezumablePath = join(sandbox.prefix, 'bin/rezumable');
    writeFileSync(rezumablePath, readFileSync(rezumablePath, 'utf8').replace(/^SOCKET_ROOT=.*$/m, "SOCKET_ROOT='/srv/atsr'"));
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    expect(readFileSync(rezumablePath, 'utf8')).toContain("\nSOCKET_ROOT='/srv/atsr'\n");
  });
});

describe('uninstall', () => {
  it('counts a session whose host does not answer (stopped): its socket root and the log stay, and the session lives on', async () => {
    const pid = await installWithSession();
    process.kill(pid, 'SIGSTOP');
    try {
      const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
      expect(u.stderr).not.toContain('install-atsr:');
      expect(u.status).toBe(0);
      expect(u.stdout).toContain(`Note: 1 running session(s) are left alone, and ${runRoot()} with them (--kill-sessions ends them)\n`);
      expect(readdirSync(sandbox.prefix).sort()).toEqual(['bin', 'install.log', 'session']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(isAlive(pid)).toBe(true);
    // Its socket is still where its users find it (bin/atsr itself is gone with the uninstall).
    expect(lstatSync(join(runRoot(), String(process.getuid!()), 'up1')).isSocket()).toBe(true);
  });

  it('restores sshd_config, removes the install and leaves the live session alone', async () => {
    const pid = await installWithSession();
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
    expect(u.stderr).not.toContain('install-atsr:');
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`Note: 1 running session(s) are left alone, and ${runRoot()} with them (--kill-sessions ends them)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(CONFIG);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
    // Left: the live session's socket root, the log of it, and the rezumable stub.
    expect(readdirSync(sandbox.prefix)).toEqual(['bin', 'install.log', 'session']);
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
