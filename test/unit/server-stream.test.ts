// rezume's side of protocol v2 (docs/protocol.md part 2): a server message
// counts only with the hello's nonce; `start;from=F` states a loss or drops
// what the client already has; the client's messages carry the nonce.
import { describe, expect, it } from 'vitest';
import { InbandScanner, partBytes } from '../../src/inband/inband-scanner.js';
import { type InbandMessage, encodeInband } from '../../src/inband/inband-message.js';
import { ServerStream } from '../../src/client/server-stream.js';

const N = '0123456789abcdef';
const OTHER = 'fedcba9876543210';
const msg = (body: string): Buffer => Buffer.from(`\x1b_atsr:1;${body}\x1b\\`, 'latin1');

/** What the client reads from `bytes`: messages as parsed, the rest as plain text. */
function read(bytes: Buffer): (InbandMessage | string)[] {
  return new InbandScanner().push(bytes).map((p) => ('message' in p ? p.message : undefined) ?? partBytes(p).toString('latin1'));
}

/** A stream greeted at rx 100 of 1000 by a hello with `nonce`. */
function greeted(nonce: string | undefined, rx = 100): ServerStream {
  const s = new ServerStream();
  s.greet(nonce, rx, 1000);
  return s;
}

describe('the scanner\'s messages, as the client reads them', () => {
  it('reads the nonce of every kind, and start and hangup', () => {
    expect(read(msg(`hello;id=rz1;resumed=1;out=5;in=6;buf=7;n=${N}`))).toEqual([
      { kind: 'hello', id: 'rz1', resumed: true, out: 5, in: 6, buf: 7, n: N },
    ]);
    expect(read(msg(`start;from=42;n=${N}`))).toEqual([{ kind: 'start', from: 42, n: N }]);
    expect(read(msg(`hangup;n=${N}`))).toEqual([{ kind: 'hangup', n: N }]);
    expect(read(msg(`exit;status=3;out=9;n=${N}`))).toEqual([{ kind: 'exit', status: 3, out: 9, n: N }]);
    expect(read(msg('loss;lost=1;from=2'))).toEqual([{ kind: 'loss', lost: 1, from: 2 }]);
  });

  it('leaves text that is not a message as it came', () => {
    expect(read(Buffer.from('ab\x1b_atsr:1;start;from=x\x1b\\cd', 'latin1'))).toEqual(['ab', '\x1b_atsr:1;start;from=x\x1b\\', 'cd']);
  });
});

describe('ServerStream: whose message', () => {
  it('takes a message only with the hello nonce; another nonce or none is session output', () => {
    const s = greeted(N);
    expect(s.accepts({ kind: 'loss', lost: 1, from: 101, n: N })).toBe(true);
    expect(s.accepts({ kind: 'loss', lost: 1, from: 101, n: OTHER })).toBe(false);
    expect(s.accepts({ kind: 'loss', lost: 1, from: 101 })).toBe(false);
    expect(s.accepts({ kind: 'start', from: 50, n: N })).toBe(true);
    expect(s.accepts({ kind: 'start', from: 50 })).toBe(false);
    expect(s.accepts({ kind: 'exit', status: 42, out: 100 })).toBe(false); // forged by the session's command
    expect(s.accepts({ kind: 'exit', status: 42, out: 100, n: OTHER })).toBe(false);
    expect(s.accepts({ kind: 'exit', status: 42, out: 100, n: N })).toBe(true);
  });

  it('takes start and loss only before the first stream byte, an error with the nonce at any time', () => {
    const s = greeted(N);
    s.take(Buffer.from('x'));
    expect(s.accepts({ kind: 'start', from: 50, n: N })).toBe(false);
    expect(s.accepts({ kind: 'loss', lost: 1, from: 101, n: N })).toBe(false);
    expect(s.accepts({ kind: 'error', message: 'sync reply came too late', n: N })).toBe(true);
    expect(s.accepts({ kind: 'error', message: 'forged', n: OTHER })).toBe(false);
  });

  it('takes an exit only at the true end of the stream', () => {
    const s = greeted(N);
    expect(s.accepts({ kind: 'exit', status: 0, out: 99, n: N })).toBe(false);
    s.take(Buffer.from('abc'));
    expect(s.accepts({ kind: 'exit', status: 0, out: 103, n: N })).toBe(true);
  });

  it('after a hello without a nonce (an older server) takes messages without one, in their places, as before', () => {
    const s = greeted(undefined);
    expect(s.accepts({ kind: 'loss', lost: 1, from: 101 })).toBe(true);
    expect(s.accepts({ kind: 'error', message: 'm' })).toBe(true);
    expect(s.accepts({ kind: 'start', from: 50 })).toBe(false); // an older server never sends one
    s.take(Buffer.from('x'));
    expect(s.accepts({ kind: 'error', message: 'm' })).toBe(false);
    expect(s.accepts({ kind: 'exit', status: 1, out: 101 })).toBe(true);
  });

  it('never takes a client message or a hello from the server side', () => {
    const s = greeted(N);
    expect(s.accepts({ kind: 'hangup', n: N })).toBe(false);
    expect(s.accepts({ kind: 'bye', n: N })).toBe(false);
    expect(s.accepts({ kind: 'sync', rx: 1, n: N })).toBe(false);
  });
});

