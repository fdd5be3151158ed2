// Part 1, version 2, on the host side: what a relay gets (output frames and
// one end frame) for every way an attach ends, with a raw v2 client.
import { type Socket, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { VT_TERMINAL_RESET } from '../../src/front/terminal-reset.js';
import { FrameDecoder, FrameType, encodeFrame } from '../../src/protocol/frames.js';
import { decodeStatus } from '../../src/protocol/messages.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { V2Client } from '../support/raw-attach.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('v2');

const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read -r l; do printf "got:%s\\n" "$l"; done'];

async function create(name: string, cmd: string[] = ECHO): Promise<string> {
  expect((await box().atsr(['-n', name, ...cmd])).code).toBe(0);
  return (await box().session(name)).socket;
}

function statusOf(path: string): Promise<ReturnType<typeof decodeStatus>> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(path, () => s.write(encodeFrame(FrameType.statusQuery)));
    const decoder = new FrameDecoder();
    s.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.type === FrameType.status) resolve(decodeStatus(f));
    });
    s.once('error', reject);
  });
}

describe('a v2 attach', () => {
  it('is offered by the status: v is 2', async () => {
    const path = await create('r1');
    expect((await statusOf(path)).v).toBe(2);
  });

  it('without in-band: an empty first frame, the stream, counted keys; the detach key resets the terminal and ends with 0', async () => {
    const path = await create('r2');
    const c = await V2Client.attach(path, { inband: false, detach: { kind: 'key', key: 0x1c } });
    await c.waitFor('ready\r\n');
    expect(c.outputFrames).toBeGreaterThanOrEqual(2);
    expect(c.text()).toBe('ready\r\n'); // the first frame was empty, and no message came
    c.type('ab\r\x1czz');
    expect(await c.waitForEnd()).toEqual({ code: 0, message: '[detached]' });
    expect(c.text().endsWith(`got:ab\r\n${VT_TERMINAL_RESET}`) || c.text().endsWith(VT_TERMINAL_RESET)).toBe(true);
    const s = await box().session('r2');
    expect(s.in).toBe(3);
    expect(s.attached).toBe(false);
    // What the command answered after the detach waits in the ring for the next client.
    const again = await V2Client.attach(path, { inband: false });
    await again.waitFor('got:ab\r\n');
  });

  it('Enter ~ . detaches when the escape is the rule; a terminal type outside the VT family gets no reset', async () => {
    const path = await create('r3');
    const c = await V2Client.attach(path, { inband: false, detach: { kind: 'escape' }, term: 'wy60' });
    await c.waitFor('ready\r\n');
    c.type('\r~.');
    expect(await c.waitForEnd()).toEqual({ code: 0, message: '[detached]' });
    expect(c.text()).toBe('ready\r\n');
  });

  it('is refused with end 5 and no output frame while another client writes; -f takes over with a reset and end 0', async () => {
    const path = await create('r4');
    const first = await V2Client.attach(path, { inband: false });
    await first.waitFor('ready\r\n');
    const second = await V2Client.attach(path, { inband: false });
    expect(await second.waitForEnd()).toEqual({
      code: 5,
      message: 'atsr: session r4 is attached (use -f to take it over, -r to watch)',
    });
    expect(second.outputFrames).toBe(0);
    const taker = await V2Client.attach(path, { inband: false, force: true });
    expect(await first.waitForEnd()).toEqual({ code: 0, message: '[detached: session taken over]' });
    expect(first.text()).toBe(`ready\r\n${VT_TERMINAL_RESET}`);
    taker.type('q\r');
    await taker.waitFor('got:q\r\n');
    expect(taker.text()).toBe('got:q\r\n'); // a plain attach streams from what no client was sent
  });

  it('ends with the command status when the command exits (no in-band: at once)', async () => {
    const path = await create('r5', ['sh', '-c', 'read x; exit 7']);
    const c = await V2Client.attach(path, { inband: false });
    await waitUntil('the first frame', () => c.outputFrames > 0);
    c.type('\r');
    expect(await c.waitForEnd()).toEqual({ code: 7, message: '' });
  });

  it('rejects what only a v1 front sends (sync, input-uncounted)', async () => {
    const path = await create('r6');
    const c = await V2Client.attach(path, { inband: false });
    await c.waitFor('ready\r\n');
    c.sock.write(encodeFrame(FrameType.inputUncounted, Buffer.from('x')));
    await waitUntil('the host closed the connection', () => c.closed);
    expect(c.end).toBeUndefined();
  });
});
