// The two things we need from node-pty's UnixTerminal that its typings do not
// declare: the master fd (for the utmp helper) and closing the master (a real
// line hangup). Kept here so that no other file reaches into node-pty.
import type { IPty } from 'node-pty';

interface UnixTerminalInternals {
  fd?: number;
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
