// The escape sequence (Enter ~ .) of rezume's give-up and a local attach's
// detach: which keys pass on as data, and when it completes.
import { describe, expect, it } from 'vitest';
import { EscapeSequence } from '../../src/front/escape-sequence.js';

const TILDE = 0x7e;

/** Feeds each chunk; the bytes passed on, then '|quit' when the sequence completed. */
function run(chunks: string[], key = TILDE): string {
  const seq = new EscapeSequence(key);
  let passed = '';
  for (const c of chunks) {
    const fed = seq.feed(Buffer.from(c, 'latin1'));
    passed += fed.pass.toString('latin1');
    if (fed.escaped) return `${passed}|quit`;
  }
  return passed + seq.takePending().toString('latin1');
}

describe('EscapeSequence', () => {
  it.each([
    [['~.'], '|quit'], // the outage starts a line
    [['abc\r~.'], 'abc\r|quit'],
    [['abc\n~', '.'], 'abc\n|quit'], // split over reads
    [['a~.'], 'a~.'], // not at a line start
    [['~x'], '~x'],
    [['~~.'], '~.'], // doubled: one ~ is data
    [['~'], '~'], // held back, then handed over when the outage ends
    [['\x1d\x1e\x1c\r'], '\x1d\x1e\x1c\r'], // MultiValue marks are data
    [['\x1d.'], '\x1d.'],
    // Reads without the key pass whole, and where the line stands carries over.
    [['abc\r', '~.'], 'abc\r|quit'],
    [['abc', '~.'], 'abc~.'],
    [['\r', 'x', '~.'], '\rx~.'],
    [['\n', '', '~', '.'], '\n|quit'],
  ])('%j -> %j', (chunks, expected) => {
    expect(run(chunks)).toBe(expected);
  });

  it('uses the configured key, and after reset a line starts again', () => {
    expect(run(['\r^.'], 0x5e)).toBe('\r|quit');
    const seq = new EscapeSequence(TILDE);
    expect(seq.feed(Buffer.from('x'))).toEqual({ pass: Buffer.from('x'), escaped: false });
    seq.reset();
    expect(seq.feed(Buffer.from('~.'))).toEqual({ pass: Buffer.alloc(0), escaped: true });
    expect(seq.describe()).toBe('Enter ~ .');
    expect(new EscapeSequence(0x1d).describe()).toBe('Enter Ctrl-] .');
  });
});
