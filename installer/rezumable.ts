// bin/rezumable from templates/rezumable.sh. The tunables at its top are the
// admin's: an upgrade carries their current values (text as written) into
// the new template, and only the rest of the file is replaced.
import { DEFAULT_BUFFER_SIZE } from '../src/cli/options.js';
import { INSTALLED_SOCKET_ROOT, OLD_INSTALLED_SOCKET_ROOT } from '../src/session/socket-dir.js';
import { shQuote } from '../src/shell-quote.js';

export const TUNABLES = ['ORPHAN_TIMEOUT', 'BUFFER_SIZE', 'SOCKET_ROOT', 'EXTRA'] as const;
export type Tunable = (typeof TUNABLES)[number];
/** Each tunable's right-hand side, as sh source text. */
export type TunableValues = Record<Tunable, string>;

export const DEFAULT_ORPHAN_MINUTES = 60;

export function defaultTunables(prefix: string, orphanMinutes: number): TunableValues {
  return {
    ORPHAN_TIMEOUT: String(orphanMinutes),
    BUFFER_SIZE: String(DEFAULT_BUFFER_SIZE),
    SOCKET_ROOT: shQuote(`${prefix}/${INSTALLED_SOCKET_ROOT}`),
    EXTRA: "''",
  };
}

/** The tunables set in an existing rezumable (`NAME=value` lines). */
export function readTunables(script: string): Partial<TunableValues> {
  const found: Partial<TunableValues> = {};
  for (const line of script.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m && (TUNABLES as readonly string[]).includes(m[1]!)) found[m[1] as Tunable] = m[2]!;
  }
  return found;
}

/**
 * What an upgrade keeps of an existing rezumable: every tunable as written,
 * except a socket root left at the older installs' default PREFIX/run,
 * which moves to PREFIX/session with the install (one the admin changed
 * is kept).
 */
export function carriedTunables(script: string, prefix: string): Partial<TunableValues> {
  const { SOCKET_ROOT, ...rest } = readTunables(script);
  const oldDefault = SOCKET_ROOT === shQuote(`${prefix}/${OLD_INSTALLED_SOCKET_ROOT}`);
  return SOCKET_ROOT === undefined || oldDefault ? rest : { ...rest, SOCKET_ROOT };
}

/** The orphan timeout an existing rezumable sets, when it is a plain number. */
export function orphanMinutesOf(values: Partial<TunableValues>): number | undefined {
  const v = values.ORPHAN_TIMEOUT?.replace(/^['"]|['"]$/g, '');
  return v !== undefined && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
}

export function renderRezumable(template: string, prefix: string, version: string, values: TunableValues): string {
  const fill: Record<string, string> = { PREFIX: prefix, VERSION: version, ...values };
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => fill[name] ?? whole);
}
