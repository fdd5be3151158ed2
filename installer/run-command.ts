// Runs a system command to completion and captures what it said. The
// installer never uses a shell for this: arguments are passed as they are.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface CommandResult {
  /** Exit status; null when the command could not be started or was killed. */
  status: number | null;
  stdout: string;
  stderr: string;
}

const TIMEOUT_MS = 30_000;

export function runCommand(argv: readonly string[]): CommandResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.error ? r.error.message : (r.stderr ?? '') };
}

/** The full path of `name` on PATH (or in the sbin directories root's PATH has), if any. */
export function findExecutable(name: string, extraDirs: readonly string[] = ['/usr/sbin', '/sbin']): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return undefined;
}
