// `-e KEY`: the byte that detaches the client, as dtach takes it: a single
// character, or caret notation (^\ is 0x1c, ^? is 0x7f).
import { AtsrError, ExitCode } from '../cli/exit-codes.js';

export function parseDetachKey(spec: string, flag = '-e'): number {
  if (spec.length === 2 && spec[0] === '^') {
    const c = spec.charCodeAt(1);
    if (spec[1] === '?') return 0x7f;
    if (c >= 0x40 && c <= 0x7e) return c & 0x1f;
  }
  if (spec.length === 1 && spec.charCodeAt(0) < 0x80) return spec.charCodeAt(0);
  throw new AtsrError(`${flag} takes one character or ^X (caret notation), not '${spec}'`, ExitCode.usage);
}
