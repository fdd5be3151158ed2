// The rezume client's pure parts: its command line, reading what ssh said,
// and the options that hand ssh's connection to rezume-connect.
import { describe, expect, it } from 'vitest';
import { AtsrError, ExitCode } from '../../src/cli/exit-codes.js';
import { directConnectOptions } from '../../src/client/direct-connect.js';
import { type FailureReason, failureReason, looksLikePrompt } from '../../src/client/failure-reason.js';
import {
  DEFAULT_CLIENT_BUFFER,
  DEFAULT_QUIT_KEY,
  MAX_CLIENT_BUFFER,
  type RezumeOptions,
  parseRezumeOptions,
} from '../../src/client/rezume-options.js';
import { userFacingSshStderr } from '../../src/client/ssh-stderr.js';

function parsed(argv: string[]): RezumeOptions {
  const r = parseRezumeOptions(argv);
  if (r.kind !== 'run') throw new Error(`rezume ${argv.join(' ')} printed instead of running`);
  return r.options;
}

describe('parseRezumeOptions', () => {
  it('has the documented defaults', () => {
    const o = parsed(['alice@example.com']);
    expect(o).toEqual({
      buffer: 524288,
      statusLine: false,
      autoReconnect: true,
      aliveInterval: 2,
      aliveCount: 3,
      ssh: 'ssh',
      sshArgs: ['alice@example.com'],
      quitKey: 0x7e,
      session: undefined,
      keep: false,
      serverAtsr: '/usr/local/atsr/bin/atsr',
    });
    expect([DEFAULT_CLIENT_BUFFER, DEFAULT_QUIT_KEY]).toEqual([o.buffer, o.quitKey]);
  });

  it.each<[string[], Partial<RezumeOptions>]>([
    [['--buffer', '0', 'h'], { buffer: 0 }],
    [['--buffer', String(MAX_CLIENT_BUFFER), 'h'], { buffer: 1048576 }],
    [['--buffer=4096', 'h'], { buffer: 4096 }],
    [['--status-line', 'h'], { statusLine: true }],
    [['--no-auto', 'h'], { autoReconnect: false }],
    [['--alive-interval', '1', 'h'], { aliveInterval: 1 }],
    [['--alive-interval', '3600', 'h'], { aliveInterval: 3600 }],
    [['--alive-count', '1', 'h'], { aliveCount: 1 }],
    [['--alive-count', '100', 'h'], { aliveCount: 100 }],
    [['--ssh', '/opt/openssh/bin/ssh', 'h'], { ssh: '/opt/openssh/bin/ssh' }],
    [['--quit-key', '^C', 'h'], { quitKey: 0x03 }],
    [['--quit-key', 'q', 'h'], { quitKey: 0x71 }],
    [['--quit-key', 'none', 'h'], { quitKey: undefined }],
    [
      ['--status-line', '--no-auto', '--buffer', '10', 'h'],
      { statusLine: true, autoReconnect: false, buffer: 10 },
    ],
    // Everything from the first argument rezume does not know goes to ssh, unchanged.
    [['-p', '2222', 'h'], { sshArgs: ['-p', '2222', 'h'] }],
    [
      ['--status-line', '-i', '~/.ssh/id', '-o', 'ProxyJump=bastion', 'alice@h', 'tmux', 'attach'],
      { statusLine: true, sshArgs: ['-i', '~/.ssh/id', '-o', 'ProxyJump=bastion', 'alice@h', 'tmux', 'attach'] },
    ],
    // The command's words are its own, long options too; so is all after ssh's `--`.
    [['h', 'ls', '--all', '-l'], { sshArgs: ['h', 'ls', '--all', '-l'] }],
    [['-vp', '22', 'h', '-l', 'al', 'ls', '--all'], { sshArgs: ['-vp', '22', 'h', '-l', 'al', 'ls', '--all'] }],
    [['-o', '--x', '-i--k', 'h'], { sshArgs: ['-o', '--x', '-i--k', 'h'] }], // arguments of ssh's options
    [['-v', '--', '--h'], { sshArgs: ['-v', '--', '--h'] }],
    [['--', 'h'], {}],
  ])('rezume %j', (argv, differences) => {
    const defaults = parsed(['h']);
    expect(parsed(argv)).toEqual({ ...defaults, ...differences });
  });

  it.each<[string[], string]>([
    [[], 'missing the host to connect to (see rezume --help)'],
    [['--status-line', '--no-auto'], 'missing the host to connect to (see rezume --help)'],
    [['--buffer', '1048577', 'h'], "--buffer takes a whole number from 0 to 1048576, not '1048577'"],
    [['--buffer', '-1', 'h'], "--buffer takes a whole number from 0 to 1048576, not '-1'"],
    [['--buffer', '64k', 'h'], "--buffer takes a whole number from 0 to 1048576, not '64k'"],
    [['--alive-interval', '0', 'h'], "--alive-interval takes a whole number from 1 to 3600, not '0'"],
    [['--alive-interval', '3601', 'h'], "--alive-interval takes a whole number from 1 to 3600, not '3601'"],
    [['--alive-interval', '1.5', 'h'], "--alive-interval takes a whole number from 1 to 3600, not '1.5'"],
    [['--alive-count', '0', 'h'], "--alive-count takes a whole number from 1 to 100, not '0'"],
    [['--alive-count', '101', 'h'], "--alive-count takes a whole number from 1 to 100, not '101'"],
    [['--buffer'], "option '--buffer <BYTES>' argument missing"],
    // ssh has no long options: one where ssh reads options is a mistyped or misplaced one of ours.
    [['--frobnicate', 'h'], "unknown option '--frobnicate' (see rezume --help)"],
    [['--frobnicate'], "unknown option '--frobnicate' (see rezume --help)"],
    [['--status-line', '--frob=1', 'h'], "unknown option '--frob' (see rezume --help)"],
    [['-p', '22', '--frobnicate', 'h'], "unknown option '--frobnicate' (see rezume --help)"],
    [['h', '--frobnicate', 'ls'], "unknown option '--frobnicate' (see rezume --help)"], // ssh reads options after the host too
    [['-v', '--buffer', '10', 'h'], "--buffer must come before ssh's options and the host (see rezume --help)"],
    [['h', '--status-line', 'ls'], "--status-line must come before ssh's options and the host (see rezume --help)"],
  ])('rezume %j fails: %s', (argv, message) => {
    expect(() => parseRezumeOptions(argv)).toThrow(new AtsrError(message, ExitCode.usage));
  });
});

