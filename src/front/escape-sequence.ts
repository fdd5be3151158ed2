// ssh's escape convention, for the keys that leave: Enter, then the escape
// key (`~` unless configured otherwise), then `.`. rezume gives up waiting
// for the network with it, and a local `atsr -a`/`-r` detaches with it. A
// single control key would be taken from users who type it as data:
// MultiValue systems enter their marks with Ctrl-^, Ctrl-] and Ctrl-\. The
// escape key counts only at the start of a line (the start of an outage or
// an attach is one); typed twice it stands for itself once, and followed by
// anything else both keys are passed on, as ssh does.

export interface EscapeFeed {
  /** The keys to pass on (those before the sequence, when it completed). */
  pass: Buffer;
  /** The sequence completed. */
  escaped: boolean;
}

const isLineEnd = (b: number): boolean => b === 0x0d || b === 0x0a;

export class EscapeSequence {
  private atLineStart = true;
  /** The escape key was typed at a line start; the next key decides. */
  private escapePending = false;

  constructor(readonly escapeKey: number) {}

  /** As at the start of a line (an outage begins). */
  reset(): void {
    this.atLineStart = true;
    this.escapePending = false;
  }

  /** A pending escape key is held back until the next key says what it was. */
  feed(data: Buffer): EscapeFeed {
    // Most reads (a keystroke) hold no escape key: passed on as they came, uncopied.
    if (!this.escapePending && data.indexOf(this.escapeKey) < 0) {
      if (data.length > 0) this.atLineStart = isLineEnd(data[data.length - 1]!);
      return { pass: data, escaped: false };
    }
    const out: number[] = [];
    for (const b of data) {
      if (this.escapePending) {
        this.escapePending = false;
        if (b === 0x2e) return { pass: Buffer.from(out), escaped: true }; // '.'
        out.push(this.escapeKey);
        if (b === this.escapeKey) {
          this.atLineStart = false;
          continue;
        }
      } else if (this.atLineStart && b === this.escapeKey) {
        this.escapePending = true;
        continue;
      }
      out.push(b);
      this.atLineStart = isLineEnd(b);
    }
    return { pass: Buffer.from(out), escaped: false };
  }

  /** The escape key held back, when what it was waiting for will not come: it was data. */
  takePending(): Buffer {
    if (!this.escapePending) return Buffer.alloc(0);
    this.escapePending = false;
    this.atLineStart = false;
    return Buffer.from([this.escapeKey]);
  }

  /** How the sequence reads, for hints: `Enter ~ .`. */
  describe(): string {
    const k = this.escapeKey;
    return `Enter ${k < 0x20 ? `Ctrl-${String.fromCharCode(k + 0x40)}` : String.fromCharCode(k)} .`;
  }
}
