// Where atsr's block goes in an sshd_config so that it applies to every
// connection: a drop-in file when the global part of the config includes a
// directory of them and a running (or the system's) sshd reads the config,
// else the config itself, before the first `Match` (or at its end). The block
// is `AcceptEnv ATSR_ID` (the exact name, never a wildcard: CVE-2014-2532)
// and, if chosen, server-to-client keepalives, each part under its marker
// comment; it is placed, checked, logged and undone as one unit.
import { basename, dirname, isAbsolute, join } from 'node:path';
import { readIfExists } from './files.js';
import { argsOf, globalLines, keyword, SSHD_CONFIG_DIR } from './sshd-includes.js';

export const ACCEPT_ENV_LINE = 'AcceptEnv ATSR_ID';
export const MARKER_LINE = '# Added by atsr: lets the session ID of the atsr resume client through (one exact name, no wildcard).';

/** The file's own line ending: CRLF when its lines end so, else LF (sshd reads both). */
export const lineEndingOf = (text: string): '\r\n' | '\n' => (/\r\n/.test(text) ? '\r\n' : '\n');

export const KEEPALIVE_MARKER = '# Added by atsr: server-to-client keepalives, so that sshd ends broken connections sooner.';
export const KEEPALIVE_INTERVAL_LINE = 'ClientAliveInterval 30';
export const KEEPALIVE_COUNT_LINE = 'ClientAliveCountMax 2';
/** sshd's defaults: a value other than these was chosen by the admin, and is kept. */
const DEFAULT_INTERVAL = '0';
const DEFAULT_COUNT_MAX = '3';

/** The settings lines atsr adds, each part under its marker comment, with the given line ending. */
export function atsrBlock(settings: readonly string[], eol: '\r\n' | '\n' = '\n'): string {
  const acceptEnv = settings.filter((s) => s === ACCEPT_ENV_LINE);
  const keepalive = settings.filter((s) => s !== ACCEPT_ENV_LINE);
  const lines = [...(acceptEnv.length > 0 ? [MARKER_LINE, ...acceptEnv] : []), ...(keepalive.length > 0 ? [KEEPALIVE_MARKER, ...keepalive] : [])];
  return lines.map((l) => l + eol).join('');
}

/** Every block an install may have written, longest first (a shorter one is part of a longer one). */
export const POSSIBLE_SETTINGS: readonly (readonly string[])[] = [
  [ACCEPT_ENV_LINE, KEEPALIVE_INTERVAL_LINE, KEEPALIVE_COUNT_LINE],
  [ACCEPT_ENV_LINE, KEEPALIVE_INTERVAL_LINE],
  [KEEPALIVE_INTERVAL_LINE, KEEPALIVE_COUNT_LINE],
  [ACCEPT_ENV_LINE],
  [KEEPALIVE_INTERVAL_LINE],
];

/** The settings of the atsr block in this text, if it holds one (in its own line endings). */
export const atsrSettingsIn = (text: string): readonly string[] | undefined =>
  POSSIBLE_SETTINGS.find((s) => text.includes(atsrBlock(s, lineEndingOf(text))));

/** The settings as the plan and the uninstall name them: 'AcceptEnv ATSR_ID', 'ClientAliveInterval 30'. */
export const quoted = (settings: readonly string[]): string => settings.map((s) => `'${s}'`).join(', ');

export interface KeepaliveChoice {
  /** The keepalive lines to add: none when the admin set ClientAliveInterval. */
  lines: string[];
  /** What the admin set and is kept, said in the plan. */
  kept?: string;
}

/**
 * Which keepalive lines may be added: never one over a value the admin chose.
 * @param sshdT  what `sshd -T` shows: a value other than sshd's default is the admin's
 * @param written  the keywords the admin's files set globally (globalKeywords): an explicit default is the admin's too
 */
export function keepaliveFor(path: string, sshdT: string, written: ReadonlySet<string>): KeepaliveChoice {
  const value = (name: string): string | undefined => new RegExp(`^${name}\\s+(\\S+)$`, 'im').exec(sshdT)?.[1];
  const interval = value('clientaliveinterval') ?? DEFAULT_INTERVAL;
  const countMax = value('clientalivecountmax') ?? DEFAULT_COUNT_MAX;
  if (interval !== DEFAULT_INTERVAL || written.has('clientaliveinterval')) {
    return { lines: [], kept: `${path} sets ClientAliveInterval ${interval} (ClientAliveCountMax ${countMax}) already: kept, no keepalive lines added` };
  }
  if (countMax !== DEFAULT_COUNT_MAX || written.has('clientalivecountmax')) {
    return { lines: [KEEPALIVE_INTERVAL_LINE], kept: `${path} sets ClientAliveCountMax ${countMax} already: kept, only '${KEEPALIVE_INTERVAL_LINE}' is offered` };
  }
  return { lines: [KEEPALIVE_INTERVAL_LINE, KEEPALIVE_COUNT_LINE] };
}
export const DROP_IN_NAME = 'atsr.conf';

