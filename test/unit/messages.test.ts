// The messages inside frames: JSON control messages checked field by field,
// and the binary resize.
import { describe, expect, it } from 'vitest';
import { type Frame, FrameDecoder, FrameType, type FrameTypeValue, ProtocolError } from '../../src/protocol/frames.js';
import {
  decodeAttach,
  decodeAttachV2,
  decodeDetached,
  decodeEnd,
  decodeExit,
  decodeLoss,
  decodeRefused,
  decodeResize,
  decodeStatus,
  decodeSync,
  decodeWelcome,
  encodeEnd,
  encodeJson,
  encodeResize,
} from '../../src/protocol/messages.js';
import { decodeScreen, encodeScreen } from '../../src/protocol/screen-message.js';

/** A frame as the peer would see it: encoded, then decoded from the byte stream. */
function viaWire(bytes: Buffer): Frame {
  const got = new FrameDecoder().push(bytes);
  expect(got).toHaveLength(1);
  return got[0]!;
}
const jsonFrame = (type: FrameTypeValue, msg: object): Frame => viaWire(encodeJson(type, msg));
const rawFrame = (type: FrameTypeValue, text: string): Frame => ({ type, payload: Buffer.from(text, 'utf8') });

type Kind = 'offset' | 'boolean' | 'string' | 'string[]' | 'string|null' | 'number|null' | 'offset|null';

interface Case {
  name: string;
  type: FrameTypeValue;
  decode: (f: Frame) => object;
  valid: Record<string, unknown>;
  kinds: Record<string, Kind>;
}

const cases: Case[] = [
  {
    name: 'attach',
    type: FrameType.attach,
    decode: decodeAttach,
    valid: {
      v: 1, readOnly: false, force: true, sync: true, rows: 24, cols: 80,
      clientAddr: '192.0.2.7', agentSocket: '/tmp/ssh-x/agent.1', updateUtmp: true,
    },
    kinds: {
      v: 'offset', readOnly: 'boolean', force: 'boolean', sync: 'boolean', rows: 'offset', cols: 'offset',
      clientAddr: 'string', agentSocket: 'string', updateUtmp: 'boolean',
    },
  },
  {
    name: 'attach v2',
    type: FrameType.attach,
    decode: decodeAttachV2,
    valid: {
      v: 2, readOnly: false, force: true, rows: 24, cols: 80, clientAddr: '192.0.2.7', agentSocket: '/tmp/ssh-x/agent.1',
      updateUtmp: true, inband: true, term: 'xterm-256color', detach: { kind: 'none' },
    },
    kinds: {
      v: 'offset', readOnly: 'boolean', force: 'boolean', rows: 'offset', cols: 'offset', clientAddr: 'string',
      agentSocket: 'string', updateUtmp: 'boolean', inband: 'boolean', term: 'string',
    },
  },
  {
    name: 'welcome',
    type: FrameType.welcome,
    decode: decodeWelcome,
    valid: { v: 1, name: 's1', resumed: true, out: 1234, in: 56, bufferSize: 262144 },
    kinds: { v: 'offset', name: 'string', resumed: 'boolean', out: 'offset', in: 'offset', bufferSize: 'offset' },
  },
  { name: 'sync', type: FrameType.sync, decode: decodeSync, valid: { rx: 99 }, kinds: { rx: 'offset|null' } },
  { name: 'loss', type: FrameType.loss, decode: decodeLoss, valid: { lost: 10, from: 300 }, kinds: { lost: 'offset', from: 'offset' } },
  { name: 'exit', type: FrameType.exit, decode: decodeExit, valid: { status: 130, out: 4096 }, kinds: { status: 'offset', out: 'offset' } },
  {
    name: 'refused',
    type: FrameType.refused,
    decode: decodeRefused,
    valid: { reason: 'busy', message: 'session s1 is attached' },
    kinds: { reason: 'string', message: 'string' },
  },
  {
    name: 'detached',
    type: FrameType.detached,
    decode: decodeDetached,
    valid: { reason: 'taken-over', message: 'another client took the session' },
    kinds: { reason: 'string', message: 'string' },
  },
  {
    name: 'status',
    type: FrameType.status,
    decode: decodeStatus,
    valid: {
      name: 's1', pid: 4242, owner: 'alice', uid: 1000, command: ['bash', '-l'], createdAt: '2026-11-25T10:00:00.000Z',
      attached: false, viewers: 0, detachedSince: '2026-11-25T11:00:00.000Z', clientAddr: '192.0.2.7', exited: true,
      exitStatus: 0, out: 100, in: 20, bufferSize: 262144,
    },
    kinds: {
      name: 'string', pid: 'offset', owner: 'string', uid: 'offset', command: 'string[]', createdAt: 'string',
      attached: 'boolean', viewers: 'offset', detachedSince: 'string|null', clientAddr: 'string', exited: 'boolean',
      exitStatus: 'number|null', out: 'offset', in: 'offset', bufferSize: 'offset',
    },
  },
];

