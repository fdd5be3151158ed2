// The command that gets a session back (`rezume --session NAME ...`), for
// the user to copy: rezume's options that choose how to connect, then the
// same ssh arguments as this run.
import { shellWord } from '../list/list-sessions.js';
import type { RezumeOptions } from './rezume-options.js';

export function resumeCommand(opts: RezumeOptions, name: string): string {
  const words = ['rezume', ...(opts.ssh === 'ssh' ? [] : ['--ssh', opts.ssh]), '--session', name, ...opts.sshArgs];
  return words.map(shellWord).join(' '); // shellWord writes control characters as $'\xHH'
}

/** What rezume says when it leaves a session running on the server. */
export const leftRunning = (opts: RezumeOptions, name: string): string =>
  `the session ${name} is still running on the server; get it back with: ${resumeCommand(opts, name)}`;
