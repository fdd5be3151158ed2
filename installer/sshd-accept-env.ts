// Where `AcceptEnv ATSR_ID` goes in an sshd_config so that it applies to
// every connection: a drop-in file when the global part of the config
// includes a directory of them and a running (or the system's) sshd reads the
// config, else the config itself, before the first `Match` (or at its end). The exact name, never a wildcard (CVE-2014-2532).
import { basename, dirname, isAbsolute, join } from 'node:path';

export const ACCEPT_ENV_LINE = 'AcceptEnv ATSR_ID';
export const MARKER_LINE = '# Added by atsr: lets the session ID of the atsr resume client through (one exact name, no wildcard).';
export const ADDED_BLOCK = `${MARKER_LINE}\n${ACCEPT_ENV_LINE}\n`;

/** The file's own line ending: CRLF when its lines end so, else LF (sshd reads both). */
export const lineEndingOf = (text: string): '\r\n' | '\n' => (/\r\n/.test(text) ? '\r\n' : '\n');

/** The two added lines, with the file's own line ending. */
export const addedBlock = (eol: '\r\n' | '\n'): string => ADDED_BLOCK.replaceAll('\n', eol);
export const DROP_IN_NAME = 'atsr.conf';

/** sshd resolves relative Include paths against /etc/ssh. */
const SSHD_CONFIG_DIR = '/etc/ssh';

export type AcceptEnvPlan =
  | { kind: 'covered'; why: string; /** A warning when what covers ATSR_ID is a wildcard. */ wildcard?: string }
  | { kind: 'edit-main'; path: string; before: string; after: string; preview: string }
  | { kind: 'drop-in'; path: string; content: string; includedBy: string; preview: string };

/** Whether an sshd pattern (`*`, `?`) matches the name. */
export function sshdPatternMatches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(name);
}

/** The AcceptEnv patterns `sshd -T` reports, one per `acceptenv X` line. */
export function effectiveAcceptEnv(sshdT: string): string[] {
  return sshdT
    .split('\n')
    .map((l) => /^acceptenv\s+(.+)$/i.exec(l.trim())?.[1])
    .filter((p): p is string => p !== undefined)
    .flatMap((p) => p.split(/\s+/));
}

const keyword = (line: string): string => /^\s*([A-Za-z]+)/.exec(line)?.[1]?.toLowerCase() ?? '';
const argsOf = (line: string): string[] => line.trim().replace(/^[A-Za-z]+\s*=?\s*/, '').split(/\s+/).filter(Boolean);

/** The drop-in the global part of the config (before any `Match`) includes: DIR/atsr.conf, for an `Include DIR/*.conf`. */
export function dropInFor(text: string): { path: string; includedBy: string } | undefined {
  const lines = text.split('\n');
  const firstMatch = lines.findIndex((l) => keyword(l) === 'match');
  for (const line of firstMatch < 0 ? lines : lines.slice(0, firstMatch)) {
    if (keyword(line) !== 'include') continue;
    for (const arg of argsOf(line)) {
      const pattern = isAbsolute(arg) ? arg : join(SSHD_CONFIG_DIR, arg);
      if (/[*?]/.test(dirname(pattern)) || !sshdPatternMatches(basename(pattern), DROP_IN_NAME)) continue;
      return { path: join(dirname(pattern), DROP_IN_NAME), includedBy: line.trim() };
    }
  }
  return undefined;
}

/**
 * The plan when sshd accepts ATSR_ID already, else undefined.
 * @param accepted  the patterns sshd already accepts globally (from `sshd -T`)
 */
export function acceptEnvCoverage(path: string, accepted: readonly string[]): Extract<AcceptEnvPlan, { kind: 'covered' }> | undefined {
  const covering = accepted.find((p) => sshdPatternMatches(p, 'ATSR_ID'));
  if (covering === undefined) return undefined;
  if (covering === 'ATSR_ID') return { kind: 'covered', why: `${path} already accepts ATSR_ID` };
  return {
    kind: 'covered',
    why: `${path} already accepts ATSR_ID through the pattern '${covering}'`,
    wildcard:
      `AcceptEnv '${covering}' in ${path} is a wildcard: clients may set every variable it matches, and one that changes ` +
      `what a login runs is the attack of CVE-2014-2532. Consider exact names instead, e.g. 'AcceptEnv LANG LC_* ATSR_ID'`,
  };
}

/**
 * Where the line goes in a config that does not accept ATSR_ID yet.
 * @param path  the sshd_config
 * @param text  its contents
 * @param useDropIn  whether an included drop-in directory may be used: only
 *   when a running (or the system's) sshd reads this file. A drop-in
 *   directory is shared: a copy of the system's config includes the system's
 *   own, and writing there would change the live server.
 */
export function placeAcceptEnv(path: string, text: string, useDropIn: boolean): Exclude<AcceptEnvPlan, { kind: 'covered' }> {
  const dropIn = useDropIn ? dropInFor(text) : undefined;
  if (dropIn !== undefined) {
    return {
      kind: 'drop-in',
      path: dropIn.path,
      content: ADDED_BLOCK, // a new file of atsr's own: LF
      includedBy: dropIn.includedBy,
      preview: `${dropIn.path} (new file, read by '${dropIn.includedBy}' in ${path}):\n+ ${MARKER_LINE}\n+ ${ACCEPT_ENV_LINE}\n`,
    };
  }
  const eol = lineEndingOf(text);
  const [marker, acceptEnv] = [MARKER_LINE, ACCEPT_ENV_LINE].map((l) => (eol === '\r\n' ? `${l}\r` : l));
  const lines = text.split('\n');
  const firstMatch = lines.findIndex((l) => keyword(l) === 'match');

  let after: string;
  let at: number; // index of the first added line in the new file
  if (firstMatch >= 0) {
    at = firstMatch;
    after = [...lines.slice(0, firstMatch), marker, acceptEnv, ...lines.slice(firstMatch)].join('\n');
  } else {
    const sep = text === '' || text.endsWith('\n') ? '' : eol;
    after = text + sep + addedBlock(eol);
    at = (text + sep).split('\n').length - 1;
  }
  return { kind: 'edit-main', path, before: text, after, preview: previewAround(after.split('\n'), at, path, firstMatch >= 0) };
}

/** The added lines with two lines of context either side, as a diff would show them. */
function previewAround(lines: string[], at: number, path: string, beforeMatch: boolean): string {
  const where = beforeMatch ? 'before the first Match block, so it applies to every connection' : 'at the end (there is no Match block)';
  const out = [`${path}, line ${at + 1}, ${where}:`];
  for (let i = Math.max(0, at - 2); i < Math.min(lines.length, at + 4); i++) {
    if (i === lines.length - 1 && lines[i] === '') break;
    out.push(`${i === at || i === at + 1 ? '+' : ' '} ${lines[i]!.replace(/\r$/, '')}`);
  }
  return out.join('\n') + '\n';
}
