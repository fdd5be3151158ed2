// How to run this program again (for the session host): the executable
// itself when it is a single-executable application (its Node options are
// built in), else node with this process's Node options and the bundle.
import { isSea } from 'node:sea';

export function selfCommand(): string[] {
  return isSea() ? [process.execPath] : [process.execPath, ...process.execArgv, process.argv[1]!];
}
