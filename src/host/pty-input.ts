// Input on its way into the command's pty. Written at once, on this thread,
// while the pty takes it; what it cannot take yet waits here, in order, and
// the host stops reading the client's socket while that is over
// INPUT_HIGH_WATER, so that a command that does not read its input slows its
// client down instead of growing the host (docs/security.md).
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { type HostNative, hostNative } from './host-native.js';

/** The host stops reading its read-write client while this much input waits. */
export const INPUT_HIGH_WATER = 64 * 1024;

/**
 * A full pty gives no event when it has room again (the pty's reader
 * holds the master in libuv), so a full pty is retried on a timer: soon at
 * first, as a reading command makes room quickly, then less often for one
 * that does not read.
 */
const FIRST_RETRY_MS = 1;
const LAST_RETRY_MS = 50;

/** The pty's master side, as far as input needs it. */
export interface PtyMaster {
  fd: number;
  /** False once the master is closed: its fd number may then be another file's. */
  isOpen(): boolean;
}

const { EAGAIN } = constants.errno;

/** Bytes written; 0 while the pty is full; -1 when it takes no more input. */
function writeToPty(native: HostNative | undefined, fd: number, data: Buffer): number {
  if (native) {
    const n = native.write(fd, data);
    return n >= 0 ? n : n === -EAGAIN ? 0 : -1;
  }
  try {
    return writeSync(fd, data);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EAGAIN' ? 0 : -1;
  }
}

export class PtyInput {
  /** host-native.node's write where it loaded: fs.writeSync costs more, and throws for a full pty. */
  private readonly native = hostNative();
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `onDrained`: everything that waited is in the pty (or was discarded). */
  constructor(
    private readonly master: PtyMaster,
    private readonly onDrained: () => void,
  ) {}

  /** Whether the client's socket should stop being read. */
  get full(): boolean {
    return this.queued >= INPUT_HIGH_WATER;
  }

  write(data: Buffer): void {
    if (this.closed || data.length === 0) return;
    let rest = data;
    if (this.queue.length === 0) {
      const n = this.writeNow(rest);
      if (n < 0 || n === rest.length) return;
      rest = rest.subarray(n);
    }
    // A copy: a view would keep the client's whole socket read alive with it.
    this.queue.push(Buffer.from(rest));
    this.queued += rest.length;
    this.scheduleRetry();
  }

  /** The pty is gone or going: what waits will never be read. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.discard();
  }

  /** Bytes written, or -1 when the pty can take no more input at all. */
  private writeNow(data: Buffer): number {
    const n = this.master.isOpen() ? writeToPty(this.native, this.master.fd, data) : -1;
    if (n < 0) this.discard(); // EIO and the like: the command's side is closed
    return n;
  }

  private readonly retry = (): void => {
    this.retryTimer = undefined;
    let progressed = false;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = this.writeNow(head);
      if (n < 0) return;
      if (n > 0) progressed = true;
      this.queued -= n;
      if (n < head.length) {
        this.queue[0] = head.subarray(n);
        break;
      }
      this.queue.shift();
    }
    if (this.queue.length === 0) {
      this.retryMs = FIRST_RETRY_MS;
      this.onDrained();
      return;
    }
    this.retryMs = progressed ? FIRST_RETRY_MS : Math.min(this.retryMs * 2, LAST_RETRY_MS);
    this.scheduleRetry();
  };

  private scheduleRetry(): void {
    if (!this.retryTimer && !this.closed) this.retryTimer = setTimeout(this.retry, this.retryMs);
  }

  private discard(): void {
    const had = this.queued > 0;
    this.queue.length = 0;
    this.queued = 0;
    if (had) this.onDrained();
  }
}
