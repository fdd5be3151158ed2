// The in-band handshake run by the session host for a v2 client (protocol
// v2, docs/protocol.md part 2): the nonce, where the stream starts, what is
// counted, late replies, hangup and bye; with issue 13's repros replayed
// byte for byte through a raw v2 client (what the relay relays).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { V2Client } from '../support/raw-attach.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('hh');

const HELLO = /\x1b_atsr:1;hello;id=([\w.@+-]+);resumed=([01]);out=(\d+);in=(\d+);buf=(\d+);n=([0-9a-f]{16})\x1b\\/;
/** A line-echoing command, which shows what reached it. */
const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read -r l; do printf "got:%s\\n" "$l"; done'];

interface HelloSeen {
  resumed: boolean;
  out: number;
  in: number;
  n: string;
  /** Where the stream's bytes begin in the client's terminal. */
  end: number;
}

async function create(name: string, cmd: string[]): Promise<string> {
  expect((await box().atsr(['-n', name, ...cmd])).code).toBe(0);
  return (await box().session(name)).socket;
}

async function hello(c: V2Client): Promise<HelloSeen> {
  const m = await c.waitFor(HELLO);
  return { resumed: m[2] === '1', out: Number(m[3]), in: Number(m[4]), n: m[6]!, end: m.index + m[0].length };
}

const apc = (body: string): string => `\x1b_atsr:1;${body}\x1b\\`;

/** Attaches in-band and replies with `rx`; returns the hello. */
async function resumeAt(path: string, rx: number | ((h: HelloSeen) => number), after = ''): Promise<{ c: V2Client; h: HelloSeen }> {
  const c = await V2Client.attach(path, { force: true });
  const h = await hello(c);
  c.type(apc(`sync;rx=${typeof rx === 'number' ? rx : rx(h)};n=${h.n}`) + after);
  return { c, h };
}

