// What we need from node-pty's UnixTerminal that its typings do not declare:
// the master fd (for the utmp helper, reading on, and input, which the host
// writes itself: src/host/pty-input.ts), whether its reader holds anything,
// and closing the master (a real line hangup). Kept here so that no other
// file reaches into node-pty.
import type { IPty } from 'node-pty';

interface UnixTerminalInternals {
  fd?: number;
  /** The stream node-pty reads the master with. */
  _socket?: { readableLength: number; readableFlowing: boolean | null; destroyed: boolean };
  destroy?: () => void;
}

export function ptyMasterFd(pty: IPty): number | undefined {
  return (pty as unknown as UnixTerminalInternals).fd;
}

/**
 * Whether node-pty still holds the master open. It closes it when the
 * command's side hangs up (EIO), before the exit is reported; after that its
 * descriptor number may already belong to another file.
 */
export function ptyMasterOpen(pty: IPty): boolean {
  const s = (pty as unknown as UnixTerminalInternals)._socket;
  return s !== undefined && !s.destroyed;
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
