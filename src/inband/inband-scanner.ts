// Splits a byte stream into plain bytes and in-band messages. Anything that
// is not exactly a message passes through as plain bytes, untouched (a key
// that starts with ESC _ is just a key); a message split across reads is
// reassembled.
import { INBAND_END, INBAND_MAX_BYTES, INBAND_PREFIX, type InbandMessage, parseInband } from './inband-message.js';

export type ScanPart = { plain: Buffer } | { message: InbandMessage; raw: Buffer } | { malformed: Buffer };

/** The bytes of a scanner part, as they came. */
export const partBytes = (part: ScanPart): Buffer => ('plain' in part ? part.plain : 'raw' in part ? part.raw : part.malformed);

export class InbandScanner {
  private held: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ScanPart[] {
    let buf = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const parts: ScanPart[] = [];
    const plain = (b: Buffer): void => {
      if (b.length > 0) parts.push({ plain: b });
    };
    for (;;) {
      const at = buf.indexOf(INBAND_PREFIX);
      if (at < 0) {
        // Hold back a tail that could be the start of a prefix.
        const keep = partialPrefixLength(buf);
        plain(buf.subarray(0, buf.length - keep));
        this.held = Buffer.from(buf.subarray(buf.length - keep));
        return parts;
      }
      plain(buf.subarray(0, at));
      const end = buf.indexOf(INBAND_END, at + INBAND_PREFIX.length);
      if (end < 0 || end + INBAND_END.length - at > INBAND_MAX_BYTES) {
        if (end < 0 && buf.length - at < INBAND_MAX_BYTES) {
          this.held = Buffer.from(buf.subarray(at)); // wait for the rest
          return parts;
        }
        // Too long to be ours: it is the stream's own bytes.
        parts.push({ malformed: buf.subarray(at, at + INBAND_PREFIX.length) });
        buf = buf.subarray(at + INBAND_PREFIX.length);
        continue;
      }
      const whole = buf.subarray(at, end + INBAND_END.length);
      const message = parseInband(buf.subarray(at + INBAND_PREFIX.length, end).toString('latin1'));
      parts.push(message ? { message, raw: whole } : { malformed: whole });
      buf = buf.subarray(end + INBAND_END.length);
    }
  }

  /** Whether bytes are held back (a possible message start). */
  get holding(): boolean {
    return this.held.length > 0;
  }

  /** Bytes held back waiting for more input (released by flush). */
  flush(): Buffer {
    const b = this.held;
    this.held = Buffer.alloc(0);
    return b;
  }
}

function partialPrefixLength(buf: Buffer): number {
  const max = Math.min(buf.length, INBAND_PREFIX.length - 1);
  for (let n = max; n > 0; n--) {
    if (buf.subarray(buf.length - n).equals(INBAND_PREFIX.subarray(0, n))) return n;
  }
  return 0;
}
