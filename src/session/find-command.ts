// Checks that a command can be run before a session is created for it (or
// before atsr becomes it), so that a typo is one clear error instead of a
// session that dies at once.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A regular file this process may execute. */
export function isExecutableFile(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findCommand(file: string, env: NodeJS.ProcessEnv): string | undefined {
  if (file.includes('/')) return isExecutableFile(file) ? file : undefined;
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const p = join(dir || '.', file);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}
