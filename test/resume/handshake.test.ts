// The server side of the in-band handshake in the legacy TypeScript front
// (what serves a host started by an older atsr; ATSR_FRONT_PROTOCOL=1 forces
// it), driven byte by byte on a pty as a client would over ssh: hello first,
// typeahead uncounted, bad sync replies refused with an error and a plain
// attach. The host's own handshake (protocol v2) is in host-handshake.test.ts.
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../support/use-sandbox.js';
import type { PtyRun } from '../support/pty-harness.js';

const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read l; do echo "got:$l"; done'];
const HELLO = /\x1b_atsr:1;hello;id=(\w+);resumed=([01]);out=(\d+);in=(\d+);buf=(\d+)\x1b\\/;

const box = useSandbox('hs');

const front = (id: string): PtyRun => box().attach(['-i', 'ATSR_ID', '-t', '-f', '-s', ...ECHO], { env: box().env({ ATSR_ID: id, ATSR_FRONT_PROTOCOL: '1' }) });

async function hello(r: PtyRun): Promise<{ resumed: boolean; out: number; in: number; end: number }> {
  await r.waitFor(HELLO);
  const text = r.text();
  const m = HELLO.exec(text)!;
  return { resumed: m[2] === '1', out: Number(m[3]), in: Number(m[4]), end: m.index + m[0].length };
}

describe('in-band handshake (server side, legacy front)', () => {
  it('sends the hello before any session byte and replays from the client rx', async () => {
    const r = front('hs1');
    const h = await hello(r);
    expect(h.resumed).toBe(false);
    expect(r.text().slice(0, h.end)).toMatch(/^\x1b_atsr:1;hello;id=hs1;resumed=0;out=\d+;in=0;buf=262144\x1b\\$/);
    r.write('\x1b_atsr:1;sync;rx=0\x1b\\');
    await r.waitFor('ready\r\n');
    r.write('one\r');
    await r.waitFor('got:one\r\n');
    r.kill('SIGKILL');

    // Resume with rx at the end of "ready\r\n": only what came after is replayed.
    const again = front('hs1');
    const h2 = await hello(again);
    expect(h2).toMatchObject({ resumed: true, in: 4 });
    again.write('\x1b_atsr:1;sync;rx=7\x1b\\');
    await again.waitFor('got:one\r\n');
    expect(again.text().slice(h2.end)).toBe('got:one\r\n');
  });

  it('passes keys typed before the sync reply through uncounted', async () => {
    const r = front('hs2');
    await hello(r);
    r.write('early\r\x1b_atsr:1;sync;rx=0\x1b\\late\r');
    await r.waitFor('got:late\r\n');
    expect(r.text()).toContain('got:early\r\n');
    expect((await box().session('hs2')).in).toBe('late\r'.length);
  });

  it.each([
    ['an rx beyond out', '\x1b_atsr:1;sync;rx=999999\x1b\\', 'sync rx 999999 is beyond out'],
    ['a malformed reply', '\x1b_atsr:1;sync;rx=abc\x1b\\', 'malformed sync reply, plain attach'],
  ])('answers %s with an error and a plain attach', async (_what, reply, error) => {
    const r = front('hs3');
    const h = await hello(r);
    r.write(reply);
    await r.waitFor(`\x1b_atsr:1;error;message=${error}`);
    await r.waitFor('ready\r\n', 15_000, h.end);
    r.write('x\r');
    await r.waitFor('got:x\r\n');
  });

  it('attaches plainly when the client never answers in time', async () => {
    const r = front('hs4');
    const h = await hello(r);
    await r.waitFor('ready\r\n', 15_000, h.end); // after the 5 s sync timeout
    // A reply that comes too late is answered, and never reaches the command.
    r.write('\x1b_atsr:1;sync;rx=0\x1b\\y\r');
    await r.waitFor('\x1b_atsr:1;error;message=sync reply came too late, plain attach\x1b\\');
    await r.waitFor('got:y\r\n');
    expect(r.text()).not.toContain('got:\x1b');
  });
});
