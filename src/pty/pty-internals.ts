// What we need from node-pty's UnixTerminal that its typings do not declare:
// the master fd (for the utmp helper, reading on and writing at once),
// whether its reader or writer holds anything, and closing the master (a
// real line hangup). Kept here so that no other file reaches into node-pty.
import { writeSync } from 'node:fs';
import type { IPty } from 'node-pty';

interface UnixTerminalInternals {
  fd?: number;
  /** The stream node-pty reads the master with. */
  _socket?: { readableLength: number; readableFlowing: boolean | null };
  /** node-pty's writer: writes on the thread pool, queueing what the pty cannot take yet. */
  _writeStream?: { _writeQueue?: unknown[] };
  destroy?: () => void;
}

export function ptyMasterFd(pty: IPty): number | undefined {
  return (pty as unknown as UnixTerminalInternals).fd;
}

/** Closes the master side; node-pty then also sends SIGHUP to the command. */
export function closePtyMaster(pty: IPty): void {
  const t = pty as unknown as UnixTerminalInternals;
  if (t.destroy) t.destroy();
  else pty.kill('SIGHUP');
}

/**
 * Whether node-pty has handed out everything it read from the master (its
 * stream flows and holds nothing): only then can the master be read directly
 * without overtaking output.
 */
export function ptyReaderIdle(pty: IPty): boolean {
  const s = (pty as unknown as UnixTerminalInternals)._socket;
  return s !== undefined && s.readableFlowing === true && s.readableLength === 0;
}

/**
 * Writes to the master now, on this thread, when node-pty has nothing queued:
 * its own write goes through the thread pool, one more hand-off (and wake-up)
 * on every keystroke's path. What the pty cannot take now (EAGAIN, a short
 * write) goes to node-pty's queue, behind which later writes then wait.
 */
export function writePty(pty: IPty, data: Buffer): void {
  const t = pty as unknown as UnixTerminalInternals;
  let written = 0;
  if (t.fd !== undefined && t._writeStream?._writeQueue?.length === 0) {
    try {
      written = writeSync(t.fd, data);
    } catch {
      // EAGAIN: the pty is full; node-pty retries.
    }
  }
  if (written < data.length) pty.write(data.subarray(written));
}
