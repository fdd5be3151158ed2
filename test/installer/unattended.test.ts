// Unattended installs (no terminal on stdin): the layout under the prefix,
// the dry run, the answers that must come as flags, and what the generated
// rezumable does with and without a resumable client.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InstallSandbox, installerBin } from './installer-harness.js';
import { PtyRun } from '../support/pty-harness.js';

const CONFIG = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\n';
const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

let sandbox: InstallSandbox;
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => sandbox?.remove());

const mode = (p: string): string => (statSync(p).mode & 0o7777).toString(8);

describe('unattended install', () => {
  it('lays out the prefix with explicit modes and logs every change', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const p = sandbox.prefix;
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd', '--orphan-timeout', '15'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(mode(join(p, 'bin/atsr'))).toBe('755');
    expect(mode(join(p, 'bin/atsr-node'))).toBe('755');
    expect(mode(join(p, 'bin/pty.node'))).toBe('755');
    expect(mode(join(p, 'bin/rezume-connect'))).toBe('755');
    expect(mode(join(p, 'bin/atsr-relay'))).toBe('755');
    expect(mode(join(p, 'bin/host-native.node'))).toBe('755');
    expect(readlinkSync(join(p, 'bin/rezume'))).toBe('atsr');
    expect(mode(join(p, 'bin/rezumable'))).toBe('755');
    expect(mode(join(p, 'session'))).toBe('1777');
    expect(statSync(join(p, 'session')).uid).toBe(0);
    expect(mode(join(p, 'LICENSE'))).toBe('644');
    expect(mode(join(p, 'docs/install.md'))).toBe('644');
    expect(mode(join(p, 'install.log'))).toBe('644');
    expect(spawnSync(join(p, 'bin/atsr'), ['--version'], { encoding: 'utf8' }).stdout).toBe(`atsr ${VERSION}\n`);

    const rezumable = readFileSync(join(p, 'bin/rezumable'), 'utf8');
    expect(rezumable).toContain(`\nORPHAN_TIMEOUT=15\n`);
    expect(rezumable).toContain(`\nBUFFER_SIZE=262144\n`);
    expect(rezumable).toContain(`\nSOCKET_ROOT='${p}/session'\n`);
    expect(rezumable).toContain(`\nATSR=${p}/bin/atsr\n`);
    expect(spawnSync('sh', ['-n', join(p, 'bin/rezumable')]).status).toBe(0);

    // time, kind, path: the notes depend on this host, the docs on the build
    const logged = readFileSync(join(p, 'install.log'), 'utf8').split('\n').filter((l) => !l.startsWith('#') && l !== '');
    const kinds = logged.map((l) => l.split('\t').slice(1, 3).join(' ')).filter((k) => !k.startsWith('note') && !k.includes('/docs/'));
    expect(kinds).toEqual([
      `install ${p}`,
      `sshd-config-edited ${sandbox.sshdConfig}`,
      `created-dir ${p}`,
      `created-dir ${p}/bin`,
      `created-dir ${p}/docs`,
      `created-dir ${p}/session`,
      `wrote-file ${p}/bin/atsr-node`,
      `wrote-file ${p}/bin/atsr`,
      `wrote-file ${p}/bin/pty.node`,
      `wrote-file ${p}/bin/rezume-connect`,
      `wrote-file ${p}/bin/atsr-relay`,
      `wrote-file ${p}/bin/host-native.node`,
      `linked ${p}/bin/rezume`,
      `wrote-file ${p}/bin/rezumable`,
      `wrote-file ${p}/LICENSE`,
      // no `ran`: no sshd reads the sandbox's sshd_config, so --restart-sshd reloads none
    ]);
    expect(logged.some((l) => l.includes(`\twrote-file\t${p}/docs/install.md`))).toBe(true);
  });

  it('--dry-run prints every change and makes none', async () => {
    sandbox = new InstallSandbox(CONFIG, { hostKey: true });
    const before = sandbox.systemState();
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--restart-sshd', '--dry-run'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  Dry run: would add 'AcceptEnv ATSR_ID' to /etc/ssh/sshd_config (backup beside it, checked with sshd -t)\n`);
    expect(r.stdout).toContain(`  Dry run: would create ${sandbox.prefix} (the install directory, mode 755)\n`);
    expect(r.stdout).toContain(`  Dry run: would install ${sandbox.prefix}/bin/atsr\n`);
    expect(r.stdout).toContain(`  Dry run: would reload sshd: ${sandbox.fakeBin}/systemctl reload ssh.service\n`);
    expect(r.stdout).toContain('Dry run: nothing was changed.\n');
    expect(sandbox.systemState()).toEqual(before);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\n');
  });

  it('refuses an sshd config it cannot edit for what was asked: relative, missing, or not a regular file; changes nothing', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const before = sandbox.systemState();
    const args = (cfg: string): string[] => ['--accept-license', '--prefix', sandbox.prefix, '--sshd-config', cfg, '--accept-env', '--no-keepalive', '--no-restart-sshd', '--yes'];
    // Relative: it named a file in makeself's temporary directory, and the run went on without sshd's config.
    const relative = await sandbox.run(args('ssh/sshd_config'));
    expect(relative.status).toBe(2);
    expect(relative.stderr).toContain("install-atsr: --sshd-config takes an absolute path, not 'ssh/sshd_config'\n");
    const typo = `${sandbox.sshdConfig}-typo`;
    const missing = await sandbox.run(args(typo));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`install-atsr: ${typo} does not exist, so --accept-env cannot change it: name sshd's config with --sshd-config PATH\n`);
    // A character device, as /dev/null: it was replaced by a regular file.
    const device = join(sandbox.dir, 'null');
    expect(spawnSync('mknod', [device, 'c', '1', '3']).status).toBe(0);
    const notFile = await sandbox.run(args(device));
    expect(notFile.status).toBe(2);
    expect(notFile.stderr).toContain(`install-atsr: ${device} is not a regular file: name sshd's config with --sshd-config PATH\n`);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
    expect(sandbox.systemState()).toEqual(before);
  });

  it("a first install into a directory holding another program's files: refused, naming them, nothing changed", async () => {
    sandbox = new InstallSandbox(CONFIG);
    const license = join(sandbox.prefix, 'LICENSE');
    mkdirSync(sandbox.prefix, { recursive: true });
    writeFileSync(license, 'another program\n');
    const before = sandbox.systemState();
    const r = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`install-atsr: ${sandbox.prefix} holds files atsr did not put there (${license}): pass another --prefix, or move them away; nothing was changed\n`);
    expect(sandbox.systemState()).toEqual(before);
  });

  it('a prefix below a regular file: refused before sshd_config is touched', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const file = join(sandbox.dir, 'afile');
    writeFileSync(file, 'x');
    const before = sandbox.systemState();
    const r = await sandbox.run(['--accept-license', '--prefix', `${file}/atsr`, '--sshd-config', sandbox.sshdConfig, '--accept-env', '--no-keepalive', '--no-restart-sshd', '--yes']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`install-atsr: cannot install into ${file}/atsr: ${file} is not a directory. Run the installer as root, or pass --prefix with a directory you own; nothing was changed\n`);
    expect(sandbox.systemState()).toEqual(before);
  });

  it('fails with the flag to pass when an answer is missing, and changes nothing', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const before = sandbox.systemState();
    const noLicense = await sandbox.run(['--prefix', sandbox.prefix, '--sshd-config', sandbox.sshdConfig, '--yes']);
    expect(noLicense.status).toBe(2);
    expect(noLicense.stderr).toContain('install-atsr: no terminal to ask "Do you accept the license?": pass --accept-license\n');
    const noYes = await sandbox.run(['--accept-license', '--prefix', sandbox.prefix, '--sshd-config', sandbox.sshdConfig, '--no-accept-env']);
    expect(noYes.status).toBe(2);
    expect(noYes.stderr).toContain('install-atsr: no terminal to ask "Proceed?": pass --yes\n');
    const noSshdAnswer = await sandbox.run(sandbox.installArgs());
    expect(noSshdAnswer.status).toBe(2);
    expect(noSshdAnswer.stderr).toContain(
      `install-atsr: no terminal to ask "Add 'AcceptEnv ATSR_ID' to the sshd configuration?": pass --accept-env or --no-accept-env\n`,
    );
    const badFlag = await sandbox.run(['--orphan-timeout', 'soon']);
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain("install-atsr: --orphan-timeout takes whole minutes, 0 (never) to 527040 (a year), not 'soon'\n");
    // Past the bound it was once written as 1e+23, which atsr -x refused: every resumable login failed.
    const huge = await sandbox.run(['--orphan-timeout', '100000000000000000000000']);
    expect(huge.status).toBe(2);
    expect(huge.stderr).toContain("install-atsr: --orphan-timeout takes whole minutes, 0 (never) to 527040 (a year), not '100000000000000000000000'\n");
    expect(sandbox.systemState()).toEqual(before);
  });

  it('with --no-accept-env: installs, and its last lines say sessions will not resume until the line is added', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const r = await sandbox.run(sandbox.installArgs('--no-accept-env'));
    expect(r.status).toBe(0);
    const tail = r.stdout.slice(r.stdout.indexOf('\nStill to do:\n'));
    expect(tail.split('\n').slice(0, 3)).toEqual([
      '',
      'Still to do:',
      `  - 'AcceptEnv ATSR_ID' is absent from ${sandbox.sshdConfig}, so sessions will not resume until it is added (run the installer again with --accept-env)`,
    ]);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(CONFIG);
  });

  it('as a user into a root-owned prefix: a clear error naming the fix, no stack trace, nothing changed', async () => {
    sandbox = new InstallSandbox(CONFIG);
    chmodSync(sandbox.dir, 0o755);
    const before = sandbox.systemState();
    const r = await sandbox.run(sandbox.installArgs('--no-accept-env'), 65534);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `install-atsr: cannot install into ${sandbox.prefix}: ${join(sandbox.dir, 'opt')} is not writable by uid 65534. Run the installer as root, or pass --prefix with a directory you own; nothing was changed\n`,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sandbox.systemState()).toEqual(before);
  });

  it('an immutable sshd_config: a clear error naming chattr, no stack trace, no temp file or backup left', async (ctx) => {
    sandbox = new InstallSandbox(CONFIG);
    // chattr needs a file system with attributes and the capability: without them there is nothing to test.
    if (spawnSync('chattr', ['+i', sandbox.sshdConfig]).status !== 0) ctx.skip();
    try {
      const r = await sandbox.run(sandbox.installArgs('--accept-env'));
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`install-atsr: cannot write ${sandbox.sshdConfig}: `);
      expect(r.stderr).toContain(`run 'chattr -i ${sandbox.sshdConfig}' first, or add 'AcceptEnv ATSR_ID' yourself and run the installer with --no-accept-env`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(CONFIG);

      // Made immutable after the install: the uninstall's fix is chattr and the uninstall again, not --no-accept-env.
      spawnSync('chattr', ['-i', sandbox.sshdConfig]);
      expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
      expect(spawnSync('chattr', ['+i', sandbox.sshdConfig]).status).toBe(0);
      const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
      expect(u.status).toBe(1);
      expect(u.stderr).toContain(`run 'chattr -i ${sandbox.sshdConfig}' first and run --uninstall again\n`);
      expect(u.stderr).not.toContain('--no-accept-env');
    } finally {
      spawnSync('chattr', ['-i', sandbox.sshdConfig]);
    }
  });

  it('as a user into a prefix the user owns: installs, and leaves sshd alone with a note', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const nobody = 65534;
    chmodSync(sandbox.dir, 0o755);
    chownSync(join(sandbox.dir, 'opt'), nobody, nobody);
    const before = readFileSync(sandbox.sshdConfig, 'utf8');
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'), nobody);
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`Note: not root: ${sandbox.sshdConfig} is left alone (as root, add 'AcceptEnv ATSR_ID' to it)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(before);
    expect(sandbox.systemctlCalls()).toBe('');
    expect(statSync(join(sandbox.prefix, 'bin/atsr')).uid).toBe(nobody);
    expect(spawnSync(join(sandbox.prefix, 'bin/atsr'), ['--version'], { encoding: 'utf8' }).stdout).toBe(`atsr ${VERSION}\n`);
  });

  it('runs from a noexec TMPDIR, and passes the wizard\'s exit status through', async (ctx) => {
    sandbox = new InstallSandbox(CONFIG);
    const noexec = join(sandbox.dir, 'noexec-tmp');
    mkdirSync(noexec);
    // Mounting needs privileges a CI container may lack: then there is nothing to test here.
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'noexec,size=300m', 'tmpfs', noexec]).status !== 0) ctx.skip();
    try {
      const env = { ...sandbox.env, TMPDIR: noexec };
      const noYes = await sandbox.run(['--accept-license', '--prefix', sandbox.prefix], undefined, env);
      expect(noYes.status).toBe(2);
      const r = await sandbox.run(sandbox.installArgs('--no-accept-env'), undefined, env);
      expect(r.stderr).not.toContain('install-atsr:');
      expect(r.status).toBe(0);
      expect(spawnSync(join(sandbox.prefix, 'bin/atsr'), ['--version'], { encoding: 'utf8' }).stdout).toBe(`atsr ${VERSION}\n`);
    } finally {
      spawnSync('umount', [noexec]);
    }
  });
});

describe('rezumable', () => {
  it('runs the command directly without ATSR_ID or a terminal, and as a session with both', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--no-accept-env'))).status).toBe(0);
    const rezumable = join(sandbox.prefix, 'bin/rezumable');
    const direct = (env: NodeJS.ProcessEnv) => spawnSync(rezumable, ['sh', '-c', 'echo "direct $0"', 'x'], { encoding: 'utf8', env });
    const { ATSR_ID: _unset, ...plain } = process.env;
    expect(direct(plain)).toMatchObject({ status: 0, stdout: 'direct x\n', stderr: '' });
    // ssh host cmd, scp, sftp: ATSR_ID sent, but no terminal.
    expect(direct({ ...plain, ATSR_ID: 'nottty' })).toMatchObject({ status: 0, stdout: 'direct x\n', stderr: '' });

    const session = new PtyRun([rezumable, 'sh', '-c', 'echo in-session; exec sleep 600'], { env: { ...plain, ATSR_ID: 'rz1', HOME: sandbox.dir } });
    let hostPid = 0;
    try {
      await session.waitFor('in-session');
      // A plain `atsr -l` of the installed executable finds it in the installed shared root.
      const list = spawnSync(join(sandbox.prefix, 'bin/atsr'), ['-l', '--json'], { encoding: 'utf8', env: { ...plain, HOME: sandbox.dir } });
      const socket = join(sandbox.prefix, 'session', String(process.getuid!()), 'rz1');
      const sessions = (JSON.parse(list.stdout) as { name: string; pid: number; socket: string }[]).filter((s) => s.socket === socket);
      hostPid = sessions[0]?.pid ?? 0;
      expect(sessions.map((s) => s.name)).toEqual(['rz1']);
      expect(lstatSync(socket).isSocket()).toBe(true);
    } finally {
      session.kill('SIGKILL');
      if (hostPid > 0) process.kill(hostPid, 'SIGTERM');
    }
  });

  it('warns once and runs the command when ATSR_ID is set but atsr is unusable', async () => {
    sandbox = new InstallSandbox(CONFIG);
    expect((await sandbox.run(sandbox.installArgs('--no-accept-env'))).status).toBe(0);
    spawnSync('chmod', ['-x', join(sandbox.prefix, 'bin/atsr')]);
    const run = new PtyRun([join(sandbox.prefix, 'bin/rezumable'), 'sh', '-c', 'echo direct-ok'], { env: { ...process.env, ATSR_ID: 'rz2' } });
    await run.waitFor('direct-ok');
    expect(run.text()).toBe(`rezumable: ${sandbox.prefix}/bin/atsr is not executable; running sh without session resilience\r\ndirect-ok\r\n`);
    expect((await run.exit()).exitCode).toBe(0);
  });
});
