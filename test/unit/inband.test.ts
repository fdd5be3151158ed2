// In-band messages (APC strings inside the terminal stream) and the scanner
// that separates them from the stream's own bytes.
import { describe, expect, it } from 'vitest';
import {
  INBAND_MAX_BYTES,
  INBAND_PREFIX,
  type InbandMessage,
  encodeInband,
  parseInband,
} from '../../src/inband/inband-message.js';
import { InbandScanner, type ScanPart } from '../../src/inband/inband-scanner.js';

/** A scanned message part: the message and the exact bytes it came in. */
const msg = (m: InbandMessage): ScanPart => ({ message: m, raw: encodeInband(m) });

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const apc = (body: string): Buffer => latin1(`\x1b_atsr:1;${body}\x1b\\`);

const examples: InbandMessage[] = [
  { kind: 'hello', id: 's1', resumed: true, out: 10, in: 2, buf: 262144 },
  { kind: 'hello', id: 'web.prod-1@x+y', resumed: false, out: 0, in: 0, buf: 0 },
  { kind: 'sync', rx: 0 },
  { kind: 'sync', rx: 999_999_999_999_999 },
  { kind: 'loss', lost: 5000, from: 70000 },
  { kind: 'exit', status: 130, out: 123456 },
  { kind: 'error', message: 'sync rx 11 is beyond out 10, plain attach' },
  { kind: 'error', message: '' },
  { kind: 'bye' },
  { kind: 'start', from: 42 },
  { kind: 'hangup' },
  { kind: 'hangup', n: '0123456789abcdef' },
  { kind: 'sync', rx: 7, n: 'ffffffffffffffff' },
  { kind: 'hello', id: 's1', resumed: false, out: 0, in: 0, buf: 1, n: '00000000deadbeef' },
];

/** What the scanner's parts add up to as bytes (messages re-encoded). */
const bytesOf = (parts: ScanPart[]): Buffer =>
  Buffer.concat(parts.map((p) => ('plain' in p ? p.plain : 'malformed' in p ? p.malformed : encodeInband(p.message))));

/** Adjacent plain parts merged: how a split changes the parts is not the point. */
function merged(parts: ScanPart[]): ScanPart[] {
  const out: ScanPart[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if ('plain' in p && last !== undefined && 'plain' in last) out[out.length - 1] = { plain: Buffer.concat([last.plain, p.plain]) };
    else out.push(p);
  }
  return out;
}

describe('encodeInband', () => {
  it('writes a hello exactly', () => {
    expect(encodeInband(examples[0]!)).toEqual(latin1('\x1b_atsr:1;hello;id=s1;resumed=1;out=10;in=2;buf=262144\x1b\\'));
  });

  it.each([
    [{ kind: 'sync', rx: 42 }, 'sync;rx=42'],
    [{ kind: 'loss', lost: 1, from: 2 }, 'loss;lost=1;from=2'],
    [{ kind: 'exit', status: 0, out: 7 }, 'exit;status=0;out=7'],
    [{ kind: 'bye' }, 'bye'],
    [{ kind: 'bye', n: '0123456789abcdef' }, 'bye;n=0123456789abcdef'],
    [{ kind: 'start', from: 9, n: '0123456789abcdef' }, 'start;from=9;n=0123456789abcdef'],
    [{ kind: 'error', message: 'late', n: '0123456789abcdef' }, 'error;message=late;n=0123456789abcdef'],
    [{ kind: 'hello', id: 'a', resumed: false, out: 1, in: 2, buf: 3 }, 'hello;id=a;resumed=0;out=1;in=2;buf=3'],
  ] as [InbandMessage, string][])('writes %j as %s', (m, body) => {
    expect(encodeInband(m)).toEqual(apc(body));
  });

  it('blanks out separators and control characters in text', () => {
    const m: InbandMessage = { kind: 'error', message: 'a;b=c\\d\x1be\nf\x7fg' };
    expect(encodeInband(m)).toEqual(apc('error;message=a b c d e f g'));
    expect(parseInband('error;message=a b c d e f g')).toEqual({ kind: 'error', message: 'a b c d e f g' });
  });
});

