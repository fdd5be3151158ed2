// The four actions, exit status pass-through, and output produced while
// no client was attached.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('create');

describe('actions', () => {
  it('-n creates with no client; -a then shows what it printed, and the exit status', async () => {
    const r = await box().atsr(['-n', 's1', 'sh', '-c', 'echo hello-before; read line; echo "got:$line"; exit 42']);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const listed = await box().session('s1');
    expect(listed.attached).toBe(false);
    expect(listed.command).toEqual(['sh', '-c', 'echo hello-before; read line; echo "got:$line"; exit 42']);

    const a = box().attach(['-a', 's1']);
    await a.waitFor('hello-before\r\n');
    a.write('abc\r');
    await a.waitFor('got:abc');
    expect((await a.exit()).exitCode).toBe(42);
    await waitUntil('the session is gone', async () => (await box().list()).length === 0);
  });

  it('-t creates, a second -t attaches to the same session', async () => {
    const first = box().attach(['-t', 's2', 'sh', '-c', 'echo started; while read l; do echo "echo:$l"; done']);
    await first.waitFor('started');
    first.write('one\r');
    await first.waitFor('echo:one');
    first.kill('SIGKILL'); // the connection drops; the session stays
    await waitUntil('the session is detached', async () => !(await box().session('s2')).attached);

    const second = box().attach(['-t', 's2', 'sh', '-c', 'echo SHOULD-NOT-RUN']);
    second.write('two\r');
    await second.waitFor('echo:two');
    expect(second.text()).not.toContain('SHOULD-NOT-RUN');
    expect((await box().list()).map((s) => s.name)).toEqual(['s2']);
  });

  it('-c refuses an existing session, -a a missing one, with their exit codes', async () => {
    expect((await box().atsr(['-n', 's3', 'sleep', '30'])).code).toBe(0);
    const c = box().attach(['-c', 's3', 'sh', '-c', 'echo no']);
    expect((await c.exit()).exitCode).toBe(4);
    expect(c.text()).toContain('atsr: session s3 exists already');
    const n = await box().atsr(['-n', 's3', 'sleep', '30']);
    expect(n.code).toBe(4);

    const a = box().attach(['-a', 'nosuch']);
    expect((await a.exit()).exitCode).toBe(3);
    expect(a.text()).toContain('atsr: no session named nosuch');
  });

  it('-c creates and attaches, and the front exits with the command status', async () => {
    const c = box().attach(['-c', 's4', 'sh', '-c', 'echo done; exit 7']);
    await c.waitFor('done');
    expect((await c.exit()).exitCode).toBe(7);
  });

  it('a command killed by a signal gives 128 + the signal number', async () => {
    const c = box().attach(['-c', 's5', 'sh', '-c', 'echo up; kill -TERM $$']);
    await c.waitFor('up');
    expect((await c.exit()).exitCode).toBe(128 + 15);
  });

  it('output produced while detached is there on re-attach', async () => {
    const t = box().attach(['-t', 's6', 'sh', '-c', 'read go; i=0; while [ $i -lt 50 ]; do echo "line-$i"; i=$((i+1)); done; read end']);
    await waitUntil('the session is attached', async () => (await box().session('s6')).attached);
    t.kill('SIGKILL');
    await waitUntil('the session is detached', async () => !(await box().session('s6')).attached);
    // Typed by a second, read-write client only after the first is gone.
    const again = box().attach(['-a', 's6']);
    again.write('\r');
    await again.waitFor('line-49\r\n');
    expect(again.text()).toContain('line-0\r\nline-1\r\n');
    again.write('\r');
    expect((await again.exit()).exitCode).toBe(0);
  });

  it('a command that exits while detached keeps its tail and status for the next client', async () => {
    expect((await box().atsr(['-n', 's7', 'sh', '-c', 'echo tail-line; exit 3'])).code).toBe(0);
    await waitUntil('the command exited', async () => (await box().session('s7')).exited);
    const s = await box().session('s7');
    expect(s.exitStatus).toBe(3);
    const a = box().attach(['-a', 's7']);
    await a.waitFor('tail-line\r\n');
    expect((await a.exit()).exitCode).toBe(3);
    await waitUntil('the session is gone', async () => (await box().list()).length === 0);
  });
});