describe('failureReason', () => {
  const auth: FailureReason = { text: 'authentication failed', hostAnswered: true };
  const refused: FailureReason = { text: 'the host refuses connections', hostAnswered: true };
  const hostKey: FailureReason = { text: 'host key verification failed', hostAnswered: true };
  const noName: FailureReason = { text: 'the host name does not resolve', hostAnswered: false };
  const unreachable: FailureReason = { text: 'host unreachable', hostAnswered: false };

  it.each<[string, FailureReason]>([
    ['alice@example.com: Permission denied (publickey,password).\r\n', auth],
    ['Permission denied, please try again.\r\nalice@example.com: Permission denied (publickey).\r\n', auth],
    ['Received disconnect from 192.0.2.10 port 22:2: Too many authentication failures\r\nDisconnected from 192.0.2.10 port 22\r\n', auth],
    ['ssh: connect to host example.com port 22: Connection refused\r\n', refused],
    ['Host key verification failed.\r\n', hostKey],
    [
      '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n' +
        '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r\n' +
        '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r\n' +
        'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r\n',
      hostKey,
    ],
    ['ssh: Could not resolve hostname nosuch.example: Name or service not known\r\n', noName],
    ['ssh: Could not resolve hostname example.com: Temporary failure in name resolution\r\n', noName],
    ['ssh: connect to host 192.0.2.10 port 22: Connection timed out\r\n', unreachable],
    ['ssh: connect to host 192.0.2.10 port 22: No route to host\r\n', unreachable],
    ['ssh: connect to host 192.0.2.10 port 22: Network is unreachable\r\n', unreachable],
    // rezume-connect words its failures as ssh's, and ssh adds its own line.
    ['rezume-connect: connect to host example.com port 22: Connection refused\nproxy dialer did not pass back a connection\r\n', refused],
    ['rezume-connect: connect to host 192.0.2.10 port 22: Connection timed out\nproxy dialer did not pass back a connection\r\n', unreachable],
    ['rezume-connect: Could not resolve hostname nosuch.example: Name or service not known\nproxy dialer did not pass back a connection\r\n', noName],
    ['', unreachable],
  ])('reads %j', (output, reason) => {
    expect(failureReason(output)).toEqual(reason);
  });
});

