// Buffers for output frames, used again once every socket that was given one
// has written it out. A fresh buffer per frame cost the host more than any
// other step of a burst: its pages are new to the process, and each one
// faults when the frame is copied in (docs/benchmarks.md, "Host output path").

/** A frame buffer handed to sockets: back to its pool when the last holder lets go. */
export class FrameLease {
  /** The flush that filled it holds it until it has handed it to every socket. */
  private holders = 1;

  constructor(
    readonly buf: Buffer,
    private readonly pool: FramePool,
  ) {}

  /**
   * One more holder (a socket write); call the returned function once it is
   * done with the buffer. A holder that never calls it only keeps the buffer
   * from being used again: the garbage collector takes it then.
   */
  hold(): () => void {
    this.holders++;
    return this.letGo;
  }

  readonly letGo = (): void => {
    if (--this.holders === 0) this.pool.giveBack(this.buf);
  };
}

export class FramePool {
  private readonly free: Buffer[] = [];

  /** `keep`: at most this many idle buffers are held (a socket that keeps up returns each before the next flush). */
  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  lease(): FrameLease {
    return new FrameLease(this.free.pop() ?? Buffer.allocUnsafeSlow(this.size), this);
  }

  giveBack(buf: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buf);
  }
}
