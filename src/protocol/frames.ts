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
  /** v2: the output ring and the sizes it was drawn at, for the front's repaint. */
  screenQuery: 0x08,
  // host -> front
  welcome: 0x41,
  output: 0x42,
  loss: 0x43,
  exit: 0x44,
  refused: 0x45,
  detached: 0x46,
  status: 0x47,
  /** v2: the last frame to a relay (its exit code, a message for stderr). */
  end: 0x48,
  /** v2: the answer to screenQuery. */
  screen: 0x49,
} as const;

export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

const KNOWN = new Set<number>(Object.values(FrameType));
export const HEADER_BYTES = 5;
/** Host -> front: larger than any output frame (256 KiB) and any control message. */
export const MAX_PAYLOAD_BYTES = 1 << 20;
/**
 * Front -> host: a front sends input in pieces of at most this (one read of
 * its terminal is smaller), and its attach is far smaller. The host holds a
 * frame in progress whole, so this is also what one connection can make it hold.
 */
export const MAX_FRONT_PAYLOAD_BYTES = 64 * 1024;

export interface Frame {
  type: FrameTypeValue;
  payload: Buffer;
}

export class ProtocolError extends Error {}

export function encodeFrame(type: FrameTypeValue, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  writeHeader(out, type, payload.length);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** Writes the header of a frame with a `length`-byte payload at the start of `buf`. */
export function writeHeader(buf: Buffer, type: FrameTypeValue, length: number): void {
  buf[0] = type;
  buf.writeUInt32BE(length, 1);
}

/** The payload length a frame's header at the start of `buf` gives. */
export function headerLength(buf: Buffer): number {
  return buf.readUInt32BE(1);
}

/**
 * Reassembles frames from a byte stream; throws ProtocolError on garbage.
 * Output payloads are handed out as they arrive, in one or more pieces (each
 * an output Frame), as views of the chunks pushed: session output is a byte
 * stream, and joining a frame that straddles two reads would copy it. Every
 * other frame comes out whole. A payload may be a view of the chunk just
 * pushed, so it is valid as long as that chunk is (the host reuses one read
 * buffer: src/host/client-reader.ts); the pieces of a frame that straddles
 * pushes are copied, as the next push may overwrite them.
 */
export class FrameDecoder {
  /** A header that straddles reads. */
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerHave = 0;
  private type: FrameTypeValue = FrameType.output;
  /** Payload bytes of the current frame still to come; -1 between frames. */
  private remaining = -1;
  /** The pieces of a (non-output) payload that straddles reads. */
  private parts: Buffer[] = [];
  /** Bytes of the unfinished frame seen so far, header included. */
  private unfinished = 0;

  /** `maxPayload`: a header declaring more is refused before any of it is held. */
  constructor(private readonly maxPayload = MAX_PAYLOAD_BYTES) {}

  push(chunk: Buffer): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining < 0) {
        const n = Math.min(HEADER_BYTES - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + n);
        this.headerHave += n;
        this.unfinished += n;
        at += n;
        if (this.headerHave < HEADER_BYTES) break;
        this.headerHave = 0;
        this.startFrame(frames);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - at);
      const piece = chunk.subarray(at, at + n);
      at += n;
      this.remaining -= n;
      this.unfinished += n;
      if (this.type === FrameType.output) frames.push({ type: this.type, payload: piece });
      else this.parts.push(this.remaining > 0 ? Buffer.from(piece) : piece);
      if (this.remaining === 0) this.endFrame(frames);
    }
    return frames;
  }

  /** Bytes of an unfinished frame: non-zero at end of stream means truncation. */
  get buffered(): number {
    return this.unfinished;
  }

  private startFrame(frames: Frame[]): void {
    const type = this.header[0]!;
    if (!KNOWN.has(type)) throw new ProtocolError(`unknown frame type 0x${type.toString(16)}`);
    const len = headerLength(this.header);
    if (len > this.maxPayload) throw new ProtocolError(`frame of ${len} bytes is over the ${this.maxPayload}-byte limit`);
    this.type = type as FrameTypeValue;
    this.remaining = len;
    if (len === 0) this.endFrame(frames);
  }

  private endFrame(frames: Frame[]): void {
    if (this.type !== FrameType.output) {
      const payload = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      frames.push({ type: this.type, payload });
    } else if (this.unfinished === HEADER_BYTES) {
      frames.push({ type: this.type, payload: Buffer.alloc(0) }); // an empty output frame is still a frame
    }
    this.parts = [];
    this.remaining = -1;
    this.unfinished = 0;
  }
}
