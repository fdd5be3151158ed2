// The files an sshd_config includes, as sshd reads them: each `Include`
// argument of the global part (before the first `Match`), relative to
// /etc/ssh, expanded like glob(3) in sorted order, and the files those
// include in turn. A value set in any of them is the admin's, whatever the
// file is called (an `Include DIR/*` or of one named file, not only the
// `*.conf` of a drop-in directory).
import { globSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { readIfExists } from './files.js';

/** sshd resolves relative Include paths against /etc/ssh. */
export const SSHD_CONFIG_DIR = '/etc/ssh';
/** sshd refuses deeper nesting (READCONF_MAX_DEPTH). */
const MAX_DEPTH = 16;

export const keyword = (line: string): string => /^\s*([A-Za-z]+)/.exec(line)?.[1]?.toLowerCase() ?? '';
export const argsOf = (line: string): string[] => line.trim().replace(/^[A-Za-z]+\s*=?\s*/, '').split(/\s+/).filter(Boolean);

/** The lines of a config's global part: those before its first `Match`. */
export function globalLines(text: string): string[] {
  const lines = text.split('\n');
  const firstMatch = lines.findIndex((l) => keyword(l) === 'match');
  return firstMatch < 0 ? lines : lines.slice(0, firstMatch);
}

const isRegularFile = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isFile() === true;

/** The paths one `Include` argument names, in the order sshd reads them. */
function expand(arg: string): string[] {
  const pattern = isAbsolute(arg) ? arg : join(SSHD_CONFIG_DIR, arg);
  // Byte order, as glob(3) sorts in the C locale sshd runs in.
  return globSync(pattern)
    .filter(isRegularFile)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The texts of every file the global part of `text` includes, nested includes too, in the order sshd reads them. */
export function includedTexts(text: string, depth = 0): string[] {
  if (depth >= MAX_DEPTH) return [];
  return globalLines(text)
    .filter((l) => keyword(l) === 'include')
    .flatMap(argsOf)
    .flatMap(expand)
    .flatMap((path) => {
      const included = readIfExists(path) ?? '';
      return [included, ...includedTexts(included, depth + 1)];
    });
}
