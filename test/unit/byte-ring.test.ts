// ByteRing: the last `capacity` bytes of a stream, addressed by absolute offset.
import { describe, expect, it } from 'vitest';
import { ByteRing } from '../../src/session/byte-ring.js';

const bytes = (...values: number[]): Buffer => Buffer.from(values);
/** `n` bytes counting up from `from` (mod 256): every byte says where it was. */
const run = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ByteRing', () => {
  it('starts empty at offset 0', () => {
    const r = new ByteRing(8);
    expect([r.capacity, r.start, r.end]).toEqual([8, 0, 0]);
    expect(r.copyFrom(0)).toEqual(Buffer.alloc(0));
  });

  it('holds everything while within capacity', () => {
    const r = new ByteRing(8);
    r.append(bytes(1, 2, 3));
    r.append(bytes(4, 5));
    expect([r.start, r.end]).toEqual([0, 5]);
    expect(r.copyFrom(0)).toEqual(bytes(1, 2, 3, 4, 5));
  });

  it('holds exactly capacity bytes when filled to the brim', () => {
    const r = new ByteRing(4);
    r.append(bytes(1, 2, 3, 4));
    expect([r.start, r.end]).toEqual([0, 4]);
    expect(r.copyFrom(0)).toEqual(bytes(1, 2, 3, 4));
  });

  it('drops the oldest bytes when appends go over capacity, wrapping around', () => {
    const r = new ByteRing(4);
    r.append(bytes(1, 2, 3));
    r.append(bytes(4, 5, 6)); // wraps: 4 at index 3, 5 and 6 at 0 and 1
    expect([r.start, r.end]).toEqual([2, 6]);
    expect(r.copyFrom(2)).toEqual(bytes(3, 4, 5, 6));
    expect(r.copyFrom(4)).toEqual(bytes(5, 6));
  });

  it.each([
    ['larger than capacity', 10, 4],
    ['twice the capacity exactly', 8, 4],
    ['capacity plus one', 5, 4],
  ])('keeps the last capacity bytes of a chunk %s', (_label, length, cap) => {
    const r = new ByteRing(cap);
    r.append(run(0, 3)); // not aligned to the ring: the big chunk starts mid-buffer
    r.append(run(100, length));
    expect([r.start, r.end]).toEqual([3 + length - cap, 3 + length]);
    expect(r.copyFrom(r.start)).toEqual(run(100 + length - cap, cap));
  });

  it('copies from the start, the end and the middle', () => {
    const r = new ByteRing(5);
    r.append(run(0, 12)); // holds offsets 7..11, bytes 7..11
    expect(r.copyFrom(7)).toEqual(bytes(7, 8, 9, 10, 11));
    expect(r.copyFrom(9)).toEqual(bytes(9, 10, 11));
    expect(r.copyFrom(12)).toEqual(Buffer.alloc(0));
  });

  it('returns a copy that later appends do not change', () => {
    const r = new ByteRing(4);
    r.append(bytes(1, 2, 3, 4));
    const copy = r.copyFrom(0);
    r.append(bytes(9, 9, 9, 9));
    expect(copy).toEqual(bytes(1, 2, 3, 4));
  });

  it('counts from the start offset it was given', () => {
    const r = new ByteRing(8, 100);
    expect([r.start, r.end]).toEqual([100, 100]);
    r.append(bytes(1, 2, 3));
    expect([r.start, r.end]).toEqual([100, 103]);
    expect(r.copyFrom(101)).toEqual(bytes(2, 3));
    // Nothing before the start offset was ever held, even with room to spare.
    expect(() => r.copyFrom(99)).toThrow(new RangeError('offset 99 outside [100, 103]'));
    r.append(run(10, 7));
    expect([r.start, r.end]).toEqual([102, 110]);
    expect(r.copyFrom(102)).toEqual(bytes(3, 10, 11, 12, 13, 14, 15, 16));
  });

  it('with capacity 0 counts bytes but holds none', () => {
    const r = new ByteRing(0, 5);
    r.append(bytes(1, 2, 3));
    expect([r.start, r.end]).toEqual([8, 8]);
    expect(r.copyFrom(8)).toEqual(Buffer.alloc(0));
    expect(() => r.copyFrom(7)).toThrow(new RangeError('offset 7 outside [8, 8]'));
  });

  it.each([
    ['before start', 3, 'offset 3 outside [4, 10]'],
    ['after end', 11, 'offset 11 outside [4, 10]'],
    ['negative', -1, 'offset -1 outside [4, 10]'],
  ])('refuses an offset %s with a RangeError', (_label, from, message) => {
    const r = new ByteRing(6);
    r.append(run(0, 10));
    expect(() => r.copyFrom(from)).toThrow(new RangeError(message));
  });

  it('matches a plain array of every byte over many random appends', () => {
    const random = seededRandom(20261125);
    const int = (n: number): number => Math.floor(random() * n);
    for (let round = 0; round < 40; round++) {
      const capacity = int(64);
      const startOffset = int(3) === 0 ? 0 : int(1000);
      const r = new ByteRing(capacity, startOffset);
      const model: number[] = [];
      for (let step = 0; step < 60; step++) {
        const chunk = Buffer.from(Array.from({ length: int(2 * capacity + 3) }, () => int(256)));
        r.append(chunk);
        model.push(...chunk);
        const end = startOffset + model.length;
        const start = Math.max(startOffset, end - capacity);
        expect([r.start, r.end]).toEqual([start, end]);
        const from = start + int(end - start + 1);
        expect(r.copyFrom(from)).toEqual(Buffer.from(model.slice(from - startOffset)));
      }
    }
  });
});