/** Values of the wrong type for each kind of field. */
const WRONG: Record<Kind, unknown[]> = {
  offset: [-1, 1.5, '1', null, true, 2 ** 53],
  'offset|null': [-1, 0.25, '7', false],
  boolean: [1, 'true', null],
  string: [1, null, ['a'], {}],
  'string[]': ['bash', ['bash', 1], [null], null],
  'string|null': [0, false, ['x']],
  'number|null': ['0', true],
};

/** Values that are accepted for each kind besides the valid example. */
const ALSO_RIGHT: Record<Kind, unknown[]> = {
  offset: [0, Number.MAX_SAFE_INTEGER],
  'offset|null': [null, 0],
  boolean: [true, false],
  string: [''],
  'string[]': [[]],
  'string|null': [null, ''],
  'number|null': [null, -1, 2.5],
};

describe.each(cases)('decode $name', ({ type, decode, valid, kinds }) => {
  const hex = `0x${type.toString(16)}`;

  it('accepts a valid payload and returns its fields', () => {
    expect(decode(jsonFrame(type, valid))).toEqual(valid);
  });

  it('ignores unknown fields', () => {
    const got = decode(jsonFrame(type, { ...valid, addedLater: { x: 1 } })) as Record<string, unknown>;
    for (const key of Object.keys(kinds)) expect(got[key]).toEqual(valid[key]);
  });

  it('rejects each missing field by name', () => {
    for (const [key, kind] of Object.entries(kinds)) {
      const { [key]: _dropped, ...rest } = valid;
      expect(() => decode(jsonFrame(type, rest))).toThrow(
        new ProtocolError(`frame ${hex}: field '${key}' is missing or not ${kind}`),
      );
    }
  });

  it('rejects each mistyped field by name', () => {
    for (const [key, kind] of Object.entries(kinds)) {
      for (const wrong of WRONG[kind]) {
        expect(() => decode(jsonFrame(type, { ...valid, [key]: wrong })), `${key}=${JSON.stringify(wrong)}`).toThrow(
          new ProtocolError(`frame ${hex}: field '${key}' is missing or not ${kind}`),
        );
      }
    }
  });

  it('accepts the other valid values of each field', () => {
    for (const [key, kind] of Object.entries(kinds)) {
      for (const right of ALSO_RIGHT[kind]) {
        const got = decode(jsonFrame(type, { ...valid, [key]: right })) as Record<string, unknown>;
        expect(got[key]).toEqual(right);
      }
    }
  });

  it.each(['', '{', 'hello', '{"a":1}}', '\u0000'])('rejects non-JSON %j', (text) => {
    expect(() => decode(rawFrame(type, text))).toThrow(new ProtocolError(`frame ${hex}: payload is not JSON`));
  });

  it.each(['[]', '[1,2]', 'null', '42', '"text"', 'true'])('rejects the non-object %s', (text) => {
    expect(() => decode(rawFrame(type, text))).toThrow(new ProtocolError(`frame ${hex}: payload is not an object`));
  });
});

describe('resize', () => {
  it('encodes rows and cols as two big-endian 16-bit numbers', () => {
    expect(encodeResize({ rows: 24, cols: 300 })).toEqual(Buffer.from([0x04, 0, 0, 0, 4, 0, 24, 0x01, 0x2c]));
  });

  it.each([
    { rows: 24, cols: 80 },
    { rows: 1, cols: 1 },
    { rows: 65535, cols: 65535 },
  ])('round-trips $rows x $cols', (size) => {
    expect(decodeResize(viaWire(encodeResize(size)))).toEqual(size);
  });

  it.each([
    { rows: 0, cols: 80 },
    { rows: 24, cols: 0 },
    { rows: 0, cols: 0 },
  ])('rejects $rows x $cols', (size) => {
    expect(() => decodeResize(viaWire(encodeResize(size)))).toThrow(new ProtocolError('resize frame with a zero dimension'));
  });

  it.each([0, 3, 5, 8])('rejects a payload of %i bytes', (n) => {
    expect(() => decodeResize({ type: FrameType.resize, payload: Buffer.alloc(n, 1) })).toThrow(
      new ProtocolError(`resize frame has ${n} bytes, not 4`),
    );
  });
});

