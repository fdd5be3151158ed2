// The host sends a burst in pooled frame buffers that it uses again once a
// socket wrote them out: a client that stops reading must still get the
// bytes it was sent, not a later frame's written into the same buffer. A
// writer alone is written to straight from the pty's read buffer
// (OutputFlow.writeThrough): when its socket fills, what it did not take
// must be queued in order, and the command paused until it drains.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { V2Client } from '../support/raw-attach.js';
import { seededBytes } from '../support/seeded-bytes.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('frames');

/** The bytes between the markers, or undefined before the end marker arrived. */
function between(terminal: Buffer): Buffer | undefined {
  const start = terminal.indexOf('START>');
  const end = terminal.indexOf('<END', start);
  return start < 0 || end < 0 ? undefined : terminal.subarray(start + 'START>'.length, end);
}

describe('output frames', () => {
  it('a writer that keeps up and a viewer that stops reading during a burst both get every byte, in order', async () => {
    // 3 MiB: well past the frame pool and the socket buffers, under a viewer's 4 MiB backlog limit.
    const data = seededBytes(31, 3 << 20);
    expect(data.indexOf('<END')).toBe(-1);
    const file = `${box().dir}/burst.bin`;
    writeFileSync(file, data);
    expect((await box().atsr(['-n', 'of1', 'sh', '-c', `stty raw -echo; read x; printf 'START>'; cat '${file}'; printf '<END'; exec sleep 600`])).code).toBe(0);
    const socket = (await box().session('of1')).socket;
    const writer = await V2Client.attach(socket, { inband: false });
    const viewer = await V2Client.attach(socket, { inband: false, readOnly: true });
    await waitUntil('both attached', async () => writer.outputFrames > 0 && viewer.outputFrames > 0 && (await box().session('of1')).viewers === 1);

    viewer.sock.pause();
    writer.type('\n'); // the command's terminal is raw already: no \r to \n
    await waitUntil('the writer got the burst', () => between(writer.terminal) !== undefined, 40_000);
    viewer.sock.resume();
    await waitUntil('the viewer got the burst', () => between(viewer.terminal) !== undefined, 40_000);

    expect(between(writer.terminal)!.equals(data)).toBe(true);
    expect(between(viewer.terminal)!.equals(data)).toBe(true);
    expect(viewer.closed).toBe(false);
    writer.sock.destroy();
    viewer.sock.destroy();
  }, 120_000);

  it('a writer alone that stops reading during a burst gets every byte, in order, once it reads again; the command waits meanwhile, and its exit loses nothing', async () => {
    const data = seededBytes(37, 3 << 20);
    expect(data.indexOf('<END')).toBe(-1);
    const file = `${box().dir}/burst.bin`;
    writeFileSync(file, data);
    // The command is the cat itself (exec), so that its wait on the full pty can be seen.
    const cmd = `stty raw -echo; read x; printf 'START>'; exec cat '${file}'`;
    expect((await box().atsr(['-n', 'of2', 'sh', '-c', cmd])).code).toBe(0);
    const session = await box().session('of2');
    const writer = await V2Client.attach(session.socket, { inband: false });
    await waitUntil('attached', () => writer.outputFrames > 0);

    writer.sock.pause();
    writer.type('\n');
    // The command blocks writing to its pty only once the host stopped reading it: the writer's socket is full.
    const [command] = readFileSync(`/proc/${session.pid}/task/${session.pid}/children`, 'utf8').trim().split(' ');
    // cat reads a file, so a wait of cat's is on the pty; the shell's `read` before it waits the same way, so the name is checked too.
    const waitsOnPty = (): boolean => readFileSync(`/proc/${command}/comm`, 'utf8') === 'cat\n' && readFileSync(`/proc/${command}/wchan`, 'utf8') === 'wait_woken';
    await waitUntil('the command waits on its full pty', waitsOnPty, 40_000);
    writer.sock.resume();
    const got = (): Buffer | undefined => {
      const start = writer.terminal.indexOf('START>');
      return start < 0 || writer.terminal.length - start - 'START>'.length < data.length ? undefined : writer.terminal.subarray(start + 'START>'.length);
    };
    await waitUntil('the writer got the burst', () => got() !== undefined, 40_000);
    expect(got()!.equals(data)).toBe(true);
    writer.sock.destroy();
  }, 120_000);
});