describe('userFacingSshStderr', () => {
  it.each<[string, string]>([
    // What ssh 9.2 writes when rezume-connect cannot connect: its reason stays, under rezume's name.
    [
      'rezume-connect: connect to host 127.0.0.1 port 2222: Connection refused\nmm_receive_fd: recvmsg: expected received 1 got 0\r\nproxy dialer did not pass back a connection\n',
      'rezume: connect to host 127.0.0.1 port 2222: Connection refused\n',
    ],
    ['mm_receive_fd: no message header\r\nproxy dialer did not pass back a connection\r\n', ''],
    // ssh's own messages are the user's business.
    ['alice@h: Permission denied (publickey).\r\n', 'alice@h: Permission denied (publickey).\r\n'],
    ['ssh: connect to host h port 22: Connection refused\r\n', 'ssh: connect to host h port 22: Connection refused\r\n'],
    ['no newline at the end', 'no newline at the end'],
    ['', ''],
  ])('shows %j as %j', (stderr, shown) => {
    expect(userFacingSshStderr(stderr)).toBe(shown);
  });
});

describe('looksLikePrompt', () => {
  it.each([
    "alice@example.com's password: ",
    'Password:',
    "Permission denied, please try again.\r\nalice@example.com's password: ",
    "Enter passphrase for key '/home/alice/.ssh/id_ed25519': ",
    'Enter PIN for ECDSA-SK key /home/alice/.ssh/id_ecdsa_sk: ',
    '(alice@example.com) Verification code: ',
    'The authenticity of host \'example.com (192.0.2.10)\' can\'t be established.\r\n' +
      'ED25519 key fingerprint is SHA256:abc.\r\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ',
  ])('sees a prompt in %j', (output) => {
    expect(looksLikePrompt(output)).toBe(true);
  });

  it.each([
    '',
    'alice@example.com: Permission denied (publickey,password).\r\n',
    "alice@example.com's password: \r\n",
    "Warning: Permanently added 'example.com' (ED25519) to the list of known hosts.\r\n",
    'ssh: connect to host example.com port 22: Connection refused\r\n',
    'Your password has expired. Password change required but no TTY available.',
    'Linux example 6.1.0-18-amd64 #1 SMP Debian x86_64\r\nLast login: Tue Nov 24 09:12:01 2026 from 192.0.2.7\r\n',
  ])('sees no prompt in %j', (output) => {
    expect(looksLikePrompt(output)).toBe(false);
  });
});

describe('directConnectOptions', () => {
  const ep = { host: 'db.example.com', port: 2222, family: 'inet6' as const, sshConnects: false };

  it('runs the helper as the ProxyCommand, each word quoted for sh and for ssh\'s %-tokens', () => {
    expect(directConnectOptions(ep, 6, false, '/opt/atsr/bin/rezume-connect')).toEqual([
      '-o', 'ProxyUseFdpass=yes',
      '-o', "ProxyCommand='/opt/atsr/bin/rezume-connect' 'db.example.com' '2222' '6' 'inet6'",
    ]);
    expect(directConnectOptions(ep, 2, false, "/home/o'neil/100%/rezume-connect")[3]).toBe(
      "ProxyCommand='/home/o'\\''neil/100%%/rezume-connect' 'db.example.com' '2222' '2' 'inet6'",
    );
  });

  it('has the helper wait for the server on a reconnect during an outage', () => {
    expect(directConnectOptions(ep, 6, true, '/opt/atsr/bin/rezume-connect')[3]).toBe(
      "ProxyCommand='/opt/atsr/bin/rezume-connect' 'db.example.com' '2222' '6' 'inet6' 'wait'",
    );
  });

  it('gives none where ssh must connect itself or the helper is missing', () => {
    expect(directConnectOptions({ ...ep, sshConnects: true }, 6, false, '/opt/atsr/bin/rezume-connect')).toEqual([]);
    expect(directConnectOptions(ep, 6, true, undefined)).toEqual([]);
  });
});
