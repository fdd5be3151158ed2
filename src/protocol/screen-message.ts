// The screen frame (v2, host -> front): what a front needs to repaint the
// session's screen on a plain attach (docs/protocol.md, "The screen on
// attach"). Payload: a 4-byte big-endian length, that much JSON (ScreenState),
// then the ring's bytes from `start` to `out`.
import type { SizeChange } from '../host/drawn-sizes.js';
import { type Frame, FrameType, ProtocolError, encodeFrame } from './frames.js';

export interface ScreenState {
  /** The offset of the ring's first byte. */
  start: number;
  /** The offset after its last byte: the stream continues from here. */
  out: number;
  /** Output some read-write client was sent: a plain attach without `from` starts there. */
  delivered: number;
  /** The sizes the ring was drawn at, `at` relative to `start`. */
  sizes: SizeChange[];
}

export function encodeScreen(state: ScreenState, ring: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(state), 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(json.length, 0);
  return encodeFrame(FrameType.screen, Buffer.concat([len, json, ring]));
}

const isOffset = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isSize = (v: unknown): v is SizeChange => {
  const c = v as Record<string, unknown>;
  return typeof v === 'object' && v !== null && isOffset(c.at) && isOffset(c.cols) && isOffset(c.rows) && c.cols > 0 && c.rows > 0;
};

export function decodeScreen(f: Frame): { state: ScreenState; ring: Buffer } {
  const bad = (why: string): ProtocolError => new ProtocolError(`screen frame: ${why}`);
  if (f.payload.length < 4) throw bad('too short');
  const len = f.payload.readUInt32BE(0);
  if (4 + len > f.payload.length) throw bad('its JSON runs past the frame');
  let state: ScreenState;
  try {
    state = JSON.parse(f.payload.subarray(4, 4 + len).toString('utf8')) as ScreenState;
  } catch {
    throw bad('not JSON');
  }
  const ring = f.payload.subarray(4 + len);
  if (typeof state !== 'object' || state === null || !isOffset(state.start) || !isOffset(state.out) || !isOffset(state.delivered)) {
    throw bad('start, out or delivered is not an offset');
  }
  if (!Array.isArray(state.sizes) || !state.sizes.every(isSize)) throw bad('sizes are not sizes');
  if (state.out - state.start !== ring.length) throw bad(`out - start is ${state.out - state.start}, but the ring has ${ring.length} bytes`);
  return { state, ring };
}
