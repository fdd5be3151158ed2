// Logon (utmp) records for the session's pty, written by the system's setgid
// utempter helper, which wants the pty master on its stdin.
//
// A small sh keeps a duplicate of the master fd and runs the helper on
// request. That way the record can still be removed after the host has
// closed its own fd (the command exited), and even if the host is killed:
// the pipe then closes and the sh removes the record on its way out.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Diagnostics } from '../log/diagnostics.js';

const HELPER_PATHS = [
  '/usr/lib/x86_64-linux-gnu/utempter/utempter',
  '/usr/lib/aarch64-linux-gnu/utempter/utempter',
  '/usr/libexec/utempter/utempter',
  '/usr/lib/utempter/utempter',
  '/usr/sbin/utempter',
];

const KEEPER_SCRIPT = `
h=$1
while IFS= read -r line; do
  case $line in
    add\\ *) "$h" del <&3 2>/dev/null; "$h" add "\${line#add }" <&3 ;;
    del) break ;;
  esac
done
"$h" del <&3 2>/dev/null
`;

export function findUtempter(): string | undefined {
  return HELPER_PATHS.find((p) => existsSync(p));
}

export class UtmpRecorder {
  private keeper: ChildProcess | undefined;

  constructor(
    helper: string,
    masterFd: number,
    diag: Diagnostics,
  ) {
    this.keeper = spawn('/bin/sh', ['-c', KEEPER_SCRIPT, 'atsr-utmp', helper], {
      stdio: ['pipe', 'ignore', 'ignore', masterFd],
      detached: false,
    });
    this.keeper.on('error', (err) => diag.log(1, `utmp helper ${helper}: ${err.message}`));
    this.keeper.stdin?.on('error', () => {});
  }

  /** (Re)writes the record with the client's address. */
  record(clientAddr: string): void {
    this.keeper?.stdin?.write(`add ${clientAddr.replace(/[\r\n]/g, '') || 'localhost'}\n`);
  }

  /** Removes the record and lets the keeper exit, closing its master fd. */
  close(): void {
    this.keeper?.stdin?.end('del\n');
    this.keeper = undefined;
  }
}
