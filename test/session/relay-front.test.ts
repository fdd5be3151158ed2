// The front as it runs for a whole connection: the native relay
// (src/relay/atsr-relay.c) that the TypeScript front becomes with a
// version 2 host, and the TypeScript front an older host still gets.
import { readFileSync, readlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, atsrCommand } from '../support/atsr-bin.js';
import { PtyRun } from '../support/pty-harness.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

const RELAY = join(ROOT, 'dist/atsr-relay');
const ECHO_LOOP = ['sh', '-c', 'echo ready; while read l; do echo "echo:$l"; done; exit 3'];

const box = useSandbox('relay');

/** Proportional set size of a process, in KiB (what it costs the machine). */
function pssKiB(pid: number): number {
  return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))![1]);
}

/** Builds test/fixtures/NAME.c into an LD_PRELOAD library in the sandbox. */
function buildShim(name: string): string {
  const shim = join(box().dir, `${name}.so`);
  const cc = spawnSync('cc', ['-O2', '-Wall', '-Werror', '-shared', '-fPIC', '-o', shim, join(ROOT, `test/fixtures/${name}.c`), '-ldl'], { encoding: 'utf8' });
  expect(cc.stderr).toBe('');
  return shim;
}

/**
 * `atsr -a -R none NAME` under sh, which then prints "status $?" and runs
 * `then`: the native entry's fast attach, the same relay loop
 * (src/relay/relay-loop.c) in dist/atsr.
 */
function fastAttach(name: string, env: NodeJS.ProcessEnv = {}, then = ''): PtyRun {
  const script = `"$@" -u "$SOCKETS" -a -R none "$NAME"; echo "status $?"${then}`;
  return new PtyRun(['sh', '-c', script, 'sh', ...atsrCommand()], { env: box().env({ SOCKETS: box().sockets, NAME: name, ...env }) });
}

/** The relay of a fastAttach: the sh's child, dist/atsr itself. */
function relayOf(run: PtyRun): number {
  const relay = Number(readFileSync(`/proc/${run.pid}/task/${run.pid}/children`, 'utf8').trim());
  expect(readlinkSync(`/proc/${relay}/exe`)).toBe(join(ROOT, 'dist/atsr'));
  return relay;
}

describe('the relay front', () => {
  it('is what an attached session runs besides its host: the front execs the relay, which relays both ways', async () => {
    const a = box().attach(['-c', 'r1', ...ECHO_LOOP]);
    await a.waitFor('ready');
    expect(readlinkSync(`/proc/${a.pid}/exe`)).toBe(RELAY);
    a.write('hi\r');
    await a.waitFor('echo:hi');
    // A C program of a few pages, not a second Node process (~10 MiB).
    expect(pssKiB(a.pid)).toBeLessThan(1024);
    a.write('\x04');
    expect((await a.exit()).exitCode).toBe(3);
  });

  it('leaves keys typed before a refusal in the terminal', async () => {
    const first = box().attach(['-c', 'r2', ...ECHO_LOOP]);
    await first.waitFor('ready');
    // The relay reads its terminal only once the host took the attach; a refused one leaves the keys to the shell.
    const script = '"$@" -u "$SOCKETS" -a r2; echo "status $?"; read l; echo "left:$l"';
    const second = new PtyRun(['sh', '-c', script, 'sh', ...atsrCommand()], { env: box().env({ SOCKETS: box().sockets }) });
    second.write('typed\r');
    await second.waitFor('left:typed');
    expect(second.text()).toContain('atsr: session r2 is attached');
    expect(second.text()).toContain('status 5');
    expect((await second.exit()).exitCode).toBe(0);
  });

  it('on a hang-up leaves the session running, detached', async () => {
    const a = box().attach(['-c', 'r3', ...ECHO_LOOP]);
    await a.waitFor('ready');
    a.kill('SIGHUP');
    await a.exit();
    await waitUntil('detached', async () => !(await box().session('r3')).attached);
    const s = await box().session('r3');
    expect(s.exited).toBe(false);
  });

  it.each(['SIGINT', 'SIGQUIT'] as const)('ended by %s (kill, not a key: raw mode makes keys bytes), restores the terminal and leaves the session running', async (signal) => {
    const name = `r-${signal}`;
    expect((await box().atsr(['-n', name, ...ECHO_LOOP])).code).toBe(0);
    const run = fastAttach(name, {}, '; stty -a');
    await run.waitFor('ready');
    process.kill(relayOf(run), signal);
    await run.waitFor('status ');
    expect((await run.exit()).exitCode).toBe(0);
    expect(run.text()).toContain(`status ${128 + (signal === 'SIGINT' ? 2 : 3)}`);
    expect(run.text()).toMatch(/ icanon /); // the terminal is cooked again (raw would show -icanon)
    expect(run.text()).toMatch(/ echo /);
    await waitUntil('detached', async () => !(await box().session(name)).attached);
  });

  it('ended by a signal handled just before it waits (the moment after its checks), with no byte to come from either side', async () => {
    const shim = buildShim('signal-after-resize');
    expect((await box().atsr(['-n', 'r-race', ...ECHO_LOOP])).code).toBe(0);
    const run = fastAttach('r-race', { LD_PRELOAD: shim });
    await run.waitFor('ready');
    // The resize frame it sends brings SIGTERM (the shim); the session stays quiet, so only the signal can end the wait.
    process.kill(relayOf(run), 'SIGWINCH');
    await run.waitFor('status ');
    expect(run.text()).toContain('status 143');
    expect((await run.exit()).exitCode).toBe(0);
    await waitUntil('detached', async () => !(await box().session('r-race')).attached);
  });

  it('ended by a signal that comes as a fast attach gives way to the full path, which the exec would lose', async () => {
    const shim = buildShim('signal-in-attach-write');
    expect((await box().atsr(['-n', 'r-quit', ...ECHO_LOOP])).code).toBe(0);
    const run = fastAttach('r-quit', { LD_PRELOAD: shim });
    await run.waitFor('status ');
    expect(run.text()).toContain('status 143\r\n');
    expect(run.text()).not.toContain('ready'); // nothing attached: no replay
    expect((await run.exit()).exitCode).toBe(0);
    expect((await box().session('r-quit')).attached).toBe(false);
  });

  it('gives way to the TypeScript front for an older host (ATSR_FRONT_PROTOCOL=1), which still works', async () => {
    const a = box().attach(['-c', 'r4', ...ECHO_LOOP], { env: box().env({ ATSR_FRONT_PROTOCOL: '1' }) });
    await a.waitFor('ready');
    expect(readlinkSync(`/proc/${a.pid}/exe`)).not.toBe(RELAY);
    a.write('old\r');
    await a.waitFor('echo:old');
    a.write('\x04');
    expect((await a.exit()).exitCode).toBe(3);
  });

  it('refuses to run without the attach the front gives it, naming why', () => {
    const r = spawnSync(RELAY, ['/nonexistent'], { encoding: 'utf8', env: {} });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('atsr-relay: ATSR_RELAY_ATTACH is missing or not hex (atsr starts the relay)\n');
    const odd = spawnSync(RELAY, ['/nonexistent'], { encoding: 'utf8', env: { ATSR_RELAY_ATTACH: 'zz' } });
    expect(odd.status).toBe(2);
    const usage = spawnSync(RELAY, [], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^usage: atsr-relay SOCKET_PATH/);
  });
});
