// rezume --list, --session and --keep: the options, the server's listing as
// rezume reads it (checked field by field, only the user's own sessions,
// terminal-safe), and the command that gets a session back.
import { describe, expect, it } from 'vitest';
import { AtsrError } from '../../src/cli/exit-codes.js';
import { type RezumeOptions, parseRezumeOptions } from '../../src/client/rezume-options.js';
import { leftRunning, resumeCommand } from '../../src/client/resume-hint.js';
import { formatListing, listCommand, parseListing } from '../../src/client/session-list.js';

function options(argv: string[]): { kind: string; options?: RezumeOptions } {
  return parseRezumeOptions(argv);
}

const NOW = new Date('2026-12-01T12:00:00.000Z');

const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'rz0123456789abcdef0123',
  pid: 4242,
  owner: 'alice',
  uid: 1000,
  command: ['d3', '-n', 'db'],
  createdAt: '2026-12-01T10:00:00.000Z',
  attached: false,
  viewers: 0,
  detachedSince: '2026-12-01T11:55:00.000Z',
  clientAddr: '',
  exited: false,
  exitStatus: null,
  out: 10,
  in: 2,
  bufferSize: 4096,
  socket: '/usr/local/atsr/session/1000/rz0123456789abcdef0123',
  ...over,
});

describe('rezume options for finding sessions', () => {
  it('--list, --session NAME, --keep, --server-atsr PATH', () => {
    expect(options(['--list', 'alice@db1'])).toMatchObject({ kind: 'list', options: { sshArgs: ['alice@db1'] } });
    expect(options(['--session', 'rzabc', 'db1'])).toMatchObject({ kind: 'run', options: { session: 'rzabc', keep: false } });
    expect(options(['--keep', 'db1'])).toMatchObject({ kind: 'run', options: { keep: true, session: undefined } });
    expect(options(['--server-atsr', '/opt/atsr/bin/atsr', '--list', 'db1'])).toMatchObject({ options: { serverAtsr: '/opt/atsr/bin/atsr' } });
    // ssh's options and their arguments before the host are not a command.
    expect(options(['--list', '-p', '2222', '-o', 'User=bob', '-4v', '-i', 'key', 'db1'])).toMatchObject({ kind: 'list' });
    expect(options(['--list', '-p2222', '-vl', 'alice', '--', 'db1'])).toMatchObject({ kind: 'list' });
    expect(options(['--list', 'db1', '-p', '2222'])).toMatchObject({ kind: 'list' }); // ssh reads options after the host too
  });

  it.each([
    [['--session', 'a/b', 'db1'], "--session: the session name contains '/'"],
    [['--session', 'a b', 'db1'], '--session: the session name may use only letters, digits and _ . @ + - (and not start with . @ + -)'],
    [['--list', '--session', 'rzabc', 'db1'], '--list and --session cannot go together'],
    [['--list', 'db1', 'top'], '--list takes no command after the host: db1 top'],
    [['--list', '-p', '2222', '-vl', 'alice', 'db1', 'ls', '-l'], '--list takes no command after the host: -p 2222 -vl alice db1 ls -l'],
    [['--list', '-p2222', '--', 'db1', 'x'], '--list takes no command after the host: -p2222 -- db1 x'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseRezumeOptions(argv)).toThrow(new AtsrError(message, 2));
  });
});

describe('the server listing', () => {
  it('the remote command: the uid, then the installed atsr -l --json', () => {
    expect(listCommand('/usr/local/atsr/bin/atsr')).toBe('id -u && exec /usr/local/atsr/bin/atsr -l --json');
    expect(listCommand("/opt/my atsr/atsr")).toBe("id -u && exec '/opt/my atsr/atsr' -l --json");
  });

  it('keeps only the user\'s own sessions that answered, with valid names and fields', () => {
    const json = JSON.stringify([
      entry(),
      entry({ name: 'other', uid: 0 }), // root's atsr -l lists every user's
      entry({ name: 'silent', problem: 'no answer' }),
      entry({ name: '../etc' }),
      entry({ name: 'badcmd', command: 'rm -rf' }),
      entry({ name: 'badtime', createdAt: 5 }),
    ]);
    expect(parseListing(`1000\n${json}\n`)?.map((s) => s.name)).toEqual(['rz0123456789abcdef0123']);
  });

  it.each(['', 'not a number\n[]', '1000\nnot json', '1000\n{}'])('cannot read %j', (out) => {
    expect(parseListing(out)).toBeUndefined();
  });

  it('prints name, started, detached since and command, every field terminal-safe, and how to resume one', () => {
    const opts = (parseRezumeOptions(['--list', 'alice@db1']) as { options: RezumeOptions }).options;
    const sessions = parseListing(
      `1000\n${JSON.stringify([
        entry(),
        entry({ name: 'work', attached: true, detachedSince: null, command: ['sh', '-c', 'printf "\x1b]2;pwned\x07"'] }),
        entry({ name: 'done', exited: true, exitStatus: 3 }),
      ])}`,
    )!;
    expect(formatListing(sessions, opts, NOW)).toBe(
      [
        'NAME                    STARTED               DETACHED SINCE               COMMAND',
        'rz0123456789abcdef0123  2026-12-01 10:00:00Z  2026-12-01 11:55:00Z (5m0s)  d3 -n db',
        "work                    2026-12-01 10:00:00Z  attached                     sh -c $'printf \"\\x1b]2;pwned\\x07\"'",
        'done                    2026-12-01 10:00:00Z  2026-12-01 11:55:00Z (5m0s)  d3 -n db (exited 3)',
        'resume one with: rezume --session NAME alice@db1',
        '',
      ].join('\n'),
    );
    expect(formatListing([], opts, NOW)).toBe('no sessions\n');
  });
});

describe('the command that gets a session back', () => {
  it('is rezume --session NAME with this run\'s ssh and its arguments, quoted for the shell', () => {
    const opts = (parseRezumeOptions(['--ssh', '/opt/ssh', '--buffer', '10', '-p', '2222', 'alice@db1', 'd3 -n']) as { options: RezumeOptions }).options;
    expect(resumeCommand(opts, 'rzabc')).toBe("rezume --ssh /opt/ssh --session rzabc -p 2222 alice@db1 'd3 -n'");
    expect(leftRunning(opts, 'rzabc')).toBe(
      "the session rzabc is still running on the server; get it back with: rezume --ssh /opt/ssh --session rzabc -p 2222 alice@db1 'd3 -n'",
    );
  });
});
