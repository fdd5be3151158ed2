// Server-to-client keepalives (`ClientAliveInterval 30`, `ClientAliveCountMax
// 2`), against sample sshd_configs with the real sshd checking them: they go
// in one block with the AcceptEnv line (same placement, sshd -t, log, undo),
// only for what the admin has not set, and the uninstall puts the file back
// byte for byte, also for an install.log written before keepalives existed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADDED_LINES, InstallSandbox, installerBin } from './installer-harness.js';

const WITH_MATCH = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\n';
const PLAIN = 'UsePAM yes\nX11Forwarding no\n';
const KEEPALIVE_LINES =
  '# Added by atsr: server-to-client keepalives, so that sshd ends broken connections sooner.\nClientAliveInterval 30\nClientAliveCountMax 2\n';
const ALL = "'AcceptEnv ATSR_ID', 'ClientAliveInterval 30', 'ClientAliveCountMax 2'";

let sandbox: InstallSandbox;
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => sandbox?.remove());

/** What `sshd -T -f FILE` shows for the keepalive keywords and AcceptEnv. */
function effective(config: string): string[] {
  const r = spawnSync('sshd', ['-T', '-f', config], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter((l) => /^(clientaliveinterval|clientalivecountmax|acceptenv) /.test(l));
}

const uninstall = (extra: string[] = []): string[] => ['--uninstall', '--prefix', sandbox.prefix, '--yes', ...extra];

describe('sshd keepalives', () => {
  it('--keepalive: the dry run shows the lines, they land with the AcceptEnv line before the first Match, the uninstall restores the file', async () => {
    sandbox = new InstallSandbox(WITH_MATCH);
    const cfg = sandbox.sshdConfig;
    const before = sandbox.systemState();
    const dry = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive', '--dry-run'));
    expect(dry.status).toBe(0);
    expect(dry.stdout).toContain(`  Dry run: would add ${ALL} to ${cfg} (backup beside it, checked with sshd -t)\n`);
    expect(sandbox.systemState()).toEqual(before);

    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  done: add ${ALL} to ${cfg} (backup beside it, checked with sshd -t)\n`);
    expect(readFileSync(cfg, 'utf8')).toBe(`UsePAM yes\n${ADDED_LINES}${KEEPALIVE_LINES}Match User bob\n    X11Forwarding no\n`);
    expect(effective(cfg)).toEqual(['clientaliveinterval 30', 'clientalivecountmax 2', 'acceptenv ATSR_ID']);
    expect(readFileSync(join(sandbox.prefix, 'install.log'), 'utf8')).toContain(
      `\tsshd-config-edited\t${cfg}\tbackup=${cfg}.before-atsr\t`,
    );
    expect(readFileSync(join(sandbox.prefix, 'install.log'), 'utf8')).toMatch(
      /\tsha256=[0-9a-f]{64}\tsettings=AcceptEnv ATSR_ID,ClientAliveInterval 30,ClientAliveCountMax 2\n/,
    );

    // An upgrade finds atsr's own lines: nothing is added, and they are not taken for the admin's.
    const again = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`  Note: atsr's keepalive lines are in place for ${cfg} already: no change needed\n`);
    expect(readFileSync(cfg, 'utf8')).toBe(`UsePAM yes\n${ADDED_LINES}${KEEPALIVE_LINES}Match User bob\n    X11Forwarding no\n`);

    const u = await sandbox.run(uninstall(['--dry-run']));
    expect(u.stdout).toContain(`  Dry run: would take ${ALL} out of ${cfg} (restore its backup ${cfg}.before-atsr)\n`);
    expect((await sandbox.run(uninstall())).status).toBe(0);
    expect(readFileSync(cfg, 'utf8')).toBe(WITH_MATCH);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
  });

  it('a config that sets ClientAliveInterval (60, or 0 written out) keeps it: nothing added for keepalive, a note says so', async () => {
    for (const interval of ['60', '0']) {
      const config = `UsePAM yes\nClientAliveInterval ${interval}\n`;
      sandbox = new InstallSandbox(config);
      const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(
        `  Note: ${sandbox.sshdConfig} sets ClientAliveInterval ${interval} (ClientAliveCountMax 3) already: kept, no keepalive lines added\n`,
      );
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(config + ADDED_LINES);
      expect(effective(sandbox.sshdConfig)).toEqual([`clientaliveinterval ${interval}`, 'clientalivecountmax 3', 'acceptenv ATSR_ID']);
      sandbox.remove();
    }
  });

  it.each([
    [
      "a drop-in of the admin's that sets ClientAliveInterval 0 keeps it: the drop-in atsr writes holds no keepalive",
      '/etc/ssh/sshd_config.d/*.conf',
      'zz-local.conf', // read after atsr.conf ('a' < 'z')
    ],
    [
      "an 'Include DIR/*' whose file of another name sets ClientAliveInterval 0 keeps it: atsr.conf, read first, holds no keepalive",
      '/etc/ssh/sshd_config.d/*',
      'local', // 'atsr.conf' sorts before it
    ],
  ])('%s', async (_title, include, file) => {
    sandbox = new InstallSandbox(`Include ${include}\nUsePAM yes\n`, { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    // sshd takes a keyword's first value: a keepalive in atsr.conf would win over the admin's 0, wherever it is read.
    writeFileSync(join(sandbox.dropInDir, file), 'ClientAliveInterval 0\n');
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--keepalive', '--no-restart-sshd'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  Note: /etc/ssh/sshd_config sets ClientAliveInterval 0 (ClientAliveCountMax 3) already: kept, no keepalive lines added\n');
    expect(readFileSync(join(sandbox.dropInDir, 'atsr.conf'), 'utf8')).toBe(ADDED_LINES);
  });

  it('an Include of one file (quoted, a comment after it), which includes a pattern in turn, setting ClientAliveInterval 0: kept, and the plan claims no keepalive', async () => {
    // sshd takes a keyword's first value: keepalives added after the Include would be shown in the plan and never used.
    const config = 'Include "@DIR@/ssh/extra.conf" # the site\'s own\nUsePAM yes\n';
    sandbox = new InstallSandbox(config);
    mkdirSync(join(sandbox.dir, 'ssh/more'));
    writeFileSync(join(sandbox.dir, 'ssh/extra.conf'), `Include ${sandbox.dir}/ssh/more/*\n`);
    writeFileSync(join(sandbox.dir, 'ssh/more/keepalive'), 'ClientAliveInterval 0\n');
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  Note: ${sandbox.sshdConfig} sets ClientAliveInterval 0 (ClientAliveCountMax 3) already: kept, no keepalive lines added\n`);
    expect(r.stdout).toContain(`  done: add 'AcceptEnv ATSR_ID' to ${sandbox.sshdConfig} (backup beside it, checked with sshd -t)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(config.replace('@DIR@', sandbox.dir) + ADDED_LINES);
    expect(effective(sandbox.sshdConfig)).toEqual(['clientaliveinterval 0', 'clientalivecountmax 3', 'acceptenv ATSR_ID']);
  });

  it("includes that only Node's glob would fan out (`**`, three drop-ins each including them all) are read as sshd reads them: at once", async () => {
    // sshd's glob(3) takes `**` as `*`: `DIR/**/*.conf` names files under subdirectories, and there are none.
    const config = 'Include @DIR@/ssh/d/*.conf\nUsePAM yes\n';
    sandbox = new InstallSandbox(config);
    mkdirSync(join(sandbox.dir, 'ssh/d'));
    for (const name of ['a', 'b', 'c']) writeFileSync(join(sandbox.dir, `ssh/d/${name}.conf`), `Include ${sandbox.dir}/ssh/d/**/*.conf\n`);
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  done: add ${ALL} to ${sandbox.sshdConfig} (backup beside it, checked with sshd -t)\n`);
    expect(effective(sandbox.sshdConfig)).toEqual(['clientaliveinterval 30', 'clientalivecountmax 2', 'acceptenv ATSR_ID']);
  });

  it('a config that sets only ClientAliveCountMax keeps it: only the interval is added', async () => {
    const config = 'UsePAM yes\nClientAliveCountMax 5\n';
    sandbox = new InstallSandbox(config);
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  Note: ${sandbox.sshdConfig} sets ClientAliveCountMax 5 already: kept, only 'ClientAliveInterval 30' is offered\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(
      `${config}${ADDED_LINES}# Added by atsr: server-to-client keepalives, so that sshd ends broken connections sooner.\nClientAliveInterval 30\n`,
    );
    expect(effective(sandbox.sshdConfig)).toEqual(['clientaliveinterval 30', 'clientalivecountmax 5', 'acceptenv ATSR_ID']);
    expect((await sandbox.run(uninstall())).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(config);
  });

  it('ATSR_ID accepted already: the keepalive lines alone, and the uninstall after an admin edit takes out just them (CRLF kept)', async () => {
    const config = 'UsePAM yes\r\nAcceptEnv ATSR_ID\r\n';
    sandbox = new InstallSandbox(config);
    const r = await sandbox.run(sandbox.installArgs('--no-accept-env', '--keepalive'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  Note: ${sandbox.sshdConfig} already accepts ATSR_ID: no change needed\n`);
    expect(r.stdout).toContain(`  done: add 'ClientAliveInterval 30', 'ClientAliveCountMax 2' to ${sandbox.sshdConfig}`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(config + KEEPALIVE_LINES.replaceAll('\n', '\r\n'));
    expect(effective(sandbox.sshdConfig)).toEqual(['clientaliveinterval 30', 'clientalivecountmax 2', 'acceptenv ATSR_ID']);

    writeFileSync(sandbox.sshdConfig, readFileSync(sandbox.sshdConfig, 'utf8') + 'PermitRootLogin no\r\n');
    const u = await sandbox.run(uninstall());
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(`  removed the atsr lines from ${sandbox.sshdConfig} (it was edited since the install, so the backup was not used)\n`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(`${config}PermitRootLogin no\r\n`);
  });

  it('unattended without --keepalive: no keepalive lines, and a note naming the flag', async () => {
    sandbox = new InstallSandbox(PLAIN);
    const r = await sandbox.run(sandbox.installArgs('--accept-env'));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "  Note: no keepalive lines added (--keepalive adds 'ClientAliveInterval 30', 'ClientAliveCountMax 2', so that sshd ends broken connections sooner)\n",
    );
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES);
  });

  it("the system's config including sshd_config.d/*.conf: one drop-in holds the block, the uninstall removes it", async () => {
    sandbox = new InstallSandbox('Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n', { hostKey: true });
    mkdirSync(sandbox.dropInDir);
    const r = await sandbox.runAsSystemSshd(sandbox.systemInstallArgs('--accept-env', '--keepalive', '--no-restart-sshd'));
    expect(r.stderr).not.toContain('install-atsr:');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`  done: write /etc/ssh/sshd_config.d/atsr.conf with ${ALL} (included by /etc/ssh/sshd_config, checked with sshd -t)\n`);
    expect(readFileSync(join(sandbox.dropInDir, 'atsr.conf'), 'utf8')).toBe(ADDED_LINES + KEEPALIVE_LINES);
    expect((await sandbox.runAsSystemSshd(uninstall(['--no-restart-sshd']))).status).toBe(0);
    expect(readdirSync(sandbox.dropInDir)).toEqual([]);
  });

  it('an install.log from before keepalives (no settings) is still undone: byte for byte, and line by line after an edit', async () => {
    for (const edited of [false, true]) {
      sandbox = new InstallSandbox(WITH_MATCH);
      expect((await sandbox.run(sandbox.installArgs('--accept-env', '--no-keepalive'))).status).toBe(0);
      const logFile = join(sandbox.prefix, 'install.log');
      const log = readFileSync(logFile, 'utf8');
      expect(log).toContain('\tsettings=AcceptEnv ATSR_ID\n');
      writeFileSync(logFile, log.replace('\tsettings=AcceptEnv ATSR_ID\n', '\n')); // as the installer wrote it before
      if (edited) writeFileSync(sandbox.sshdConfig, readFileSync(sandbox.sshdConfig, 'utf8') + 'PermitRootLogin no\n');
      const u = await sandbox.run(uninstall());
      expect(u.status).toBe(0);
      expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(edited ? `${WITH_MATCH}PermitRootLogin no\n` : WITH_MATCH);
      sandbox.remove();
    }
  });

  it('an install killed right after writing the block: the next run records it, the uninstall restores the file byte for byte', async () => {
    sandbox = new InstallSandbox(PLAIN);
    // sshd -t of the edited file kills the installer (its parent), as a SIGKILL between the edit and the log would.
    sandbox.standIn('sshd', 'for a; do f=$a; done\nif grep -q ClientAlive "$f"; then kill -KILL $PPID; sleep 5; fi\nexec /usr/sbin/sshd "$@"');
    const killed = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(killed.status).not.toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES + KEEPALIVE_LINES);
    expect(existsSync(join(sandbox.prefix, 'install.log'))).toBe(false);

    rmSync(join(sandbox.fakeBin, 'sshd'));
    const again = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(`  done: record the atsr lines an interrupted run added to ${sandbox.sshdConfig} in the install log`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN + ADDED_LINES + KEEPALIVE_LINES);

    expect((await sandbox.run(uninstall())).status).toBe(0);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(PLAIN);
    expect(readdirSync(join(sandbox.dir, 'ssh'))).toEqual(['sshd_config']);
  });

  it('sshd -t rejects the block: the file is restored byte for byte, nothing installed', async () => {
    sandbox = new InstallSandbox(PLAIN);
    sandbox.standIn('sshd', 'for a; do f=$a; done\nif grep -q ClientAlive "$f"; then echo "line 5: refused here" >&2; exit 255; fi\nexec /usr/sbin/sshd "$@"');
    const before = sandbox.systemState();
    const r = await sandbox.run(sandbox.installArgs('--accept-env', '--keepalive'));
    expect(r.status).toBe(6);
    expect(r.stderr).toContain(`install-atsr: sshd -t rejects ${sandbox.sshdConfig} with the lines ${ALL} added:\n  line 5: refused here\n`);
    expect(sandbox.systemState()).toEqual(before);
  });
});
