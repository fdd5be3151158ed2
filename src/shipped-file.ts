// Files shipped beside the executable (pty.node, rezume-connect): looked for
// beside the real executable, then beside the bundle (`node dist/atsr.cjs`).
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

export function shippedFileDirs(): string[] {
  return [dirname(process.execPath), __dirname];
}

/** The first `name` in shippedFileDirs() that `mode` (fs.constants) allows, if any. */
export function findShippedFile(name: string, mode = constants.F_OK): string | undefined {
  for (const dir of shippedFileDirs()) {
    const file = join(dir, name);
    try {
      accessSync(file, mode);
      return file;
    } catch {
      // Not in this one.
    }
  }
  return undefined;
}
