// The host's per-client handshake, driven with a recording peer and fake
// timers: the exact bytes each side gets, under splits and timeouts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientHandshake, type HandshakePeer, HOLD_MS, LATE_REPLY_WINDOW_MS, SYNC_TIMEOUT_MS } from '../../src/host/client-handshake.js';
import type { StreamStart } from '../../src/host/output-flow.js';

const apc = (body: string): string => `\x1b_atsr:1;${body}\x1b\\`;

/** What the handshake did, in order, as text. */
class Recorder implements HandshakePeer {
  readonly log: string[] = [];
  constructor(private readonly start: StreamStart = { from: 5, lost: 0, out: 10 }) {}
  send(b: Buffer): void {
    this.log.push(`send ${b.toString('latin1')}`);
  }
  typeahead(b: Buffer): void {
    this.log.push(`typeahead ${b.toString('latin1')}`);
  }
  input(b: Buffer): void {
    this.log.push(`input ${b.toString('latin1')}`);
  }
  startFor(rx: number | null): StreamStart {
    this.log.push(`startFor ${rx}`);
    return this.start;
  }
  stream(from: number): void {
    this.log.push(`stream ${from}`);
  }
  exitDone(confirmed: boolean): void {
    this.log.push(`exitDone ${confirmed}`);
  }
  hangup(): void {
    this.log.push('hangup');
  }
}

const HELLO = { id: 's', resumed: true, out: 10, in: 0, buf: 100 };

function begun(peer = new Recorder()): { hs: ClientHandshake; peer: Recorder; n: string } {
  const hs = new ClientHandshake(peer);
  hs.begin(HELLO);
  peer.log.length = 0;
  return { hs, peer, n: hs.nonce };
}

const feed = (hs: ClientHandshake, s: string): void => hs.feed(Buffer.from(s, 'latin1'));

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ClientHandshake', () => {
  it('writes the hello with its nonce last', () => {
    const peer = new Recorder();
    const hs = new ClientHandshake(peer);
    hs.begin(HELLO);
    expect(peer.log).toEqual([`send ${apc(`hello;id=s;resumed=1;out=10;in=0;buf=100;n=${hs.nonce}`)}`]);
    expect(hs.nonce).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reassembles a sync reply split at every byte; typeahead before it is uncounted', () => {
    for (let cut = 1; cut < 20; cut++) {
      const { hs, peer, n } = begun();
      const bytes = `k${apc(`sync;rx=5;n=${n}`)}z`;
      feed(hs, bytes.slice(0, cut));
      feed(hs, bytes.slice(cut));
      expect(peer.log).toEqual(['typeahead k', 'startFor 5', 'stream 5', 'input z']);
      hs.close();
    }
  });

  it('takes a reply without a nonce (an older client) but not one with another nonce', () => {
    const { hs, peer } = begun();
    feed(hs, apc('sync;rx=1;n=0000000000000000') + apc('sync;rx=5'));
    expect(peer.log).toEqual(['startFor 5', 'stream 5']);
    hs.close();
  });

  it('states the loss before the replay', () => {
    const { hs, peer, n } = begun(new Recorder({ from: 7, lost: 4, out: 10 }));
    feed(hs, apc(`sync;rx=3;n=${n}`));
    expect(peer.log).toEqual(['startFor 3', `send ${apc(`loss;lost=4;from=7;n=${n}`)}`, 'stream 7']);
    hs.close();
  });

  it('starts the stream itself after the timeout, with start; an older client late reply is caught once within the window', () => {
    const { hs, peer, n } = begun();
    feed(hs, 'a\x1b');
    vi.advanceTimersByTime(SYNC_TIMEOUT_MS);
    expect(peer.log).toEqual(['typeahead a', 'typeahead \x1b', 'startFor null', `send ${apc(`start;from=5;n=${n}`)}`, 'stream 5']);
    peer.log.length = 0;
    feed(hs, `${apc('sync;rx=1')}${apc('sync;rx=1')}`);
    expect(peer.log).toEqual([`send ${apc(`error;message=sync reply came too late;n=${n}`)}`, `input ${apc('sync;rx=1')}`]);
    peer.log.length = 0;
    vi.advanceTimersByTime(LATE_REPLY_WINDOW_MS);
    feed(hs, apc(`sync;rx=1;n=${n}`));
    expect(peer.log).toEqual([`send ${apc(`error;message=sync reply came too late;n=${n}`)}`]);
    hs.close();
  });

  it('holds a possible message start at most 30 ms after the reply, then it is input', () => {
    const { hs, peer, n } = begun();
    feed(hs, `${apc(`sync;rx=5;n=${n}`)}x\x1b_at`);
    expect(peer.log).toEqual(['startFor 5', 'stream 5', 'input x']);
    vi.advanceTimersByTime(HOLD_MS - 1);
    expect(peer.log).toHaveLength(3);
    vi.advanceTimersByTime(1);
    expect(peer.log[3]).toBe('input \x1b_at');
    hs.close();
  });

  it('drops held bytes at close', () => {
    const { hs, peer, n } = begun();
    feed(hs, `${apc(`sync;rx=5;n=${n}`)}\x1b_at`);
    hs.close();
    vi.advanceTimersByTime(HOLD_MS * 10);
    expect(peer.log).toEqual(['startFor 5', 'stream 5']);
  });

  it('hands on hangup with the nonce; a hangup without it is input', () => {
    const { hs, peer, n } = begun();
    feed(hs, `${apc(`sync;rx=5;n=${n}`)}${apc('hangup')}${apc(`hangup;n=${n}`)}`);
    expect(peer.log).toEqual(['startFor 5', 'stream 5', `input ${apc('hangup')}`, 'hangup']);
    hs.close();
  });

  it('after the exit notice waits for a bye (with the nonce or none), or 3 s', () => {
    const a = begun();
    feed(a.hs, apc(`sync;rx=5;n=${a.n}`));
    a.peer.log.length = 0;
    a.hs.exit(3, 10);
    feed(a.hs, `typed${apc('bye;n=0000000000000000')}`);
    feed(a.hs, apc(`bye;n=${a.n}`));
    expect(a.peer.log).toEqual([`send ${apc(`exit;status=3;out=10;n=${a.n}`)}`, 'exitDone true']);

    const b = begun();
    feed(b.hs, apc(`sync;rx=5;n=${b.n}`));
    b.hs.exit(0, 10);
    feed(b.hs, apc('bye'));
    expect(b.peer.log.at(-1)).toBe('exitDone true');

    const c = begun();
    feed(c.hs, apc(`sync;rx=5;n=${c.n}`));
    c.hs.exit(0, 10);
    vi.advanceTimersByTime(2999);
    expect(c.peer.log.at(-1)).not.toBe('exitDone false');
    vi.advanceTimersByTime(1);
    expect(c.peer.log.at(-1)).toBe('exitDone false');
  });
});