/** The settings of a file that is exactly atsr's block (as a drop-in is written), else undefined. */
function atsrSettingsOf(text: string): string[] | undefined {
  const settings = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return settings.length > 0 && text === atsrBlock(settings) ? settings : undefined;
}

export type AcceptEnvPlan =
  | { kind: 'covered'; why: string; /** A warning when what covers ATSR_ID is a wildcard. */ wildcard?: string }
  | { kind: 'edit-main'; path: string; settings: readonly string[]; before: string; after: string; preview: string }
  | {
      kind: 'drop-in';
      path: string;
      settings: readonly string[];
      content: string;
      /** The file as the plan found it (atsr's own block from an earlier run), or undefined: none was there. */
      existing: string | undefined;
      includedBy: string;
      preview: string;
    };

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

/** The keywords the global part (before any `Match`) of these config texts sets, lower-cased. */
export function globalKeywords(texts: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const text of texts) for (const line of globalLines(text)) found.add(keyword(line));
  return found;
}

/** The drop-in the global part of the config (before any `Match`) includes: DIR/atsr.conf, for an `Include DIR/*.conf`. */
export function dropInFor(text: string): { path: string; includedBy: string } | undefined {
  for (const line of globalLines(text)) {
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
 * Where the block goes in the config.
 * @param path  the sshd_config
 * @param text  its contents
 * @param useDropIn  whether an included drop-in directory may be used: only
 *   when a running (or the system's) sshd reads this file. A drop-in
 *   directory is shared: a copy of the system's config includes the system's
 *   own, and writing there would change the live server.
 * @param settings  the lines to add (AcceptEnv and/or keepalives)
 */
export function placeBlock(path: string, text: string, useDropIn: boolean, settings: readonly string[]): Exclude<AcceptEnvPlan, { kind: 'covered' }> {
  const dropIn = useDropIn ? dropInFor(text) : undefined;
  const existing = dropIn === undefined ? undefined : readIfExists(dropIn.path);
  const earlier = existing === undefined ? [] : atsrSettingsOf(existing);
  // A drop-in of that name that is not atsr's own block is the admin's: it is left alone, and the block goes into the main file.
  if (dropIn !== undefined && earlier !== undefined) {
    // An earlier run's block: its lines are kept beside the new ones.
    const merged = [...new Set([...earlier, ...settings])];
    const content = atsrBlock(merged); // a file of atsr's own: LF
    return {
      kind: 'drop-in',
      path: dropIn.path,
      settings: merged,
      content,
      existing,
      includedBy: dropIn.includedBy,
      preview: `${dropIn.path} (${existing === undefined ? 'new file' : "atsr's file, rewritten"}, read by '${dropIn.includedBy}' in ${path}):\n${content.split('\n').slice(0, -1).map((l) => `+ ${l}\n`).join('')}`,
    };
  }
  const eol = lineEndingOf(text);
  const block = atsrBlock(settings, eol);
  const added = block.split('\n').slice(0, -1);
  const lines = text.split('\n');
  const firstMatch = lines.findIndex((l) => keyword(l) === 'match');

  let after: string;
  let at: number; // index of the first added line in the new file
  if (firstMatch >= 0) {
    at = firstMatch;
    after = [...lines.slice(0, firstMatch), ...added, ...lines.slice(firstMatch)].join('\n');
  } else {
    const sep = text === '' || text.endsWith('\n') ? '' : eol;
    after = text + sep + block;
    at = (text + sep).split('\n').length - 1;
  }
  return { kind: 'edit-main', path, settings, before: text, after, preview: previewAround(after.split('\n'), at, added.length, path, firstMatch >= 0) };
}

/** The added lines with two lines of context either side, as a diff would show them. */
function previewAround(lines: string[], at: number, count: number, path: string, beforeMatch: boolean): string {
  const where = beforeMatch ? 'before the first Match block, so it applies to every connection' : 'at the end (there is no Match block)';
  const out = [`${path}, line ${at + 1}, ${where}:`];
  for (let i = Math.max(0, at - 2); i < Math.min(lines.length, at + count + 2); i++) {
    if (i === lines.length - 1 && lines[i] === '') break;
    out.push(`${i >= at && i < at + count ? '+' : ' '} ${lines[i]!.replace(/\r$/, '')}`);
  }
  return out.join('\n') + '\n';
}
