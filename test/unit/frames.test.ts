// Framing of the host <-> front socket protocol: type, 4-byte length, payload.
import { describe, expect, it } from 'vitest';
import {
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_BYTES,
  MAX_FRONT_PAYLOAD_BYTES,
  MAX_PAYLOAD_BYTES,
  ProtocolError,
  encodeFrame,
} from '../../src/protocol/frames.js';

const frames: Frame[] = [
  { type: FrameType.attach, payload: Buffer.from('{"v":1}') },
  { type: FrameType.output, payload: Buffer.from([0, 1, 0xff, 0x1b, 10]) },
  { type: FrameType.statusQuery, payload: Buffer.alloc(0) },
  { type: FrameType.exit, payload: Buffer.from('{"status":0,"out":5}') },
];
const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));

describe('encodeFrame', () => {
  it('writes the type, the big-endian length and the payload', () => {
    expect(encodeFrame(FrameType.input, Buffer.from('ab'))).toEqual(Buffer.from([0x02, 0, 0, 0, 2, 0x61, 0x62]));
  });

  it('writes a header alone for an empty payload', () => {
    expect(encodeFrame(FrameType.detached)).toEqual(Buffer.from([0x46, 0, 0, 0, 0]));
    expect(HEADER_BYTES).toBe(5);
  });
});

/** Output pieces joined back into frames: the decoder hands output out as it arrives. */
function joinOutput(got: Frame[]): Frame[] {
  const joined: Frame[] = [];
  for (const f of got) {
    const last = joined[joined.length - 1];
    if (f.type === FrameType.output && last?.type === FrameType.output) last.payload = Buffer.concat([last.payload, f.payload]);
    else joined.push({ type: f.type, payload: Buffer.from(f.payload) });
  }
  return joined;
}

