// The files an sshd_config includes, as sshd reads them: each `Include`
// argument of the global part (before the first `Match`), its words split as
// sshd splits them (quotes, backslashes, a `#` comment), relative to
// /etc/ssh, expanded as glob(3) expands them for sshd (`*`, `?`, `[...]`;
// no braces, no `**`, a leading dot matched only by a dot), and the files
// those include in turn, each file read once. A value set in any of them is
// the admin's, whatever the file is called.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readIfExists } from './files.js';

/** sshd resolves relative Include paths against /etc/ssh. */
export const SSHD_CONFIG_DIR = '/etc/ssh';
/** sshd refuses deeper nesting (READCONF_MAX_DEPTH). */
const MAX_DEPTH = 16;

export const keyword = (line: string): string => /^\s*([A-Za-z]+)/.exec(line)?.[1]?.toLowerCase() ?? '';

/**
 * A line's arguments after its keyword, split as OpenSSH's argv_split does
 * for sshd: whitespace between words, quotes grouping, `\` before a quote,
 * a backslash or a space taken literally, and a word starting with `#`
 * ending the line. Unbalanced quotes: none (sshd rejects the line).
 */
export function argsOf(line: string): string[] {
  const s = line.trim().replace(/^[A-Za-z]+\s*=?\s*/, '');
  const words: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === '\t') {
      i++;
      continue;
    }
    if (s[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < s.length; i++) {
      const c = s[i]!;
      const next = s[i + 1];
      if (c === '\\' && (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' '))) word += s[++i];
      else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else word += c;
    }
    if (quote !== '') return [];
    words.push(word);
  }
  return words;
}

/** The lines of a config's global part: those before its first `Match`. */
export function globalLines(text: string): string[] {
  const lines = text.split('\n');
  const firstMatch = lines.findIndex((l) => keyword(l) === 'match');
  return firstMatch < 0 ? lines : lines.slice(0, firstMatch);
}

const isRegularFile = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isFile() === true;
const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** One path component of a glob(3) pattern as a RegExp, or undefined when it has no wildcard (`\x` is x either way). */
function componentPattern(component: string): { re: RegExp | undefined; literal: string } {
  let re = '';
  let literal = '';
  let wild = false;
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '\\' && i + 1 < component.length) {
      literal += component[++i];
      re += escapeRegExp(component[i]!);
    } else if (c === '*' || c === '?') {
      wild = true;
      re += c === '*' ? '.*' : '.';
    } else if (c === '[' && component.indexOf(']', i + 2) > 0) {
      const close = component.indexOf(']', i + 2);
      let body = component.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      wild = true;
      re += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else {
      literal += c;
      re += escapeRegExp(c);
    }
  }
  return { re: wild ? new RegExp(`^${re}$`, 's') : undefined, literal };
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch {
    return []; // not a directory, or unreadable: glob(3) matches nothing there
  }
}

/** The files one absolute pattern names, as glob(3) with no flags finds them (a name starting with `.` only for a pattern that does). */
function expand(pattern: string): string[] {
  let paths = ['/'];
  for (const component of pattern.split('/').filter((c) => c !== '')) {
    const { re, literal } = componentPattern(component);
    if (re === undefined) {
      paths = paths.map((p) => join(p, literal));
      continue;
    }
    const dotOk = component.startsWith('.') || component.startsWith('\\.');
    paths = paths.flatMap((p) => names(p).filter((n) => re.test(n) && (dotOk || !n.startsWith('.'))).map((n) => join(p, n)));
  }
  return paths.filter(isRegularFile);
}

/** The texts of every file the global part of `text` includes, nested includes too, each file once. */
export function includedTexts(text: string, read = new Set<string>(), depth = 0): string[] {
  if (depth >= MAX_DEPTH) return [];
  const texts: string[] = [];
  for (const arg of globalLines(text).filter((l) => keyword(l) === 'include').flatMap(argsOf)) {
    // As sshd: a path not starting with '/' or '~' is under /etc/ssh; '~' is not expanded.
    const pattern = arg.startsWith('/') ? arg : arg.startsWith('~') ? undefined : join(SSHD_CONFIG_DIR, arg);
    for (const path of pattern === undefined ? [] : expand(pattern)) {
      if (read.has(path)) continue;
      read.add(path);
      const included = readIfExists(path) ?? '';
      texts.push(included, ...includedTexts(included, read, depth + 1));
    }
  }
  return texts;
}
