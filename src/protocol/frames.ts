// Framing of the host <-> front socket protocol (docs/protocol.md, part 1):
// a 1-byte type, a 4-byte big-endian payload length, the payload.
export const FrameType = {
  // front -> host
  attach: 0x01,
  input: 0x02,
  inputUncounted: 0x03,
  resize: 0x04,
  sync: 0x05,
  statusQuery: 0x06,
  exitAck: 0x07,
  // host -> front
  welcome: 0x41,
  output: 0x42,
  loss: 0x43,
  exit: 0x44,
  refused: 0x45,
  detached: 0x46,
  status: 0x47,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

const KNOWN = new Set<number>(Object.values(FrameType));
export const HEADER_BYTES = 5;
/** Larger than any data chunk we send (64 KiB) and any control message. */
export const MAX_PAYLOAD_BYTES = 1 << 20;

export interface Frame {
  type: FrameTypeValue;
  payload: Buffer;
}

export class ProtocolError extends Error {}

export function encodeFrame(type: FrameTypeValue, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out[0] = type;
  out.writeUInt32BE(payload.length, 1);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** Reassembles frames from a byte stream; throws ProtocolError on garbage. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER_BYTES) {
      const type = this.pending[at]!;
      if (!KNOWN.has(type)) throw new ProtocolError(`unknown frame type 0x${type.toString(16)}`);
      const len = this.pending.readUInt32BE(at + 1);
      if (len > MAX_PAYLOAD_BYTES) throw new ProtocolError(`frame of ${len} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`);
      if (this.pending.length - at - HEADER_BYTES < len) break;
      const start = at + HEADER_BYTES;
      frames.push({ type: type as FrameTypeValue, payload: this.pending.subarray(start, start + len) });
      at = start + len;
    }
    this.pending = at === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(at);
    return frames;
  }

  /** Bytes of an unfinished frame: non-zero at end of stream means truncation. */
  get buffered(): number {
    return this.pending.length;
  }
}