describe('ServerStream: start;from=F', () => {
  it('F beyond rx: F - rx bytes lost, then every byte shown from F on', () => {
    const s = greeted(N, 100);
    expect(s.start(130)).toBe(30);
    expect(s.rx).toBe(130);
    expect(s.take(Buffer.from('abc')).toString()).toBe('abc');
    expect(s.rx).toBe(133);
  });

  it('F before rx: the next rx - F stream bytes are dropped, across reads, and counted', () => {
    const s = greeted(N, 100);
    expect(s.start(95)).toBe(0);
    expect(s.rx).toBe(95);
    expect(s.take(Buffer.from('abc')).toString()).toBe('');
    expect(s.take(Buffer.from('defgh')).toString()).toBe('fgh');
    expect(s.rx).toBe(103);
  });

  it('F at rx: nothing lost, nothing dropped', () => {
    const s = greeted(N, 100);
    expect(s.start(100)).toBe(0);
    expect(s.take(Buffer.from('a')).toString()).toBe('a');
  });

  it('a new hello forgets what an old start left to drop', () => {
    const s = greeted(N, 100);
    s.start(90);
    s.greet(OTHER, 90, 1000);
    expect(s.take(Buffer.from('z')).toString()).toBe('z');
  });

  it('asks for everything when rx is beyond what the server ever sent', () => {
    const s = new ServerStream();
    s.greet(N, 2000, 1000);
    expect(s.rx).toBe(0);
  });
});

describe('ServerStream: client messages', () => {
  it('carry the hello nonce', () => {
    const s = greeted(N, 7);
    expect(s.sync().toString('latin1')).toBe(`\x1b_atsr:1;sync;rx=7;n=${N}\x1b\\`);
    expect(s.bye().toString('latin1')).toBe(`\x1b_atsr:1;bye;n=${N}\x1b\\`);
    expect(s.hangup()?.toString('latin1')).toBe(`\x1b_atsr:1;hangup;n=${N}\x1b\\`);
  });

  it('to an older server: sync and bye as before, and no hangup, which it would pass to the command as keys', () => {
    const s = greeted(undefined, 7);
    expect(s.sync().toString('latin1')).toBe('\x1b_atsr:1;sync;rx=7\x1b\\');
    expect(s.bye().toString('latin1')).toBe('\x1b_atsr:1;bye\x1b\\');
    expect(s.hangup()).toBeUndefined();
  });

  it('encode as the scanner reads them back', () => {
    expect(read(encodeInband({ kind: 'hangup', n: N }))).toEqual([{ kind: 'hangup', n: N }]);
  });
});