describe('parseInband', () => {
  it.each(examples)('round-trips %j', (m) => {
    const encoded = encodeInband(m);
    const body = encoded.subarray(INBAND_PREFIX.length, encoded.length - 2).toString('latin1');
    expect(parseInband(body)).toEqual(m);
  });

  it('accepts fields in any order and ignores unknown ones', () => {
    expect(parseInband('loss;from=2;later=x;lost=1')).toEqual({ kind: 'loss', lost: 1, from: 2 });
  });

  it('accepts the largest 15-digit number', () => {
    expect(parseInband('sync;rx=999999999999999')).toEqual({ kind: 'sync', rx: 999999999999999 });
  });

  it.each([
    ['an empty body', ''],
    ['an unknown kind', 'ping;rx=1'],
    ['a kind with a suffix', 'byes'],
    ['a kind in the wrong case', 'SYNC;rx=1'],
    ['a bye in the wrong case', 'Bye'],
    ['a missing number field', 'loss;lost=1'],
    ['no fields at all', 'sync'],
    ['an empty number', 'sync;rx='],
    ['a non-digit', 'sync;rx=1a'],
    ['a negative number', 'sync;rx=-1'],
    ['a fraction', 'sync;rx=1.5'],
    ['a space in a number', 'sync;rx= 1'],
    ['a 16-digit number', 'sync;rx=1234567890123456'],
    ['a field without =', 'sync;rx=1;oops'],
    ['a field with an empty key', 'sync;rx=1;=x'],
    ['a hello without id', 'hello;resumed=1;out=1;in=1;buf=1'],
    ['a hello with an empty id', 'hello;id=;resumed=1;out=1;in=1;buf=1'],
    ['a hello with resumed=2', 'hello;id=s;resumed=2;out=1;in=1;buf=1'],
    ['a hello without resumed', 'hello;id=s;out=1;in=1;buf=1'],
    ['an exit without status', 'exit;out=3'],
    ['a start without from', 'start'],
    ['a nonce of 15 digits', 'bye;n=0123456789abcde'],
    ['a nonce of 17 digits', 'bye;n=0123456789abcdef0'],
    ['a nonce in upper case', 'bye;n=0123456789ABCDEF'],
    ['an empty nonce', 'hangup;n='],
  ])('rejects %s', (_label, body) => {
    expect(parseInband(body)).toBeUndefined();
  });
});

