// `rezume --quit-key` reuses parseDetachKey: its error must name
// --quit-key, not atsr's `-e`, an option rezume does not have.
import { describe, expect, it } from 'vitest';
import { AtsrError, ExitCode } from '../../src/cli/exit-codes.js';
import { parseRezumeOptions } from '../../src/client/rezume-options.js';

describe('rezume --quit-key', () => {
  it.each(['ab', '^1', 'nope'])('names --quit-key when refusing %j', (key) => {
    let thrown: unknown;
    try {
      parseRezumeOptions(['--quit-key', key, 'h']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AtsrError);
    expect((thrown as AtsrError).exitCode).toBe(ExitCode.usage);
    expect((thrown as AtsrError).message).toMatch(/^--quit-key /);
    expect((thrown as AtsrError).message).toContain(`'${key}'`);
  });
});
