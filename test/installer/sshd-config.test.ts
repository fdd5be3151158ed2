// Unattended installs against sample sshd_configs, with the real sshd
// checking them: where `AcceptEnv ATSR_ID` lands, idempotence, rollback,
// the uninstall that restores the file byte for byte, and which sshd is
// reloaded: the system's (its config bound over /etc/ssh in a private mount
// namespace, a stand-in systemctl), a private `sshd -f FILE`, or none.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isAlive, waitUntil } from '../support/atsr-sandbox.js';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADDED_LINES, InstallSandbox, installerBin } from './installer-harness.js';
import { ThrowawayUser } from '../support/fake-hosts.js';

const PLAIN = 'UsePAM yes\nX11Forwarding no\nSubsystem sftp /usr/lib/openssh/sftp-server\n';
const WITH_MATCH = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\nMatch Address 10.0.0.0/8\n    PermitTTY no\n';
const WITH_INCLUDE = 'Include @DIR@/ssh/sshd_config.d/*.conf\nUsePAM yes\n';
const DEBIAN_INCLUDE = 'Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n';
const SYSTEM_CONFIG = '/etc/ssh/sshd_config';
const WITH_LANG = 'UsePAM yes\nAcceptEnv LANG LC_*\n';
const INVALID = 'UsePAM yes\nNoSuchOption yes\n';

let sandbox: InstallSandbox;
let user: ThrowawayUser | undefined;
beforeAll(async () => {
  await installerBin();
}, 180_000);
/** Files a test put where the installer's locks go. */
const plantedLocks: string[] = [];
afterEach(() => {
  sandbox?.remove();
  for (const f of plantedLocks.splice(0)) rmSync(f, { recursive: true, force: true });
});
afterAll(() => user?.remove());

function sshdAccepts(config: string): string[] {
  const r = spawnSync('sshd', ['-T', '-f', config], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.startsWith('acceptenv '));
}

