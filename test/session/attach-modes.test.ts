// Force (-f), read-only (-r), the detach key (-e) and the default Enter ~ . of -a and -r.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { rawAttachFrame } from '../support/raw-attach.js';
import { useSandbox } from '../support/use-sandbox.js';

const ECHO_LOOP = ['sh', '-c', 'echo ready; while read l; do echo "echo:$l"; done'];

const box = useSandbox('modes');

describe('attach modes', () => {
  it('refuses a second read-write client without -f, and -f takes the session over', async () => {
    const first = box().attach(['-c', 'm1', ...ECHO_LOOP]);
    await first.waitFor('ready');

    const refused = box().attach(['-a', 'm1']);
    expect((await refused.exit()).exitCode).toBe(5);
    expect(refused.text()).toContain('atsr: session m1 is attached (use -f to take it over, -r to watch)');

    const taker = box().attach(['-a', '-f', 'm1']);
    await first.waitFor('[detached: session taken over]');
    expect((await first.exit()).exitCode).toBe(0);
    taker.write('mine\r');
    await taker.waitFor('echo:mine');
    expect((await box().session('m1')).attached).toBe(true);
  });

  it('a read-only viewer watches beside the writer and its keys are discarded', async () => {
    const writer = box().attach(['-c', 'm2', ...ECHO_LOOP]);
    await writer.waitFor('ready');
    const viewer = box().attach(['-a', '-r', 'm2']);
    await waitUntil('the viewer is attached', async () => (await box().session('m2')).viewers === 1);

    viewer.write('from-viewer\r');
    writer.write('from-writer\r');
    await viewer.waitFor('echo:from-writer');
    await writer.waitFor('echo:from-writer');
    expect(writer.text()).not.toContain('from-viewer');
    expect(viewer.text()).not.toContain('echo:from-viewer');
    expect((await box().session('m2')).in).toBe('from-writer\r'.length);
  });

  it('the detach key detaches and leaves the session running', async () => {
    const a = box().attach(['-e', '^\\', '-c', 'm3', 'sh', '-c', 'stty -isig; echo ready; while read l; do echo "echo:$l"; done']);
    await a.waitFor('ready');
    a.write('before\r');
    await a.waitFor('echo:before');
    a.write(Buffer.from([0x1c]));
    await a.waitFor('[detached]');
    expect((await a.exit()).exitCode).toBe(0);
    const s = await box().session('m3');
    expect(s.attached).toBe(false);
    expect(s.exited).toBe(false);

    // Without -e the same byte is just input (the command's pty has -isig, so it is no QUIT there).
    const b = box().attach(['-a', 'm3']);
    await waitUntil('attached again', async () => (await box().session('m3')).attached);
    b.write(Buffer.from('x\x1cy\r', 'latin1'));
    await b.waitFor('echo:x\x1cy');
  });

  it('-a and -r detach with Enter ~ . by default; a ~ not followed by . is input; -c keeps its stream transparent', async () => {
    const a = box().attach(['-c', 'm5', ...ECHO_LOOP]);
    await a.waitFor('ready');
    a.write('~.\r'); // at a line start, but a -c front has no default detach
    await a.waitFor('echo:~.');

    const viewer = box().attach(['-a', '-r', 'm5']);
    await waitUntil('the viewer is attached', async () => (await box().session('m5')).viewers === 1);
    viewer.write('\r~.');
    await viewer.waitFor('[detached]');
    expect((await viewer.exit()).exitCode).toBe(0);

    const b = box().attach(['-a', '-f', 'm5']);
    await a.exit();
    b.write('~y\r'); // the ~ is held until the y says it was data
    await b.waitFor('echo:~y');
    b.write('~.');
    await b.waitFor('[detached]');
    expect((await b.exit()).exitCode).toBe(0);
    const s = await box().session('m5');
    expect([s.attached, s.exited, s.in]).toEqual([false, false, '~.\r~y\r'.length]);
  });

  it('rejects a detach key that is not one character or ^X', async () => {
    const r = await box().atsr(['-e', 'ab', '-n', 'm4', 'sleep', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("atsr: -e takes one character or ^X (caret notation), not 'ab'\n");
  });
});

describe('agent forwarding', () => {
  it('the command sees one stable SSH_AUTH_SOCK that follows the attached client', async () => {
    const cmd = ['sh', '-c', 'echo "sock:$SSH_AUTH_SOCK"; while read l; do echo "to:$(readlink "$SSH_AUTH_SOCK")"; done'];
    const a = box().attach(['-c', 'ag1', ...cmd], { env: box().env({ SSH_AUTH_SOCK: '/tmp/agent-one' }) });
    await a.waitFor(`sock:${box().sockets}/.ag1.agent\r\n`);
    a.write('\r');
    await a.waitFor('to:/tmp/agent-one\r\n');
    const b = box().attach(['-a', '-f', 'ag1'], { env: box().env({ SSH_AUTH_SOCK: '/tmp/agent-two' }) });
    await a.exit();
    b.write('\r');
    await b.waitFor('to:/tmp/agent-two\r\n');
  });
});

describe('a stale client', () => {
  it('that stops reading does not keep the command paused after -f takes over', async () => {
    expect((await box().atsr(['-n', 'st1', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo "line-$i"; done'])).code).toBe(0);
    const { socket: path } = await box().session('st1');
    // A front whose network died: it attached, and reads nothing more.
    const stale = connect(path);
    const frame = rawAttachFrame(false);
    stale.write(frame);
    stale.pause();
    let plateau = -1;
    await waitUntil('the command is held back by the stale client', async () => {
      const { out } = await box().session('st1');
      const still = out === plateau;
      plateau = out;
      return still;
    });
    const taker = box().attach(['-a', '-f', 'st1']);
    await waitUntil('the command writes again', async () => (await box().session('st1')).out > plateau + 1_000_000);
    taker.kill('SIGKILL');
    stale.destroy();
  });
});
