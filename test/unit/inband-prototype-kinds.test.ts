// NOT COMMITTED: fails against src/inband/inband-message.ts (reported bug).
// parseInband checks the kind with `kind in NUMBER_FIELDS`, which is true for
// Object.prototype's names; NUMBER_FIELDS[kind] is then a function and the
// `for...of` over it throws a TypeError instead of returning undefined. The
// rezume client scans all session output, so a program that prints such a
// string would crash it.
import { describe, expect, it } from 'vitest';
import { parseInband } from '../../src/inband/inband-message.js';
import { InbandScanner } from '../../src/inband/inband-scanner.js';

const names = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];

describe('kinds named like Object.prototype members', () => {
  it.each(names)('parseInband(%j) is undefined, not a TypeError', (kind) => {
    expect(parseInband(kind)).toBeUndefined();
  });

  it.each(names)('the scanner reports %j as malformed bytes', (kind) => {
    const bytes = Buffer.from(`\x1b_atsr:1;${kind}\x1b\\`, 'latin1');
    expect(new InbandScanner().push(bytes)).toEqual([{ malformed: bytes }]);
  });
});
