// `atsr -l` output: a header line, then one aligned line per session, at a
// fixed `now`; `no sessions` when there are none.
import { describe, expect, it } from 'vitest';
import { type ListedSession, formatSessions } from '../../src/list/list-sessions.js';
import { terminalSafe, terminalSafeJson } from '../../src/list/terminal-safe.js';

const NOW = new Date('2026-11-25T12:00:00.000Z');

const attached: ListedSession = {
  socket: '/home/alice/.atsr/work',
  name: 'work',
  pid: 4242,
  owner: 'alice',
  uid: 1000,
  command: ['bash', '-l'],
  createdAt: '2026-11-25T10:00:00.000Z',
  attached: true,
  viewers: 1,
  detachedSince: null,
  clientAddr: '192.0.2.7',
  exited: false,
  exitStatus: null,
  out: 5000,
  in: 300,
  bufferSize: 262144,
};

const exited: ListedSession = {
  ...attached,
  socket: '/home/alice/.atsr/build-1',
  name: 'build-1',
  pid: 77,
  command: ['sh', '-c', 'make && echo done'],
  createdAt: '2026-11-25T09:30:05.123Z',
  attached: false,
  viewers: 0,
  detachedSince: '2026-11-25T11:58:30.000Z',
  clientAddr: '',
  exited: true,
  exitStatus: 2,
};

const HEADER = '  NAME    PID  OWNER CREATED              DETACHED       FROM      COMMAND\n';

/** The line of a lone session, below the header (whose widths it is aligned to). */
function rowOf(s: ListedSession): string {
  const [header, row, ...more] = formatSessions([s], NOW).split('\n');
  expect(header).toMatch(/^ {2}NAME +PID +OWNER +CREATED +DETACHED +FROM +COMMAND$/);
  expect(more).toEqual(['']);
  return `${row}\n`;
}

describe('formatSessions', () => {
  it('says no sessions, with no header, when there are none', () => {
    expect(formatSessions([], NOW)).toBe('no sessions\n');
  });

  it('aligns an attached and a detached, exited session', () => {
    expect(formatSessions([attached, exited], NOW)).toBe(
      HEADER +
        '* work    4242 alice 2026-11-25 10:00:00Z -              192.0.2.7 bash -l\n' +
        "  build-1 77   alice 2026-11-25 09:30:05Z detached 1m30s -         sh -c 'make && echo done' (exited 2)\n",
    );
  });

  it('prints a lone detached session without trailing blanks', () => {
    const s: ListedSession = { ...exited, exited: false, exitStatus: null, command: ['top'] };
    expect(formatSessions([s], NOW)).toBe(
      '  NAME    PID OWNER CREATED              DETACHED       FROM COMMAND\n' + '  build-1 77  alice 2026-11-25 09:30:05Z detached 1m30s -    top\n',
    );
  });

  it('shows - for a detached session that never had a client', () => {
    const s: ListedSession = { ...exited, detachedSince: null, exited: false, command: ['top'] };
    expect(rowOf(s)).toBe('  build-1 77  alice 2026-11-25 09:30:05Z -        -    top\n');
  });

  it.each([
    ['2026-11-25T12:00:00.000Z', '0s'],
    ['2026-11-25T12:00:30.000Z', '0s'], // a clock step backwards is not a negative time
    ['2026-11-25T11:59:00.500Z', '59s'],
    ['2026-11-25T11:59:00.000Z', '1m0s'],
    ['2026-11-25T11:00:01.000Z', '59m59s'],
    ['2026-11-25T11:00:00.000Z', '1h0m'],
    ['2026-11-24T12:00:01.000Z', '23h59m'],
    ['2026-11-24T12:00:00.000Z', '1d0h'],
    ['2026-11-22T08:59:00.000Z', '3d3h'],
  ])('detached since %s reads as %s', (since, text) => {
    const s: ListedSession = { ...exited, detachedSince: since, exited: false, command: ['top'] };
    expect(rowOf(s)).toBe(`  build-1 77  alice 2026-11-25 09:30:05Z detached ${text} -    top\n`);
  });

  it.each<[string[], string]>([
    [['vim', 'notes.txt'], 'vim notes.txt'],
    [['printf', '%s\\n', 'a b'], "printf '%s\\n' 'a b'"],
    [['echo', "it's"], "echo 'it'\\''s'"],
    [['echo', ''], "echo ''"],
    [['env', 'A=1', 'user@host:/x,y'], 'env A=1 user@host:/x,y'],
  ])('quotes the command %j as %s', (command, text) => {
    const s: ListedSession = { ...attached, command };
    expect(rowOf(s)).toBe(`* work 4242 alice 2026-11-25 10:00:00Z -        192.0.2.7 ${text}\n`);
  });
});

describe('what reaches the terminal', () => {
  it('shows a session that did not answer, with what the kernel said', () => {
    const silent: ListedSession = { name: 'hung', pid: 99, owner: 'bob', uid: 1001, socket: '/tmp/atsr/1001/hung', problem: 'no answer within 2 s' };
    const gone: ListedSession = { ...silent, name: 'x', pid: null, problem: 'closed without an answer' };
    expect(formatSessions([attached, silent, gone], NOW)).toBe(
      '  NAME PID  OWNER CREATED              DETACHED FROM      COMMAND\n' +
        '* work 4242 alice 2026-11-25 10:00:00Z -        192.0.2.7 bash -l\n' +
        '  hung 99   bob   -                    -        -         (no answer within 2 s)\n' +
        '  x    -    bob   -                    -        -         (closed without an answer)\n',
    );
  });

  it.each<[string, string]>([
    ['\x1b]0;t\x07', '\\x1b]0;t\\x07'],
    ['a\x7fb', 'a\\x7fb'],
    ['c1\x9b2J', 'c1\\u009b2J'],
    ['rtl\u202eexe', 'rtl\\u202eexe'],
    ['tag\u{e0041}', 'tag\\U000e0041'],
    ['plain é ü', 'plain é ü'],
  ])('escapes %j in a column as %s', (raw, shown) => {
    expect(terminalSafe(raw)).toBe(shown);
    const s: ListedSession = { ...attached, name: raw, clientAddr: raw };
    expect(rowOf(s)).toBe(`* ${shown} 4242 alice 2026-11-25 10:00:00Z -        ${shown} bash -l\n`);
  });

  it("quotes a command word with control characters as bash's $'...' reads it back", () => {
    const s: ListedSession = { ...attached, command: ['printf', "\x1b[2J it's \\ \x9b"] };
    expect(rowOf(s)).toBe(`* work 4242 alice 2026-11-25 10:00:00Z -        192.0.2.7 printf $'\\x1b[2J it\\'s \\\\ \\u009b'\n`);
  });

  it('escapes in JSON what JSON.stringify leaves raw, keeping the same values', () => {
    const value = [{ name: '\x1b[2J', command: ['\x7f\x85\u2028\u202e'] }];
    const text = terminalSafeJson(value);
    expect(text).not.toMatch(/[\x1b\x7f-\x9f\u2028\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