describe('attach v2: detach', () => {
  const attach = (detach: unknown): Frame =>
    jsonFrame(FrameType.attach, {
      v: 2, readOnly: false, force: false, rows: 1, cols: 1, clientAddr: '', agentSocket: '', updateUtmp: false,
      inband: false, term: '', detach,
    });

  it.each([{ kind: 'none' }, { kind: 'escape' }, { kind: 'key', key: 0x1c }, { kind: 'key', key: 0 }, { kind: 'key', key: 255 }])('accepts %j', (d) => {
    expect(decodeAttachV2(attach(d)).detach).toEqual(d);
  });

  it.each([undefined, null, 'none', { kind: 'key' }, { kind: 'key', key: 256 }, { kind: 'key', key: 1.5 }, { kind: 'other' }])('rejects %j', (d) => {
    expect(() => decodeAttachV2(attach(d))).toThrow(ProtocolError);
  });
});

describe('end', () => {
  it('carries the exit code in byte 0 and the message after it, in UTF-8', () => {
    const bytes = encodeEnd({ code: 5, message: 'atsr: session é is attached' });
    expect(bytes.subarray(0, 6)).toEqual(Buffer.from([0x48, 0, 0, 0, 1 + Buffer.byteLength('atsr: session é is attached'), 5]));
    expect(decodeEnd(viaWire(bytes))).toEqual({ code: 5, message: 'atsr: session é is attached' });
    expect(decodeEnd(viaWire(encodeEnd({ code: 0, message: '' })))).toEqual({ code: 0, message: '' });
  });

  it('refuses an end without its code byte', () => {
    expect(() => decodeEnd({ type: FrameType.end, payload: Buffer.alloc(0) })).toThrow(ProtocolError);
  });
});

describe('v2 attach: from and redraw (the screen on attach)', () => {
  const base = {
    v: 2, readOnly: false, force: false, rows: 24, cols: 80, clientAddr: '', agentSocket: '', updateUtmp: false,
    inband: false, term: 'xterm', detach: { kind: 'none' },
  };
  const frame = (extra: object): Frame => ({ type: FrameType.attach, payload: Buffer.from(JSON.stringify({ ...base, ...extra })) });

  it('takes an offset and winch or ctrl_l', () => {
    expect(decodeAttachV2(frame({ from: 7, redraw: 'winch' }))).toMatchObject({ from: 7, redraw: 'winch' });
    expect(decodeAttachV2(frame({ redraw: 'ctrl_l' }))).toMatchObject({ redraw: 'ctrl_l' });
  });

  it.each([[-1], [1.5], ['7'], [null]])('a from of %j is a protocol error', (from) => {
    expect(() => decodeAttachV2(frame({ from }))).toThrow(new ProtocolError("frame 0x1: field 'from' is not an offset"));
  });

  it.each([['screen'], ['none'], [''], [1]])('a redraw of %j is a protocol error (the screen is the front\'s)', (redraw) => {
    expect(() => decodeAttachV2(frame({ redraw }))).toThrow(new ProtocolError("frame 0x1: field 'redraw' is not winch or ctrl_l"));
  });
});

describe('screen frame', () => {
  const state = { start: 10, out: 15, delivered: 12, sizes: [{ at: 0, cols: 80, rows: 24 }] };
  const decode = (payload: Buffer): ReturnType<typeof decodeScreen> => decodeScreen({ type: FrameType.screen, payload });

  it('carries the state and the ring bytes', () => {
    const bytes = encodeScreen(state, Buffer.from('hello'));
    expect(bytes[0]).toBe(FrameType.screen);
    const { state: got, ring } = decode(bytes.subarray(5));
    expect(got).toEqual(state);
    expect(ring.toString()).toBe('hello');
  });

  it('refuses a ring whose length is not out - start, and a JSON length past the frame', () => {
    expect(() => decode(encodeScreen(state, Buffer.from('hell')).subarray(5))).toThrow('out - start is 5, but the ring has 4 bytes');
    expect(() => decode(Buffer.from([0, 0, 1, 0, 0x7b]))).toThrow('its JSON runs past the frame');
    const zero = { ...state, sizes: [{ at: 0, cols: 0, rows: 24 }] };
    expect(() => decode(encodeScreen(zero, Buffer.from('hello')).subarray(5))).toThrow('sizes are not sizes');
  });
});