describe('sshd_config', () => {
  it('names each running sshd and the file it reads, and reloads only the one that reads the edited file', async () => {
    sandbox = new InstallSandbox(PLAIN);
    const cfg = sandbox.sshdConfig;
    const other = join(sandbox.dir, 'ssh/other_config');
    const copy = join(sandbox.dir, 'ssh/copy_config');
    writeFileSync(other, PLAIN);
    writeFileSync(copy, PLAIN);
    const [mine, theirs] = [await sandbox.startSshd(), await sandbox.startSshd(other)];
    const readsNot = (pid: number, file: string, edited: string): string =>
      `  Note: sshd PID ${pid} reads ${file}, not ${edited}: logins through it will not resume sessions. Fix: run the installer with --sshd-config ${file} to add the line there.\n`;

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd', '--dry-run'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  Dry run: would reload sshd PID ${mine.pid}, which reads ${cfg}: kill -HUP ${mine.pid}\n`);
    expect(r.stdout).toContain(readsNot(theirs.pid, other, cfg));
    expect(r.stdout).not.toContain(`sshd PID ${mine.pid} reads`);
    expect(r.stdout).not.toContain(`kill -HUP ${theirs.pid}`);

    // A file that neither reads: both named, none reloaded.
    const c = await sandbox.run(['--accept-license', '--prefix', sandbox.prefix, '--sshd-config', copy, '--accept-env', '--restart-sshd', '--yes', '--dry-run']);
    expect(c.status).toBe(0);
    expect(c.stdout).toContain(readsNot(mine.pid, cfg, copy));
    expect(c.stdout).toContain(readsNot(theirs.pid, other, copy));
    expect(c.stdout).toContain(`  Note: no running sshd reads ${copy}, so none is reloaded (an sshd started with 'sshd -f ${copy}' will accept ATSR_ID)\n`);
    expect(c.stdout).not.toContain('reload sshd');
    expect(sandbox.systemctlCalls()).toBe('');
    expect([mine.hangups(), theirs.hangups()]).toEqual([0, 0]);
  });

  it('a private sshd reading the edited file: --restart-sshd sends its listener SIGHUP, and the system sshd is left alone', async () => {
    sandbox = new InstallSandbox(PLAIN);
    const cfg = sandbox.sshdConfig;
    const sshd = await sandbox.startSshd();
    const reload = `'kill -HUP ${sshd.pid}' (sshd PID ${sshd.pid} reads ${cfg})`;

    // Not told to reload: the closing lines name the command that would.
    const later = await sandbox.run(sandbox.installArgs('--accept-env', '--no-restart-sshd'));
    expect(later.status).toBe(0);
    expect(later.stdout).toContain(`\nStill to do:\n  - sshd has not been reloaded: the line takes effect after ${reload}\n`);
    const keep = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
    expect(keep.stdout).toContain(`  Note: sshd is not reloaded: it still accepts ATSR_ID until ${reload}\n`);
    expect(sshd.hangups()).toBe(0);

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(r.stdout).toContain(`  done: reload sshd PID ${sshd.pid}, which reads ${cfg}: kill -HUP ${sshd.pid}\n`);
    await waitUntil('sshd re-reads its config', () => sshd.hangups() === 1);
    expect(readFileSync(join(sandbox.prefix, 'install.log'), 'utf8')).toMatch(new RegExp(`\tran\tkill -HUP ${sshd.pid}\treads=${cfg}\n`));

    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--restart-sshd', '--yes']);
    expect(u.status).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toBe(PLAIN);
    await waitUntil('sshd re-reads its config again', () => sshd.hangups() === 2);
    expect(isAlive(sshd.pid)).toBe(true); // re-executed in place: the same listener
    expect(sandbox.systemctlCalls()).toBe('');
  });

  it('a copy that includes a drop-in directory, read by no sshd: the line goes into the copy, no drop-in, no reload', async () => {
    sandbox = new InstallSandbox(WITH_INCLUDE);
    mkdirSync(sandbox.dropInDir);
    const copy = sandbox.sshdConfig;
    const text = readFileSync(copy, 'utf8');
    // As on Debian: the live sshd reads another file that includes the same directory.
    const liveConfig = join(sandbox.dir, 'ssh/live_config');
    writeFileSync(liveConfig, text);
    const live = await sandbox.startSshd(liveConfig);
    const before = sandbox.systemState();
    const include = `Include ${sandbox.dropInDir}/*.conf`;
    const notes = [
      `  Note: ${copy} includes '${include}', but no sshd reads ${copy}: the line goes into ${copy} itself, and nothing in that directory is written\n`,
      `  Note: no running sshd reads ${copy}, so none is reloaded (an sshd started with 'sshd -f ${copy}' will accept ATSR_ID)\n`,
    ];

    const dry = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd', '--dry-run'));
    expect(dry.status).toBe(0);
    const would = dry.stdout.split('\n').filter((l) => l.startsWith('  Dry run: would'));
    expect(would[0]).toBe(`  Dry run: would add 'AcceptEnv ATSR_ID' to ${copy} (backup beside it, checked with sshd -t)`);
    expect(would.filter((l) => l.includes('sshd'))).toEqual([would[0]]); // nothing else of sshd's: no drop-in, no reload
    for (const n of notes) expect(dry.stdout).toContain(n);
    expect(sandbox.systemState()).toEqual(before);

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    for (const n of notes) expect(r.stdout).toContain(n);
    expect(r.stdout).not.toContain('reload sshd');
    expect(readFileSync(copy, 'utf8')).toBe(text + ADDED_LINES);
    expect(readdirSync(sandbox.dropInDir)).toEqual([]);
    expect(sshdAccepts(copy)).toEqual(['acceptenv ATSR_ID']);
    expect(sshdAccepts(liveConfig)).toEqual([]);
    expect(live.hangups()).toBe(0);
    expect(sandbox.systemctlCalls()).toBe('');
  });

  it("a user's process named sshd, with -f naming the edited file, is not taken for an sshd: not named, not signalled", async () => {
    sandbox = new InstallSandbox(WITH_INCLUDE);
    mkdirSync(sandbox.dropInDir);
    chmodSync(sandbox.dir, 0o755);
    user = ThrowawayUser.create();
    // `tail -f FILE` under the name sshd: /proc shows comm "sshd" and "-f FILE", as a listener of FILE would. SIGHUP ends it.
    const fake = join(sandbox.dir, 'sshd');
    copyFileSync('/usr/bin/tail', fake);
    chmodSync(fake, 0o755);
    const impostor = spawn(fake, ['-f', sandbox.sshdConfig], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
    try {
      await waitUntil('the impostor runs', () => readFileSync(`/proc/${impostor.pid}/comm`, 'utf8') === 'sshd\n');
      const text = readFileSync(sandbox.sshdConfig, 'utf8');
      const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
      expect(r.status).toBe(0);
      expect(r.stdout).not.toContain(`PID ${impostor.pid}`);
      expect(r.stdout).toContain(`  Note: no running sshd reads ${sandbox.sshdConfig}, so none is reloaded`);
      expect(readdirSync(sandbox.dropInDir)).toEqual([]); // its "reading" did not make the file live
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(text + ADDED_LINES);
      expect(impostor.exitCode ?? impostor.signalCode).toBe(null); // never signalled
    } finally {
      impostor.kill('SIGKILL');
    }
  });

  it("the system's sshd_config: appends the line, reloads sshd the systemd way, and a second run changes nothing", async () => {
    sandbox = new InstallSandbox(PLAIN, { hostKey: true });
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(readFileSync(`${sandbox.sshdConfig}.before-atsr`, 'utf8')).toBe(PLAIN);
    expect(r.stdout).toContain(`  done: add 'AcceptEnv ATSR_ID' to ${SYSTEM_CONFIG} (backup beside it, checked with sshd -t)\n`);
    expect(r.stdout).toContain(`done: reload sshd: ${sandbox.fakeBin}/systemctl reload ssh.service\n`);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\nreload ssh.service\n');
    expect(sshdAccepts(sandbox.sshdConfig)).toEqual(['acceptenv ATSR_ID']);

    const again = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--restart-sshd'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`Note: ${SYSTEM_CONFIG} already accepts ATSR_ID: no change needed\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\nreload ssh.service\n');
  });

  it("with Match blocks: the line goes before the first Match; the system's sshd not reloaded is still to do", async () => {
    sandbox = new InstallSandbox(WITH_MATCH, { hostKey: true });
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--no-restart-sshd'));
    expect(r.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(`UsePAM yes\n${ADDED_LINES}${WITH_MATCH.slice('UsePAM yes\n'.length)}`);
    expect(r.stdout).toContain("Note: sshd has not been reloaded: the line takes effect after");
    // The closing lines repeat what is still to do, after the "installed" message.
    expect(r.stdout).toMatch(/is installed in [^\n]*\n[\s\S]*\nStill to do:\n {2}- sshd has not been reloaded: the line takes effect after '[^']*systemctl reload ssh\.service'\n/);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\n');
  });

  it("the system's sshd_config including sshd_config.d/*.conf: writes a drop-in, reloads the service, the uninstall removes it", async () => {
    sandbox = new InstallSandbox(DEBIAN_INCLUDE, { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `  done: write /etc/ssh/sshd_config.d/atsr.conf with 'AcceptEnv ATSR_ID' (included by ${SYSTEM_CONFIG}, checked with sshd -t)\n`,
    );
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(DEBIAN_INCLUDE);
    expect(readdirSync(sandbox.dropInDir)).toEqual(['atsr.conf']);
    expect(readFileSync(join(sandbox.dropInDir, 'atsr.conf'), 'utf8')).toBe(ADDED_LINES);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\nreload ssh.service\n');

    const u = await sandbox.runAsSystemSshd(['--uninstall', '--prefix', sandbox.prefix, '--restart-sshd', '--yes']);
    expect(u.status).toBe(0);
    expect(readdirSync(sandbox.dropInDir)).toEqual([]);
    expect(u.stdout).toContain(`  done: reload sshd: ${sandbox.fakeBin}/systemctl reload ssh.service\n`);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\nreload ssh.service\n'.repeat(2));
  });

  it("an admin's own sshd_config.d/atsr.conf is left alone: the lines go into the main file", async () => {
    sandbox = new InstallSandbox(DEBIAN_INCLUDE, { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    const theirs = 'PermitRootLogin no\nMaxAuthTries 3\n';
    writeFileSync(join(sandbox.dropInDir, 'atsr.conf'), theirs);
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--no-keepalive', '--no-restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(readFileSync(join(sandbox.dropInDir, 'atsr.conf'), 'utf8')).toBe(theirs);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(DEBIAN_INCLUDE + ADDED_LINES);
  });

  it("a second install into atsr's drop-in keeps the first one's lines beside its own", async () => {
    sandbox = new InstallSandbox(DEBIAN_INCLUDE, { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    const dropIn = join(sandbox.dropInDir, 'atsr.conf');
    expect((await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--no-accept-env', '--keepalive', '--no-restart-sshd'))).status).toBe(0);
    const first = readFileSync(dropIn, 'utf8');
    expect(first).toMatch(/^ClientAliveInterval /m);
    const second = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--no-restart-sshd'));
    expect(second.stderr).not.toContain('install-atsr:');
    expect(second.status).toBe(0);
    expect(readFileSync(dropIn, 'utf8')).toBe(ADDED_LINES + first);
  });

  it('with AcceptEnv LANG LC_*: still adds exactly ATSR_ID, never a wildcard', async () => {
    sandbox = new InstallSandbox(WITH_LANG);
    const r = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(WITH_LANG + ADDED_LINES);
    expect(sshdAccepts(sandbox.sshdConfig)).toEqual(['acceptenv LANG', 'acceptenv LC_*', 'acceptenv ATSR_ID']);
  });

  it('with CRLF line endings: the added lines keep them, sshd reads them, the uninstall restores the file', async () => {
    for (const text of ['UsePAM yes\r\nMatch User bob\r\n    X11Forwarding no\r\n', 'UsePAM yes\r\nX11Forwarding no\r\n']) {
      sandbox = new InstallSandbox(text);
      const r = await sandbox.run(sandbox.installArgs('--accept-env'));
      expect(r.status).toBe(0);
      const crlfLines = ADDED_LINES.replaceAll('\n', '\r\n');
      const at = text.indexOf('Match');
      const expected = at < 0 ? text + crlfLines : text.slice(0, at) + crlfLines + text.slice(at);
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(expected);
      expect(sshdAccepts(sandbox.sshdConfig)).toEqual(['acceptenv ATSR_ID']);
      expect(r.stdout).not.toContain('\r');
      expect((await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes'])).status).toBe(0);
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(text);
      sandbox.remove();
    }
  });

  it('with AcceptEnv *: adds nothing, and warns that the wildcard is the CVE-2014-2532 kind', async () => {
    sandbox = new InstallSandbox('UsePAM yes\nAcceptEnv *\n');
    const r = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe('UsePAM yes\nAcceptEnv *\n');
    expect(r.stdout).toContain(`Note: ${sandbox.sshdConfig} already accepts ATSR_ID through the pattern '*': no change needed\n`);
    const warning =
      `AcceptEnv '*' in ${sandbox.sshdConfig} is a wildcard: clients may set every variable it matches, and one that changes ` +
      "what a login runs is the attack of CVE-2014-2532. Consider exact names instead, e.g. 'AcceptEnv LANG LC_* ATSR_ID'";
    expect(r.stdout).toContain(`Note: ${warning}\n`);
    expect(r.stdout).toContain(`\nStill to do:\n  - ${warning}\n`);
  });

  it('two installers at once: the second is refused naming the first, the block is written once', async () => {
    sandbox = new InstallSandbox(PLAIN);
    const reached = join(sandbox.dir, 'sshd-reached');
    const go = join(sandbox.dir, 'sshd-go');
    // The first installer's sshd -t waits here, holding its locks, until the test lets it go.
    sandbox.standIn('sshd', `touch '${reached}'\nwhile [ ! -e '${go}' ]; do sleep 0.05; done\nexec /usr/sbin/sshd "$@"`);
    const first = sandbox.run(sandbox.installArgs('--accept-env'));
    await waitUntil('the first installer runs sshd', () => existsSync(reached), 60_000); // after unpacking 39 MB
    const second = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`install-atsr: another installer \\(PID \\d+\\) is working on ${sandbox.prefix}; wait for it to finish \\(if none is running, remove /`));
    writeFileSync(go, '');
    const done = await first;
    expect(done.stderr).not.toContain('install-atsr:');
    expect(done.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    // Released at the end: a third run goes ahead (and finds nothing to add).
    const third = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(third.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
  });

  it("a user's files and directories at the lock names in /run/lock (1777) block no install or uninstall", async () => {
    sandbox = new InstallSandbox(PLAIN);
    user ??= ThrowawayUser.create();
    const lockName = (what: string): string => `/run/lock/atsr-install.${createHash('sha256').update(resolve(what)).digest('hex').slice(0, 16)}.lock`;
    for (const [what, kind] of [[sandbox.prefix, 'dir'], [sandbox.sshdConfig, 'file']] as const) {
      const planted = lockName(what);
      if (kind === 'dir') mkdirSync(planted);
      else writeFileSync(planted, '1\n'); // PID 1 lives
      execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, planted]); // as if the user had made it
      plantedLocks.push(planted);
    }
    const install = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(install.stderr).not.toContain('install-atsr:');
    expect(install.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    const uninstall = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
    expect(uninstall.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
  });

  it('an install killed right after its sshd edit: the next run records the lines, and the uninstall puts the file back byte for byte', async () => {
    sandbox = new InstallSandbox(PLAIN);
    // sshd -t of the edited file kills the installer (its parent), as a SIGKILL between the edit and the log would.
    sandbox.standIn('sshd', 'for a; do f=$a; done\nif grep -q ATSR_ID "$f"; then kill -KILL $PPID; sleep 5; fi\nexec /usr/sbin/sshd "$@"');
    const killed = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(killed.status).not.toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(readFileSync(`${sandbox.sshdConfig}.before-atsr`, 'utf8')).toBe(PLAIN);
    expect(existsSync(join(sandbox.prefix, 'install.log'))).toBe(false);

    rmSync(join(sandbox.fakeBin, 'sshd'));
    const again = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(again.stderr).not.toContain('install-atsr:');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`  done: record the atsr lines an interrupted run added to ${sandbox.sshdConfig} in the install log (so --uninstall takes them out)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);

    expect((await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes'])).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
  });

  it('a backup left by a run killed before its edit is reused, and the uninstall leaves no backup behind', async () => {
    sandbox = new InstallSandbox(PLAIN);
    writeFileSync(`${sandbox.sshdConfig}.before-atsr`, PLAIN);
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    expect(readdirSync(join(sandbox.dir, 'ssh')).sort()).toEqual(['sshd_config', 'sshd_config.before-atsr']);
    expect((await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes'])).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
  });

  it('one that sshd -t rejects already: its words, no edit, the line not blamed, the fix named', async () => {
    sandbox = new InstallSandbox(INVALID);
    const before = sandbox.systemState();
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`install-atsr: sshd -t rejects ${sandbox.sshdConfig} as it is, before any change by atsr:\n`);
    expect(r.stderr).toContain(`:\n  ${sandbox.sshdConfig}: line 2: Bad configuration option: NoSuchOption\n`);
    expect(r.stderr).toContain(
      `Nothing was changed. Fix the config first ('sshd -t -f ${sandbox.sshdConfig}' shows what sshd says), then run the installer again; or pass --no-accept-env to install without touching it.`,
    );
    expect(r.stderr).not.toContain('with the AcceptEnv line added');
    expect(sandbox.systemState()).toEqual(before);
    expect(sandbox.systemctlCalls()).toBe('');

    // Told to leave sshd alone, the install goes ahead and says why the config was not touched.
    const alone = await sandbox.run(sandbox.installArgs('--no-accept-env'));
    expect(alone.status).toBe(0);
    expect(alone.stdout).toContain(`  Note: sshd -t rejects ${sandbox.sshdConfig} as it is, before any change by atsr:\n`);
    expect(alone.stdout).toContain(`${sandbox.sshdConfig} is left alone (--no-accept-env)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(INVALID);
  });

  it('one that sshd -t rejects only with the line added: restored byte for byte, nothing installed', async () => {
    sandbox = new InstallSandbox(PLAIN);
    // sshd as the installer finds it first on PATH: the real one, except that it refuses ATSR_ID.
    sandbox.standIn('sshd', 'for a; do f=$a; done\nif grep -q ATSR_ID "$f"; then echo "line 4: AcceptEnv refused here" >&2; exit 255; fi\nexec /usr/sbin/sshd "$@"');
    const before = sandbox.systemState();
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'));
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`install-atsr: sshd -t rejects ${sandbox.sshdConfig} with the AcceptEnv line added:\n  line 4: AcceptEnv refused here\n`);
    expect(r.stderr).toContain(`${sandbox.sshdConfig} was restored as it was; nothing else was changed.`);
    expect(sandbox.systemState()).toEqual(before);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(sandbox.systemctlCalls()).toBe('');
  });

  it('a host with no /run/sshd: makes it as sshd\'s unit would, says so, then checks and edits', async () => {
    sandbox = new InstallSandbox(PLAIN);
    const r = await sandbox.runWithEmptyRun(sandbox.installArgs('--accept-env'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "Created /run/sshd (root, mode 755), sshd's privilege separation directory: sshd -t cannot check a config without it.\n" +
        "sshd's service unit creates it at every start; it is sshd's, and --uninstall leaves it.\n",
    );
    expect(r.stdout.endsWith('after: 755 root root\n')).toBe(true);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(readFileSync(join(sandbox.prefix, 'install.log'), 'utf8')).toMatch(/\tsshd-privsep-dir-created\t\/run\/sshd\tmode=755\n/);

    // The uninstall puts sshd_config back and leaves sshd's directory alone.
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
    expect(u.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(u.stdout).not.toContain('/run/sshd');
  });

  it('a host with no /run/sshd and a config sshd rejects: sshd\'s own words, not the directory', async () => {
    sandbox = new InstallSandbox(INVALID);
    const before = sandbox.systemState();
    const r = await sandbox.runWithEmptyRun(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('Bad configuration option: NoSuchOption');
    expect(r.stderr).not.toContain('privilege separation');
    expect(sandbox.systemState()).toEqual(before);
  });

  it("the edit and the uninstall keep the file's owner, group and mode", async () => {
    sandbox = new InstallSandbox(PLAIN);
    chownSync(sandbox.sshdConfig, 65534, 65534);
    chmodSync(sandbox.sshdConfig, 0o640);
    const owned = (): [number, number, number] => {
      const st = statSync(sandbox.sshdConfig);
      return [st.uid, st.gid, st.mode & 0o7777];
    };
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
    expect(owned()).toEqual([65534, 65534, 0o640]);
    expect((await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes'])).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(owned()).toEqual([65534, 65534, 0o640]);
  });

  it('uninstall restores the edited file byte for byte and removes the prefix', async () => {
    sandbox = new InstallSandbox(WITH_MATCH);
    expect((await sandbox.run(sandbox.installArgs('--accept-env', '--restart-sshd'))).status).toBe(0);
    const installed = sandbox.systemState();
    const dry = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--dry-run']);
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`  Dry run: would take 'AcceptEnv ATSR_ID' out of ${sandbox.sshdConfig} (restore its backup ${sandbox.sshdConfig}.before-atsr)\n`);
    expect(dry.stdout).toContain(`  Dry run: would remove ${sandbox.prefix}/bin/atsr\n`);
    expect(dry.stdout).toContain(`  Note: no running sshd reads ${sandbox.sshdConfig}, so none is reloaded for it\n`);
    expect(sandbox.systemState()).toEqual(installed);

    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--restart-sshd', '--yes']);
    expect(u.stderr).not.toContain('install-atsr:');
    expect(u.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(WITH_MATCH);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
    expect(readdirSync(sandbox.prefix)).toEqual(['bin']); // only the rezumable stub is left
    expect(u.stdout).not.toContain('reload sshd');
    expect(sandbox.systemctlCalls()).toBe(''); // no sshd reads the file: the system's is not asked
  });

  it("uninstall after the admin added a line to atsr's drop-in: takes out atsr's lines, keeps the admin's", async () => {
    sandbox = new InstallSandbox(DEBIAN_INCLUDE, { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    expect((await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--no-restart-sshd'))).status).toBe(0);
    const dropIn = join(sandbox.dropInDir, 'atsr.conf');
    writeFileSync(dropIn, `${readFileSync(dropIn, 'utf8')}MaxSessions 4\n`);
    const u = await sandbox.runAsSystemSshd(['--uninstall', '--prefix', sandbox.prefix, '--no-restart-sshd', '--yes']);
    expect(u.status).toBe(0);
    // The installer runs where /etc/ssh is the sandbox's (runAsSystemSshd).
    expect(u.stdout).toContain('  removed the atsr lines from /etc/ssh/sshd_config.d/atsr.conf (lines added since the install are kept)\n');
    expect(readFileSync(dropIn, 'utf8')).toBe('MaxSessions 4\n');
  });

  it("uninstall after the admin changed atsr's own lines: says they were not taken out, changes nothing, keeps the backup", async () => {
    sandbox = new InstallSandbox(PLAIN);
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    // The marker comment deleted: the block is no longer there as written.
    const edited = readFileSync(sandbox.sshdConfig, 'utf8').replace(/^# Added by atsr.*\n/m, '');
    writeFileSync(sandbox.sshdConfig, edited);
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
    expect(u.status).toBe(0);
    const backup = `${sandbox.sshdConfig}.before-atsr`;
    expect(u.stdout).toContain(
      `  NOT changed ${sandbox.sshdConfig}: atsr's lines ('AcceptEnv ATSR_ID', under '# Added by atsr') are not in it as they were written, ` +
        `so nothing was taken out; remove what is left of them yourself (the file as it was before the install is ${backup}, kept)\n`,
    );
    expect(u.stdout).not.toContain('removed the atsr lines');
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(edited);
    expect(readFileSync(backup, 'utf8')).toBe(PLAIN);
  });

  it('uninstall after the admin appended a CRLF line to an LF file: still finds and takes out the atsr lines', async () => {
    sandbox = new InstallSandbox(PLAIN);
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    writeFileSync(sandbox.sshdConfig, `${readFileSync(sandbox.sshdConfig, 'utf8')}Banner none\r\n`);
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
    expect(u.status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(`${PLAIN}Banner none\r\n`);
  });

  it('uninstall after the admin edited the file: takes out only the two atsr lines', async () => {
    sandbox = new InstallSandbox(WITH_MATCH);
    expect((await sandbox.run(sandbox.installArgs('--accept-env'))).status).toBe(0);
    const edited = readFileSync(sandbox.sshdConfig, 'utf8') + 'PermitRootLogin no\n';
    writeFileSync(sandbox.sshdConfig, edited);
    const u = await sandbox.run(['--uninstall', '--prefix', sandbox.prefix, '--yes']);
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`  removed the atsr lines from ${sandbox.sshdConfig} (it was edited since the install, so the backup was not used)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(`${WITH_MATCH}PermitRootLogin no\n`);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
  });
});
