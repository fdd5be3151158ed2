// "Never lock a user out": when atsr cannot give a resumable session, the
// command runs directly, attached to this terminal, and its status is ours.
import { spawnSync } from 'node:child_process';
import { ExitCode, statusFromExit } from '../cli/exit-codes.js';

export function runDirect(command: string[], warning: string): number {
  process.stderr.write(`atsr: ${warning}; running ${command[0]} directly\n`);
  const [file, ...args] = command;
  const r = spawnSync(file!, args, { stdio: 'inherit' });
  if (r.error) {
    process.stderr.write(`atsr: ${file}: ${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'command not found' : r.error.message}\n`);
    return ExitCode.commandNotFound;
  }
  return statusFromExit(r.status, r.signal);
}