describe('InbandScanner', () => {
  it('passes all 256 byte values through unchanged', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const s = new InbandScanner();
    expect(s.push(all)).toEqual([{ plain: all }]);
    expect(s.flush()).toEqual(Buffer.alloc(0));
  });

  it('passes all 256 byte values through unchanged one at a time', () => {
    const s = new InbandScanner();
    const parts: ScanPart[] = [];
    for (let b = 0; b < 256; b++) parts.push(...s.push(Buffer.from([b])));
    expect(parts.every((p) => 'plain' in p)).toBe(true);
    expect(Buffer.concat([bytesOf(parts), s.flush()])).toEqual(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  });

  it('finds a message between plain bytes in one chunk', () => {
    const s = new InbandScanner();
    expect(s.push(Buffer.concat([latin1('ab'), apc('sync;rx=7'), latin1('cd')]))).toEqual([
      { plain: latin1('ab') },
      msg({ kind: 'sync', rx: 7 }),
      { plain: latin1('cd') },
    ]);
  });

  it('finds a message followed by plain bytes in the same chunk', () => {
    const s = new InbandScanner();
    expect(s.push(Buffer.concat([apc('exit;status=0;out=9'), latin1('$ ')]))).toEqual([
      msg({ kind: 'exit', status: 0, out: 9 }),
      { plain: latin1('$ ') },
    ]);
  });

  it('finds two messages back to back', () => {
    const s = new InbandScanner();
    expect(s.push(Buffer.concat([apc('loss;lost=1;from=2'), apc('sync;rx=3')]))).toEqual([
      msg({ kind: 'loss', lost: 1, from: 2 }),
      msg({ kind: 'sync', rx: 3 }),
    ]);
  });

  it('finds a message split at every byte boundary exactly once', () => {
    const input = Buffer.concat([latin1('x\x1by'), apc('hello;id=s1;resumed=1;out=10;in=2;buf=262144'), latin1('z\x1b')]);
    for (let cut = 0; cut <= input.length; cut++) {
      const s = new InbandScanner();
      const parts = [...s.push(input.subarray(0, cut)), ...s.push(input.subarray(cut))];
      const tail = s.flush();
      expect(merged(parts), `cut at ${cut}`).toEqual([
        { plain: latin1('x\x1by') },
        msg({ kind: 'hello', id: 's1', resumed: true, out: 10, in: 2, buf: 262144 }),
        { plain: latin1('z') },
      ]);
      expect(tail).toEqual(latin1('\x1b'));
    }
  });

  it('finds a message fed one byte at a time', () => {
    const s = new InbandScanner();
    const parts: ScanPart[] = [];
    for (const b of apc('sync;rx=12')) parts.push(...s.push(Buffer.from([b])));
    expect(parts).toEqual([msg({ kind: 'sync', rx: 12 })]);
  });

  it('holds a lone ESC at the end and releases it on flush', () => {
    const s = new InbandScanner();
    expect(s.push(latin1('ls\x1b'))).toEqual([{ plain: latin1('ls') }]);
    expect(s.flush()).toEqual(latin1('\x1b'));
    expect(s.flush()).toEqual(Buffer.alloc(0));
  });

  it.each(['\x1b', '\x1b_', '\x1b_at', '\x1b_atsr:1'])('holds the partial prefix %j and lets it go when the next byte differs', (partial) => {
    const s = new InbandScanner();
    expect(s.push(latin1(`a${partial}`))).toEqual([{ plain: latin1('a') }]);
    expect(merged(s.push(latin1('q')))).toEqual([{ plain: latin1(`${partial}q`) }]);
    expect(s.flush()).toEqual(Buffer.alloc(0));
  });

  it.each([
    ['another APC', '\x1b_other;x=1\x1b\\'],
    ['another version', '\x1b_atsr:2;sync;rx=1\x1b\\'],
    ['a bare ESC _', 'a\x1b_b'],
  ])('passes %s through untouched', (_label, text) => {
    const s = new InbandScanner();
    expect(s.push(latin1(text))).toEqual([{ plain: latin1(text) }]);
    expect(s.flush()).toEqual(Buffer.alloc(0));
  });

  it('reports a terminated message it cannot parse as malformed, whole', () => {
    const s = new InbandScanner();
    expect(s.push(Buffer.concat([latin1('a'), apc('sync;rx=x'), latin1('b')]))).toEqual([
      { plain: latin1('a') },
      { malformed: apc('sync;rx=x') },
      { plain: latin1('b') },
    ]);
  });

  it('holds an unterminated message shorter than the limit, and flush releases it', () => {
    const s = new InbandScanner();
    const partial = Buffer.concat([INBAND_PREFIX, latin1('sync;rx=1')]);
    expect(s.push(partial)).toEqual([]);
    expect(s.flush()).toEqual(partial);
  });

  it('emits an over-long unterminated prefix as malformed and the rest as plain', () => {
    const filler = latin1('a'.repeat(300));
    const input = Buffer.concat([latin1('>'), INBAND_PREFIX, filler]);
    const s = new InbandScanner();
    const parts = s.push(input);
    expect(parts).toEqual([{ plain: latin1('>') }, { malformed: INBAND_PREFIX }, { plain: filler }]);
    expect(Buffer.concat([bytesOf(parts), s.flush()])).toEqual(input);
  });

  it('gives up on a held prefix once more than the limit has arrived', () => {
    const s = new InbandScanner();
    const first = Buffer.concat([INBAND_PREFIX, latin1('b'.repeat(200))]);
    const second = latin1('c'.repeat(100));
    expect(s.push(first)).toEqual([]);
    const parts = s.push(second);
    expect(parts).toEqual([{ malformed: INBAND_PREFIX }, { plain: Buffer.concat([first.subarray(INBAND_PREFIX.length), second]) }]);
    expect(s.flush()).toEqual(Buffer.alloc(0));
  });

  it('accepts a message of exactly the limit and refuses one byte more', () => {
    const overhead = apc('error;message=').length;
    const fits = apc(`error;message=${'m'.repeat(INBAND_MAX_BYTES - overhead)}`);
    expect(fits.length).toBe(INBAND_MAX_BYTES);
    expect(new InbandScanner().push(fits)).toEqual([msg({ kind: 'error', message: 'm'.repeat(INBAND_MAX_BYTES - overhead) })]);

    const tooLong = apc(`error;message=${'m'.repeat(INBAND_MAX_BYTES - overhead + 1)}`);
    const s = new InbandScanner();
    const parts = s.push(tooLong);
    expect(parts).toEqual([{ malformed: INBAND_PREFIX }, { plain: tooLong.subarray(INBAND_PREFIX.length) }]);
    expect(Buffer.concat([bytesOf(parts), s.flush()])).toEqual(tooLong);
  });

  it('finds a real message after an over-long fake one', () => {
    const fake = Buffer.concat([INBAND_PREFIX, latin1('z'.repeat(300))]);
    const s = new InbandScanner();
    expect(s.push(Buffer.concat([fake, apc('sync;rx=4')]))).toEqual([
      { malformed: INBAND_PREFIX },
      { plain: fake.subarray(INBAND_PREFIX.length) },
      msg({ kind: 'sync', rx: 4 }),
    ]);
  });
});
