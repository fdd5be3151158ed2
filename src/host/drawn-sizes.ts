// The pty's size along its output, kept by the host so that a front's screen
// repaint (src/front/screen-repaint.ts) reads each part of the ring at the
// size it was drawn at. A few numbers per resize: no emulator in the host.

export interface Size {
  cols: number;
  rows: number;
}

/** Output from offset `at` on was drawn at this size. */
export interface SizeChange extends Size {
  at: number;
}

/** Changes kept at most: a client resizing without end must not make the host hold more. */
const MAX_SIZE_CHANGES = 256;

/** The pty's size changes, by absolute output offset. */
export class DrawnSizes {
  private changes: SizeChange[];

  constructor(initial: Size) {
    this.changes = [{ at: 0, ...initial }];
  }

  /**
   * Output from `at` on is drawn at `size`; changes before `ringStart` are no
   * longer needed. False if `size` is the one it was drawn at already.
   */
  record(at: number, size: Size, ringStart: number): boolean {
    const last = this.changes[this.changes.length - 1]!;
    if (last.cols === size.cols && last.rows === size.rows) return false;
    if (last.at === at && this.changes.length > 1) this.changes.pop(); // no output was drawn at that size
    this.changes.push({ at, cols: size.cols, rows: size.rows });
    while (this.changes.length > 1 && this.changes[1]!.at <= ringStart) this.changes.shift();
    if (this.changes.length > MAX_SIZE_CHANGES) this.changes.shift();
    return true;
  }

  /** The changes that apply from offset `from` on, their offsets made relative to it. */
  since(from: number): SizeChange[] {
    const i = Math.max(0, this.changes.findLastIndex((c) => c.at <= from));
    return this.changes.slice(i).map((c) => ({ at: Math.max(0, c.at - from), cols: c.cols, rows: c.rows }));
  }
}
