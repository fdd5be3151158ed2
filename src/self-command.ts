// How to run this program again (for the session host): the executable
// itself when it is a single-executable application, else node and the bundle.
import { isSea } from 'node:sea';

export function selfCommand(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, process.argv[1]!];
}
