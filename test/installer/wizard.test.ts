// The wizard on a real pty, driven the way an admin would: every question
// answered; "no" at Proceed; Ctrl-C mid-way; the license declined. Only
// the first one may change anything.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADDED_LINES, InstallSandbox, installerBin } from './installer-harness.js';
import type { PtyRun } from '../support/pty-harness.js';

const CONFIG = 'UsePAM yes\nMatch User bob\n    X11Forwarding no\n';
const KEEPALIVE_LINES =
  '# Added by atsr: server-to-client keepalives, so that sshd ends broken connections sooner.\nClientAliveInterval 30\nClientAliveCountMax 2\n';

let sandbox: InstallSandbox;
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => sandbox?.remove());

/** Answers the prompts in order: waits for each question, then types the answer. */
async function answer(run: PtyRun, steps: [question: string, keys: string][]): Promise<void> {
  let from = 0;
  for (const [question, keys] of steps) {
    from = (await run.waitFor(question, 20_000, from)) + question.length;
    run.write(keys);
  }
}

describe('wizard', () => {
  it('installs with every answer given at the prompts', async () => {
    sandbox = new InstallSandbox(CONFIG, { hostKey: true });
    const run = sandbox.wizardAsSystemSshd([]); // the system's sshd_config, reloaded by its service
    await answer(run, [
      ['Do you accept the license?', 'y\r'],
      ['Install directory', `${sandbox.prefix}\r`],
      ["Add 'AcceptEnv ATSR_ID' to the sshd configuration?", '\r'], // default: yes
      ["Add 'ClientAliveInterval 30', 'ClientAliveCountMax 2' to the sshd configuration?", '\r'], // default: yes
      ['Reload sshd now', 'y\r'],
      ['Minutes a session may stay with no client', '30\r'],
      ['Proceed?', 'y\r'],
    ]);
    expect((await run.exit(30_000)).exitCode).toBe(0);
    const text = run.text();
    expect(text).toContain('Permission is hereby granted, free of charge');
    expect(text).toContain(`/etc/ssh/sshd_config, line 2, before the first Match block, so it applies to every connection:\r\n  UsePAM yes\r\n+ # Added by atsr`);
    expect(text).toContain('Why this is safe: it lets exactly one variable through from the client, ATSR_ID');
    expect(text).toContain('Keepalives: sshd ends a connection that broke without a word in about a minute (30 s x 2), not hours later.\r\n');
    expect(text).toContain(`done: reload sshd: ${sandbox.fakeBin}/systemctl reload ssh.service`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(`UsePAM yes\n${ADDED_LINES}${KEEPALIVE_LINES}Match User bob\n    X11Forwarding no\n`);
    expect(readFileSync(join(sandbox.prefix, 'bin/rezumable'), 'utf8')).toContain('\nORPHAN_TIMEOUT=30\n');
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\nreload ssh.service\n');
  });

  it('takes every answer with Enter: the Enter after a y never answers the next question', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const run = sandbox.wizard(['--sshd-config', sandbox.sshdConfig, '--accept-env', '--no-keepalive', '--no-restart-sshd']);
    const question = 'Do you accept the license?';
    const at = (await run.waitFor(question, 20_000)) + question.length;
    const shown = run.output().length;
    run.write('y'); // as a person types: the key, then Enter a moment later
    await run.waitFor('y', 20_000, shown);
    run.write('\r');
    await answer(run, [
      ['Install directory', `${sandbox.prefix}\r`],
      ['Minutes a session may stay', '\r'],
      ['Proceed?', 'y\r'],
    ]);
    expect((await run.exit(30_000)).exitCode).toBe(0);
    expect(run.text().slice(at)).toContain('Install directory');
    expect(readFileSync(join(sandbox.prefix, 'bin/rezumable'), 'utf8')).toContain(`\nATSR=${sandbox.prefix}/bin/atsr\n`);
  });

  it('changes nothing when the answer at Proceed is no', async () => {
    sandbox = new InstallSandbox(CONFIG, { hostKey: true });
    const before = sandbox.systemState();
    const run = sandbox.wizardAsSystemSshd(['--accept-license', '--prefix', sandbox.prefix]);
    await answer(run, [
      ["Add 'AcceptEnv ATSR_ID'", 'y\r'],
      ["Add 'ClientAliveInterval 30'", 'y\r'],
      ['Reload sshd now', 'y\r'],
      ['Minutes a session may stay', '\r'],
      ['Proceed?', 'n\r'],
    ]);
    expect((await run.exit()).exitCode).toBe(5);
    expect(run.text()).toContain('install-atsr: not confirmed; nothing was changed\r\n');
    expect(sandbox.systemState()).toEqual(before);
    expect(sandbox.systemctlCalls()).toBe('show --property=LoadState --value ssh.service\n');
  });

  it('an edit the admin makes while the wizard waits at Proceed is kept: the run stops, nothing written to the file', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const run = sandbox.wizard(['--accept-license', '--sshd-config', sandbox.sshdConfig, '--accept-env', '--no-keepalive', '--no-restart-sshd']);
    await answer(run, [
      ['Install directory', `${sandbox.prefix}\r`],
      ['Minutes a session may stay', '\r'],
    ]);
    await run.waitFor('Proceed?', 20_000);
    const edited = `${CONFIG}PermitRootLogin no\n`;
    writeFileSync(sandbox.sshdConfig, edited);
    run.write('y\r');
    expect((await run.exit(30_000)).exitCode).toBe(1);
    expect(run.text()).toContain(`install-atsr: ${sandbox.sshdConfig} changed after the plan was made; nothing was written to it. Run the installer again`);
    expect(readFileSync(sandbox.sshdConfig, 'utf8')).toBe(edited);
  });

  it('changes nothing on Ctrl-C', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const before = sandbox.systemState();
    const run = sandbox.wizard(['--sshd-config', sandbox.sshdConfig]);
    await answer(run, [
      ['Do you accept the license?', 'y\r'],
      ['Install directory', `${sandbox.prefix}\r`],
      ["Add 'AcceptEnv ATSR_ID'", '\x03'],
    ]);
    expect((await run.exit()).exitCode).toBe(130);
    expect(run.text()).toContain('install-atsr: interrupted; nothing was changed\r\n');
    expect(sandbox.systemState()).toEqual(before);
  });

  it('stops when the license is declined', async () => {
    sandbox = new InstallSandbox(CONFIG);
    const before = sandbox.systemState();
    const run = sandbox.wizard(['--sshd-config', sandbox.sshdConfig, '--prefix', sandbox.prefix]);
    await answer(run, [['Do you accept the license?', '\r']]); // default: no
    expect((await run.exit()).exitCode).toBe(4);
    expect(run.text()).toContain('install-atsr: the license was not accepted; nothing was changed\r\n');
    expect(sandbox.systemState()).toEqual(before);
  });
});