describe('the host handshake (v2)', () => {
  it('sends an empty output frame first, then a hello with a fresh 16-hex-digit nonce per connection', async () => {
    const path = await create('hn1', ECHO);
    const a = await V2Client.attach(path);
    const h1 = await hello(a);
    expect(a.outputFrames).toBeGreaterThanOrEqual(2);
    expect(a.text().slice(0, h1.end)).toMatch(/^\x1b_atsr:1;hello;id=hn1;resumed=0;out=\d+;in=0;buf=262144;n=[0-9a-f]{16}\x1b\\$/);
    a.sock.destroy();
    const b = await V2Client.attach(path);
    const h2 = await hello(b);
    expect(h2.resumed).toBe(true);
    expect(h2.n).not.toBe(h1.n);
  });

  // issue 13 #1: the resend travels in the same write as the sync reply.
  it('counts and delivers every byte after the sync reply, in the same read too, whatever it looks like', async () => {
    const file = `${box().dir}/got.bin`;
    const typed = `x\x1b_atsr:1;bye\x1b\\y`;
    const path = await create('hn2', ['sh', '-c', `stty raw -echo; printf READY; head -c ${typed.length} > '${file}'; printf DONE; sleep 100`]);
    const { c, h } = await resumeAt(path, 0, typed);
    await c.waitFor('DONE', h.end);
    expect(readFileSync(file)).toEqual(Buffer.from(typed, 'latin1'));
    expect((await box().session('hn2')).in).toBe(typed.length);
  });

  it('through the real front and relay on a pty: the same repro, every byte counted and delivered once', async () => {
    const file = `${box().dir}/got-relay.bin`;
    const typed = `x\x1b_atsr:1;bye\x1b\\y`;
    const cmd = ['sh', '-c', `stty raw -echo; printf READY; head -c ${typed.length} > '${file}'; printf DONE; sleep 100`];
    const r = box().attach(['-i', 'ATSR_ID', '-t', '-f', '-s', ...cmd], { env: box().env({ ATSR_ID: 'hn10' }) });
    await r.waitFor(HELLO);
    const m = HELLO.exec(r.text())!;
    r.write(apc(`sync;rx=0;n=${m[6]}`) + typed);
    await r.waitFor('DONE');
    expect(r.text().slice(m.index + m[0].length)).toBe('READYDONE');
    expect(readFileSync(file)).toEqual(Buffer.from(typed, 'latin1'));
    expect((await box().session('hn10')).in).toBe(typed.length);
  });

  it('consumes only complete messages with this connection nonce: another nonce, or none, is input', async () => {
    const path = await create('hn3', ECHO);
    const { c, h } = await resumeAt(path, 0);
    await c.waitFor('ready\r\n', h.end);
    const other = `bye;n=0123456789abcdef`;
    c.type(`a${apc(other)}b${apc(`bye;n=${h.n}`)}c${apc('hangup')}\r`);
    await c.waitFor(/got:.*\r\n/, h.end);
    expect(c.text(h.end)).toBe(`ready\r\ngot:a${apc(other)}bc${apc('hangup')}\r\n`);
    const counted = 1 + apc(other).length + 2 + apc('hangup').length + 1;
    expect((await box().session('hn3')).in).toBe(counted);
  });

  it('says where the stream starts when the reply is beyond out or malformed, and every message carries the nonce', async () => {
    const path = await create('hn4', ECHO);
    const first = await resumeAt(path, 0);
    await first.c.waitFor('ready\r\n', first.h.end);
    first.c.sock.destroy();

    const beyond = await resumeAt(path, 999_999);
    const msgs = `${apc(`error;message=sync rx 999999 is beyond out 7;n=${beyond.h.n}`)}${apc(`start;from=7;n=${beyond.h.n}`)}`;
    await beyond.c.waitFor(msgs, beyond.h.end);
    beyond.c.sock.destroy();

    const c = await V2Client.attach(path);
    const h = await hello(c);
    c.type(apc(`sync;rx=abc;n=${h.n}`));
    await c.waitFor(`${apc(`error;message=malformed sync reply;n=${h.n}`)}${apc(`start;from=7;n=${h.n}`)}`, h.end);
    c.type('m\r');
    await c.waitFor('got:m\r\n', h.end);
  });

  // issue 13 #2 and #3: no reply in time, then a reply 10 s later still (past the old late window).
  it('sends start after the sync timeout, and a late reply with the nonce never reaches the command', async () => {
    const path = await create('hn5', ECHO);
    const c = await V2Client.attach(path);
    const h = await hello(c);
    await c.waitFor(`${apc(`start;from=0;n=${h.n}`)}ready\r\n`, h.end, 10_000);
    await new Promise((r) => setTimeout(r, 10_500)); // past the 10 s in which an older client's late reply is caught
    const at = c.terminal.length;
    c.type(`${apc(`sync;rx=0;n=${h.n}`)}late\r`);
    await c.waitFor('got:late\r\n', at);
    expect(c.text(at)).toBe(`${apc(`error;message=sync reply came too late;n=${h.n}`)}got:late\r\n`);
    expect((await box().session('hn5')).in).toBe('late\r'.length);
  }, 30_000);

  it('releases a held possible message start as input after 30 ms', async () => {
    const path = await create('hn6', ['sh', '-c', 'stty raw -echo; printf READY; head -c 2 | od -An -tx1; sleep 100']);
    const { c, h } = await resumeAt(path, 0);
    await c.waitFor('READY', h.end);
    c.type('\x1b_');
    await c.waitFor(' 1b 5f', h.end);
    expect((await box().session('hn6')).in).toBe(2);
  });

  it('drops held bytes when the connection ends (the client sends them again)', async () => {
    const path = await create('hn7', ECHO);
    const { c, h } = await resumeAt(path, 0);
    await c.waitFor('ready\r\n', h.end);
    c.type('\x1b_atsr:1;by');
    c.sock.end();
    const again = await resumeAt(path, 7, 'q\r');
    await again.c.waitFor('got:q\r\n', again.h.end);
    expect(again.c.text(again.h.end)).toBe('got:q\r\n');
    expect((await box().session('hn7')).in).toBe(2);
  });

  it('hangup with the nonce hangs the session up; the exit notice waits for the bye, then end carries the status', async () => {
    const path = await create('hn8', ['sh', '-c', 'echo ready; while :; do sleep 1; done']);
    const viewer = await V2Client.attach(path, { readOnly: true });
    const vh = await hello(viewer);
    viewer.type(apc(`sync;rx=0;n=${vh.n}`) + apc(`hangup;n=${vh.n}`)); // a viewer may not hang up
    await viewer.waitFor('ready\r\n', vh.end);
    const { c, h } = await resumeAt(path, 0);
    await c.waitFor('ready\r\n', h.end);
    expect((await box().session('hn8')).exited).toBe(false);
    c.type(apc(`hangup;n=${h.n}`));
    await c.waitFor(new RegExp(`\\x1b_atsr:1;exit;status=129;out=\\d+;n=${h.n}\\x1b\\\\`), h.end);
    expect(c.end).toBeUndefined();
    c.type(apc(`bye;n=${h.n}`));
    expect(await c.waitForEnd()).toEqual({ code: 129, message: '' });
  });

  it('a host killed with SIGTERM sends one exit notice and waits for the bye', async () => {
    const path = await create('hn9', ECHO);
    const { c, h } = await resumeAt(path, 0);
    await c.waitFor('ready\r\n', h.end);
    process.kill((await box().session('hn9')).pid, 'SIGTERM');
    await c.waitFor(/\x1b_atsr:1;exit;status=129;out=\d+;n=[0-9a-f]{16}\x1b\\/, h.end);
    const started = Date.now();
    await waitUntil('the end frame, 3 s without a bye', () => c.end !== undefined, 10_000);
    expect(Date.now() - started).toBeGreaterThan(2500);
    expect(c.end).toEqual({ code: 129, message: '' });
    expect(c.text(h.end).match(/exit;/g)).toHaveLength(1);
  });
});