describe('FrameDecoder', () => {
  it('round-trips every frame type', () => {
    for (const type of Object.values(FrameType)) {
      const payload = Buffer.from(`payload of 0x${type.toString(16)}`);
      const d = new FrameDecoder();
      expect(d.push(encodeFrame(type, payload))).toEqual([{ type, payload }]);
      expect(d.buffered).toBe(0);
    }
  });

  it('returns several frames from one chunk, in order', () => {
    const d = new FrameDecoder();
    expect(d.push(stream)).toEqual(frames);
    expect(d.buffered).toBe(0);
  });

  it('reassembles frames split at every byte boundary', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const got = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(joinOutput(got), `cut at ${cut}`).toEqual(frames);
      expect(d.buffered).toBe(0);
    }
  });

  it('reassembles frames split at every byte boundary when both halves are read into one reused buffer', () => {
    // The host reads every connection into one buffer (src/host/client-reader.ts):
    // what a frame kept from the first read must survive the second overwriting it.
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const buf = Buffer.alloc(stream.length);
      const read = (part: Buffer): Frame[] => {
        part.copy(buf);
        // A whole frame's payload may be a view of the buffer: taken before the next read.
        return d.push(buf.subarray(0, part.length)).map((f) => ({ type: f.type, payload: Buffer.from(f.payload) }));
      };
      const got = [...read(stream.subarray(0, cut)), ...read(stream.subarray(cut))];
      expect(joinOutput(got), `cut at ${cut}`).toEqual(frames);
    }
  });

  it('reassembles frames fed one byte at a time', () => {
    const d = new FrameDecoder();
    const got: Frame[] = [];
    for (const b of stream) got.push(...d.push(Buffer.from([b])));
    expect(joinOutput(got)).toEqual(frames);
  });

  it('hands out an output payload as it arrives, without copying, and other payloads whole', () => {
    const out = encodeFrame(FrameType.output, Buffer.from('0123456789'));
    const exit = encodeFrame(FrameType.exit, Buffer.from('{"status":3,"out":10}'));
    const first = Buffer.from(out.subarray(0, 8));
    const d = new FrameDecoder();
    const a = d.push(first);
    expect(a).toEqual([{ type: FrameType.output, payload: Buffer.from('012') }]);
    expect(a[0]!.payload.buffer).toBe(first.buffer); // a view of the chunk
    expect(d.buffered).toBe(8);
    const second = Buffer.concat([out.subarray(8), exit.subarray(0, 9)]);
    expect(d.push(second)).toEqual([{ type: FrameType.output, payload: Buffer.from('3456789') }]);
    expect(d.buffered).toBe(9);
    expect(d.push(exit.subarray(9))).toEqual([{ type: FrameType.exit, payload: Buffer.from('{"status":3,"out":10}') }]);
    expect(d.buffered).toBe(0);
  });

  it('hands out an empty output frame', () => {
    expect(new FrameDecoder().push(encodeFrame(FrameType.output))).toEqual([{ type: FrameType.output, payload: Buffer.alloc(0) }]);
  });

  it('reassembles seeded random frames cut at random places', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const types = [FrameType.output, FrameType.output, FrameType.input, FrameType.exit, FrameType.welcome];
    for (let trial = 0; trial < 50; trial++) {
      const sent: Frame[] = Array.from({ length: 1 + rand(8) }, () => {
        const payload = Buffer.alloc(rand(3) === 0 ? 0 : rand(70_000));
        for (let i = 0; i < payload.length; i++) payload[i] = rand(256);
        return { type: types[rand(types.length)]!, payload };
      });
      const bytes = Buffer.concat(sent.map((f) => encodeFrame(f.type, f.payload)));
      const d = new FrameDecoder();
      const got: Frame[] = [];
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + rand(20_000);
        got.push(...d.push(bytes.subarray(at, at + n)));
        at += n;
      }
      expect(joinOutput(got), `trial ${trial}`).toEqual(joinOutput(sent));
      expect(got.filter((f) => f.type !== FrameType.output)).toEqual(sent.filter((f) => f.type !== FrameType.output));
      expect(d.buffered).toBe(0);
    }
  });

  it.each([
    ['half a header', 3, 3],
    ['a header without its payload', HEADER_BYTES, HEADER_BYTES],
    ['a header and part of the payload', HEADER_BYTES + 4, HEADER_BYTES + 4],
  ])('reports %s as buffered', (_label, cut, buffered) => {
    const d = new FrameDecoder();
    expect(d.push(stream.subarray(0, cut))).toEqual([]);
    expect(d.buffered).toBe(buffered);
  });

  it('keeps the rest of a chunk after whole frames as buffered', () => {
    const first = encodeFrame(frames[0]!.type, frames[0]!.payload);
    const d = new FrameDecoder();
    expect(d.push(stream.subarray(0, first.length + 2))).toEqual([frames[0]]);
    expect(d.buffered).toBe(2);
  });

  it.each([0x00, 0x09, 0x40, 0x4a, 0xff])('refuses unknown type %i', (type) => {
    const d = new FrameDecoder();
    expect(() => d.push(Buffer.from([type, 0, 0, 0, 0]))).toThrow(
      new ProtocolError(`unknown frame type 0x${type.toString(16)}`),
    );
  });

  it('refuses an unknown type after a good frame', () => {
    const d = new FrameDecoder();
    expect(() => d.push(Buffer.concat([stream, Buffer.from([0x99, 0, 0, 0, 0])]))).toThrow(
      new ProtocolError('unknown frame type 0x99'),
    );
  });

  it('accepts a length of exactly MAX_PAYLOAD_BYTES (waiting for it)', () => {
    const header = Buffer.from([FrameType.output, 0, 0, 0, 0]);
    header.writeUInt32BE(MAX_PAYLOAD_BYTES, 1);
    const d = new FrameDecoder();
    expect(d.push(header)).toEqual([]);
    expect(d.buffered).toBe(HEADER_BYTES);
  });

  it.each([MAX_PAYLOAD_BYTES + 1, 0xffffffff])('refuses a length of %d from the header alone', (len) => {
    const header = Buffer.from([FrameType.output, 0, 0, 0, 0]);
    header.writeUInt32BE(len, 1);
    expect(() => new FrameDecoder().push(header)).toThrow(
      new ProtocolError(`frame of ${len} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`),
    );
  });

  it('with a front limit, accepts exactly MAX_FRONT_PAYLOAD_BYTES and refuses one more at the header', () => {
    const header = (len: number): Buffer => {
      const h = Buffer.from([FrameType.input, 0, 0, 0, 0]);
      h.writeUInt32BE(len, 1);
      return h;
    };
    const d = new FrameDecoder(MAX_FRONT_PAYLOAD_BYTES);
    const payload = Buffer.alloc(MAX_FRONT_PAYLOAD_BYTES, 7);
    expect(d.push(Buffer.concat([header(MAX_FRONT_PAYLOAD_BYTES), payload]))).toEqual([{ type: FrameType.input, payload }]);
    expect(() => d.push(header(MAX_FRONT_PAYLOAD_BYTES + 1))).toThrow(
      new ProtocolError(`frame of ${MAX_FRONT_PAYLOAD_BYTES + 1} bytes is over the ${MAX_FRONT_PAYLOAD_BYTES}-byte limit`),
    );
    expect(MAX_FRONT_PAYLOAD_BYTES).toBe(65536);
  });
});
