// Nothing a session says reaches an admin's terminal raw (docs/security.md):
// control characters (C0, DEL, C1, so ESC and CSI too) and the invisible
// format characters (bidi overrides, zero-width) are written as escapes.
// JSON.stringify escapes C0 only, so JSON output gets the rest as \uXXXX.

const UNSAFE = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;
/** What JSON.stringify leaves raw (it escapes C0 in strings; C0 outside them is its own layout). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** `\xHH`, `\uHHHH` or `\UHHHHHHHH`: what bash's `$'...'` reads back as the same character. */
function visible(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp < 0x80 ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
}

/** Text safe to print on a terminal. */
export const terminalSafe = (s: string): string => s.replace(UNSAFE, visible);

export const hasUnsafe = (s: string): boolean => s.search(UNSAFE) >= 0;

/** `$'...'`, as bash quotes, for a shell word with characters a terminal would act on. */
export function ansiCQuoted(word: string): string {
  return `$'${word.replace(/[\\']/g, (c) => `\\${c}`).replace(UNSAFE, visible)}'`;
}

/** JSON text with every unsafe character as a \uXXXX escape (still the same JSON value). */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (ch) =>
    [...Array(ch.length).keys()].map((i) => `\\u${hex(ch.charCodeAt(i), 4)}`).join(''),
  );
}
