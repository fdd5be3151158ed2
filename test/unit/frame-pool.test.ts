// The host's output frame buffers: used again only once every holder let go.
import { describe, expect, it } from 'vitest';
import { FramePool } from '../../src/host/frame-pool.js';

describe('frame pool', () => {
  it('hands the same buffer out again once the flush and every socket write let go of it', () => {
    const pool = new FramePool(64, 1);
    const first = pool.lease();
    const writeA = first.hold();
    const writeB = first.hold();
    first.letGo(); // the flush is done with it; two sockets still hold it
    writeA();
    expect(pool.lease().buf).not.toBe(first.buf);
    writeB();
    expect(pool.lease().buf).toBe(first.buf);
  });

  it('never hands out a buffer a socket still holds, and keeps at most `keep` idle ones', () => {
    const pool = new FramePool(64, 1);
    const held = pool.lease();
    const stillWriting = held.hold();
    held.letGo();
    const a = pool.lease();
    const b = pool.lease();
    expect(new Set([held.buf, a.buf, b.buf]).size).toBe(3);
    a.letGo();
    b.letGo(); // over `keep`: left to the garbage collector
    expect(pool.lease().buf).toBe(a.buf);
    expect(pool.lease().buf).not.toBe(b.buf);
    stillWriting();
  });
});
