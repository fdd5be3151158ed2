// How a user detaches: `-e KEY`, a byte, as dtach takes it (a single
// character, or caret notation: ^? is 0x7f); by default for -a and -r,
// ssh's escape sequence Enter ~ ., which no MultiValue mark collides with;
// and not at all for -t/-c, whose stream stays transparent (rezumable).
import { AtsrError, ExitCode } from '../cli/exit-codes.js';

export type DetachKeys = { kind: 'key'; key: number } | { kind: 'escape' } | { kind: 'none' };

/** The escape key of the default sequence, as ssh's. */
export const DETACH_ESCAPE_KEY = 0x7e;

export function parseDetachKey(spec: string, flag = '-e'): number {
  if (spec.length === 2 && spec[0] === '^') {
    const c = spec.charCodeAt(1);
    if (spec[1] === '?') return 0x7f;
    if (c >= 0x40 && c <= 0x7e) return c & 0x1f;
  }
  if (spec.length === 1 && spec.charCodeAt(0) < 0x80) return spec.charCodeAt(0);
  throw new AtsrError(`${flag} takes one character or ^X (caret notation), not '${spec}'`, ExitCode.usage);
}
