// The server side of the in-band resume handshake, with its output collected.
import { describe, expect, it } from 'vitest';
import { FrontHandshake, SYNC_TIMEOUT_MS } from '../../src/inband/front-handshake.js';
import type { Welcome } from '../../src/protocol/messages.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const apc = (body: string): Buffer => latin1(`\x1b_atsr:1;${body}\x1b\\`);
const none = Buffer.alloc(0);

const welcome: Welcome = { v: 1, name: 's1', resumed: true, out: 10, in: 2, bufferSize: 262144 };

/** A handshake after begin(), and everything it wrote since. */
function started(w: Welcome = welcome): { hs: FrontHandshake; written: () => Buffer } {
  const chunks: Buffer[] = [];
  const hs = new FrontHandshake((b) => chunks.push(b));
  hs.begin(w);
  chunks.length = 0;
  return { hs, written: () => Buffer.concat(chunks) };
}

describe('FrontHandshake', () => {
  it('begin() writes the hello for the welcome, and nothing else', () => {
    const chunks: Buffer[] = [];
    const hs = new FrontHandshake((b) => chunks.push(b));
    expect(chunks).toEqual([]);
    hs.begin(welcome);
    expect(chunks).toEqual([apc('hello;id=s1;resumed=1;out=10;in=2;buf=262144')]);
    expect(hs.timeoutMs).toBe(SYNC_TIMEOUT_MS);
  });

  it('begin() says resumed=0 for a new session', () => {
    const chunks: Buffer[] = [];
    new FrontHandshake((b) => chunks.push(b)).begin({ ...welcome, resumed: false, out: 0, in: 0 });
    expect(chunks).toEqual([apc('hello;id=s1;resumed=0;out=0;in=0;buf=262144')]);
  });

  it('passes typeahead on uncounted until the sync, then returns rx and the rest', () => {
    const { hs, written } = started();
    expect(hs.feed(latin1('ls -l'))).toEqual({ uncounted: latin1('ls -l') });
    expect(hs.feed(Buffer.concat([latin1('\r'), apc('sync;rx=7'), latin1('pwd\r')]))).toEqual({
      uncounted: latin1('\r'),
      done: { rx: 7, rest: latin1('pwd\r') },
    });
    expect(written()).toEqual(none);
  });

  it('accepts rx equal to out', () => {
    const { hs, written } = started();
    expect(hs.feed(apc('sync;rx=10'))).toEqual({ uncounted: none, done: { rx: 10, rest: none } });
    expect(written()).toEqual(none);
  });

  it('finds a sync split at every byte boundary across two feeds', () => {
    const input = Buffer.concat([latin1('ab'), apc('sync;rx=3'), latin1('cd')]);
    for (let cut = 0; cut <= input.length; cut++) {
      const { hs, written } = started();
      const first = hs.feed(input.subarray(0, cut));
      const uncounted = [first.uncounted];
      let done = first.done;
      if (done === undefined) {
        const second = hs.feed(input.subarray(cut));
        uncounted.push(second.uncounted);
        done = second.done;
      } else {
        // The sync ended in the first part: what was after it comes as live input.
        expect(done.rest, `cut at ${cut}`).toEqual(latin1('cd').subarray(0, cut - (input.length - 2)));
      }
      expect(Buffer.concat(uncounted), `cut at ${cut}`).toEqual(latin1('ab'));
      expect(done?.rx, `cut at ${cut}`).toBe(3);
      expect(written()).toEqual(none);
    }
  });

  it('hands over a lone ESC after the sync with the rest', () => {
    const { hs } = started();
    expect(hs.feed(Buffer.concat([apc('sync;rx=1'), latin1('q\x1b')]))).toEqual({
      uncounted: none,
      done: { rx: 1, rest: latin1('q\x1b') },
    });
  });

  it('passes bytes after the sync through untouched, even ones that look like messages', () => {
    const { hs } = started();
    const after = Buffer.concat([apc('sync;rx=2'), latin1('x'), apc('bogus')]);
    expect(hs.feed(Buffer.concat([apc('sync;rx=1'), after]))).toEqual({
      uncounted: none,
      done: { rx: 1, rest: Buffer.concat([latin1('x'), apc('bogus')]) },
    });
  });

  it.each(['loss;lost=1;from=2', 'bye', 'hello;id=x;resumed=0;out=0;in=0;buf=0'])('drops %j while waiting', (body) => {
    const { hs, written } = started();
    expect(hs.feed(Buffer.concat([latin1('a'), apc(body), latin1('b')]))).toEqual({ uncounted: latin1('ab') });
    expect(written()).toEqual(none);
  });

  it('refuses an rx beyond out: writes an error and gives rx null', () => {
    const { hs, written } = started();
    expect(hs.feed(Buffer.concat([apc('sync;rx=11'), latin1('k')]))).toEqual({
      uncounted: none,
      done: { rx: null, rest: latin1('k') },
    });
    expect(written()).toEqual(apc('error;message=sync rx 11 is beyond out 10, plain attach'));
  });

  it.each(['sync;rx=-1', 'sync;rx=', 'sync', 'nonsense;x=1'])('refuses the malformed reply %j: writes an error and gives rx null', (body) => {
    const { hs, written } = started();
    expect(hs.feed(Buffer.concat([latin1('t'), apc(body), latin1('u')]))).toEqual({
      uncounted: latin1('t'),
      done: { rx: null, rest: latin1('u') },
    });
    expect(written()).toEqual(apc('error;message=malformed sync reply, plain attach'));
  });

  it('sees a bye from the client, also split over two chunks', () => {
    const { hs, written } = started();
    expect(hs.seesBye(latin1('plain'))).toBe(false);
    expect(hs.seesBye(Buffer.concat([latin1('x'), apc('sync;rx=1')]))).toBe(false);
    const bye = apc('bye');
    expect(hs.seesBye(bye.subarray(0, 4))).toBe(false);
    expect(hs.seesBye(Buffer.concat([bye.subarray(4), latin1('y')]))).toBe(true);
    expect(hs.seesBye(bye)).toBe(true);
    expect(written()).toEqual(none);
  });

  it('writes loss and exit notices', () => {
    const { hs, written } = started();
    hs.onLoss({ lost: 500, from: 1500 });
    hs.onExit(3, 2000);
    expect(written()).toEqual(Buffer.concat([apc('loss;lost=500;from=1500'), apc('exit;status=3;out=2000')]));
  });
});
