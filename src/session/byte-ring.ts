// The replay state of one direction of a session: the last `capacity` bytes
// of a stream, addressed by absolute offset. The host keeps the command's
// output in one (`out`); the client keeps the keys it sent in one (`tx`).
// One allocation for its life.
export class ByteRing {
  private readonly buf: Buffer;
  /** Absolute offset of the next byte appended. */
  private next: number;
  /** The offset the stream started at: nothing before it was ever held. */
  private readonly base: number;

  constructor(
    readonly capacity: number,
    startOffset = 0,
  ) {
    this.buf = Buffer.allocUnsafe(capacity);
    this.next = startOffset;
    this.base = startOffset;
  }

  /** The absolute offset one past the last byte (the host's `out`, the client's `tx`). */
  get end(): number {
    return this.next;
  }

  /** The oldest absolute offset still held. */
  get start(): number {
    return Math.max(this.base, this.next - this.capacity);
  }

  append(chunk: Buffer): void {
    const cap = this.capacity;
    if (cap > 0) {
      // Only the last `cap` bytes of a chunk can survive.
      const src = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
      let pos = (this.next + (chunk.length - src.length)) % cap;
      let copied = 0;
      while (copied < src.length) {
        const n = Math.min(src.length - copied, cap - pos);
        src.copy(this.buf, pos, copied, copied + n);
        copied += n;
        pos = (pos + n) % cap;
      }
    }
    this.next += chunk.length;
  }

  /**
   * A copy of the bytes [from, out); `from` must be >= start. A copy, because
   * a socket may hold the buffer queued while the ring moves on.
   */
  copyFrom(from: number): Buffer {
    if (from < this.start || from > this.next) throw new RangeError(`offset ${from} outside [${this.start}, ${this.next}]`);
    const len = this.next - from;
    const out = Buffer.allocUnsafe(len);
    if (len === 0) return out;
    const a = from % this.capacity;
    const first = Math.min(len, this.capacity - a);
    this.buf.copy(out, 0, a, a + first);
    if (first < len) this.buf.copy(out, first, 0, len - first);
    return out;
  }
}
