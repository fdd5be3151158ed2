// The host's replay state for output: the last `capacity` bytes the command
// wrote, addressed by absolute offset since the session began. One
// allocation for the session's life.
export class OutputRing {
  private readonly buf: Buffer;
  /** Absolute offset of the next byte the command writes (`out`). */
  private end = 0;

  constructor(readonly capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  get out(): number {
    return this.end;
  }

  /** The oldest absolute offset still held. */
  get start(): number {
    return Math.max(0, this.end - this.capacity);
  }

  append(chunk: Buffer): void {
    const cap = this.capacity;
    if (cap > 0) {
      // Only the last `cap` bytes of a chunk can survive.
      const src = chunk.length > cap ? chunk.subarray(chunk.length - cap) : chunk;
      let pos = (this.end + (chunk.length - src.length)) % cap;
      let copied = 0;
      while (copied < src.length) {
        const n = Math.min(src.length - copied, cap - pos);
        src.copy(this.buf, pos, copied, copied + n);
        copied += n;
        pos = (pos + n) % cap;
      }
    }
    this.end += chunk.length;
  }

  /**
   * A copy of the bytes [from, out); `from` must be >= start. A copy, because
   * a socket may hold the buffer queued while the ring moves on.
   */
  copyFrom(from: number): Buffer {
    if (from < this.start || from > this.end) throw new RangeError(`offset ${from} outside [${this.start}, ${this.end}]`);
    const len = this.end - from;
    const out = Buffer.allocUnsafe(len);
    if (len === 0) return out;
    const a = from % this.capacity;
    const first = Math.min(len, this.capacity - a);
    this.buf.copy(out, 0, a, a + first);
    if (first < len) this.buf.copy(out, first, 0, len - first);
    return out;
  }
}
