// sshd's command line read as sshd's own getopt reads it: which file a
// listener reads, and which sshd runs are no listener at all.
import { describe, expect, it } from 'vitest';
import { parseSshdArgs } from '../../installer/sshd-listeners.js';

describe('parseSshdArgs', () => {
  it('finds -f however it is written, and the last one wins', () => {
    expect(parseSshdArgs(['-D', '-f', '/a']).config).toBe('/a');
    expect(parseSshdArgs(['-f/a']).config).toBe('/a');
    expect(parseSshdArgs(['-Df', '/a']).config).toBe('/a');
    expect(parseSshdArgs(['-f', '/a', '-f', '/b']).config).toBe('/b');
  });

  it('does not take an option argument for -f', () => {
    expect(parseSshdArgs(['-o', '-f', '-D']).config).toBeUndefined();
    expect(parseSshdArgs(['-E', '/log', '-o', 'Port=2', '-D']).config).toBeUndefined();
    expect(parseSshdArgs(['-E', '/log', '-f', 'rel/cfg']).config).toBe('rel/cfg');
  });

  it('stops at the first non-option, as a rewritten title has "[listener] ..." after them', () => {
    expect(parseSshdArgs(['-D', '[listener]', '-f', '/a']).config).toBeUndefined();
  });

  it('reports test and inetd modes', () => {
    expect([...parseSshdArgs(['-t', '-f', '/a']).flags]).toEqual(['t']);
    expect([...parseSshdArgs(['-DT']).flags]).toEqual(['D', 'T']);
    expect([...parseSshdArgs(['-i']).flags]).toEqual(['i']);
  });
});
