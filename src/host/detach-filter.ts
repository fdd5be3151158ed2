// A v2 client's own way out, applied by the host to its input: the detach
// key (`-e`), or ssh's escape sequence Enter ~ . (src/front/escape-sequence.ts).
import { DETACH_ESCAPE_KEY, type DetachKeys } from '../front/detach-key.js';
import { EscapeSequence } from '../front/escape-sequence.js';

export interface DetachFeed {
  /** The keys to pass on: all of them, or those before the detach. */
  pass: Buffer;
  detached: boolean;
}

export class DetachFilter {
  private readonly escape: EscapeSequence | undefined;

  constructor(private readonly rule: DetachKeys) {
    this.escape = rule.kind === 'escape' ? new EscapeSequence(DETACH_ESCAPE_KEY) : undefined;
  }

  feed(data: Buffer): DetachFeed {
    if (this.rule.kind === 'key') {
      const at = data.indexOf(this.rule.key);
      return at < 0 ? { pass: data, detached: false } : { pass: data.subarray(0, at), detached: true };
    }
    if (!this.escape) return { pass: data, detached: false };
    const fed = this.escape.feed(data);
    return { pass: fed.pass, detached: fed.escaped };
  }
}
