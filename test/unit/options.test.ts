// `atsr` command-line parsing: argv arrays and an env object in, options out.
import { describe, expect, it } from 'vitest';
import { AtsrError, ExitCode } from '../../src/cli/exit-codes.js';
import { type AtsrOptions, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, parseOptions } from '../../src/cli/options.js';
import { parseDetachKey } from '../../src/front/detach-key.js';

const ENV: NodeJS.ProcessEnv = { ATSR_ID: 'from-env', EMPTY: '' };

/** What `atsr -t s1 sh` means; each case below says how it differs. */
const BASE: AtsrOptions = {
  action: 'attach-or-create',
  name: 's1',
  nameVar: undefined,
  command: ['sh'],
  force: false,
  readOnly: false,
  sync: false,
  updateUtmp: true,
  bufferSize: DEFAULT_BUFFER_SIZE,
  orphanMinutes: 0,
  detach: { kind: 'none' },
  redraw: 'auto',
  socketDir: undefined,
  listDir: undefined,
  json: false,
  diagLevel: 0,
  diagFile: undefined,
};

function parsed(argv: string[]): AtsrOptions {
  const r = parseOptions(argv, ENV);
  if (r.kind !== 'run') throw new Error(`atsr ${argv.join(' ')} printed instead of running`);
  return r.options;
}

const usage = (message: string): AtsrError => new AtsrError(message, ExitCode.usage);

describe('parseOptions', () => {
  it.each<[string[], Partial<AtsrOptions>]>([
    // actions
    [['-t', 's1', 'sh'], {}],
    [['-a', 's1'], { action: 'attach', command: [], detach: { kind: 'escape' } }],
    [['-a', 's1', 'sh'], { action: 'attach', detach: { kind: 'escape' } }],
    [['-a', '-e', 'q', 's1'], { action: 'attach', command: [], detach: { kind: 'key', key: 0x71 } }],
    [['-c', 's1', 'sh'], { action: 'create' }],
    [['-n', 's1', 'sh'], { action: 'create-detached' }],
    [['-l'], { action: 'list', name: undefined, command: [] }],
    [['-l', '/run/atsr'], { action: 'list', name: undefined, command: [], listDir: '/run/atsr' }],
    [['-l', '--json'], { action: 'list', name: undefined, command: [], json: true }],
    [['-l', '/d', '--json'], { action: 'list', name: undefined, command: [], listDir: '/d', json: true }],
    // flags, alone and combined
    [['-f', '-t', 's1', 'sh'], { force: true }],
    [['-r', '-t', 's1', 'sh'], { readOnly: true, detach: { kind: 'escape' } }],
    [['-s', '-t', 's1', 'sh'], { sync: true }],
    [['-w', '-t', 's1', 'sh'], { updateUtmp: false }],
    [['-tfs', 's1', 'sh'], { force: true, sync: true }],
    [['-rwt', 's1', 'sh'], { readOnly: true, updateUtmp: false, detach: { kind: 'escape' } }],
    [['-nw', 's1', 'sh'], { action: 'create-detached', updateUtmp: false }],
    // values
    [['-b', '0', '-t', 's1', 'sh'], { bufferSize: 0 }],
    [['-b', String(MAX_BUFFER_SIZE), '-t', 's1', 'sh'], { bufferSize: 524288 }],
    [['-b4096', '-t', 's1', 'sh'], { bufferSize: 4096 }],
    [['-x', '0', '-t', 's1', 'sh'], { orphanMinutes: 0 }],
    [['-x', '30', '-t', 's1', 'sh'], { orphanMinutes: 30 }],
    [['-x', '0.05', '-t', 's1', 'sh'], { orphanMinutes: 0.05 }],
    [['-x', '1.5', '-t', 's1', 'sh'], { orphanMinutes: 1.5 }],
    [['-x', '527040', '-t', 's1', 'sh'], { orphanMinutes: 527040 }],
    [['-d', '3', '-o', '/tmp/atsr.log', '-t', 's1', 'sh'], { diagLevel: 3, diagFile: '/tmp/atsr.log' }],
    [['-u', '/home/a/.atsr', '-t', 's1', 'sh'], { socketDir: { kind: 'user', dir: '/home/a/.atsr' } }],
    [['-g', '/tmp/atsr', '-t', 's1', 'sh'], { socketDir: { kind: 'shared', root: '/tmp/atsr' } }],
    [['-e', '^\\', '-t', 's1', 'sh'], { detach: { kind: 'key', key: 0x1c } }],
    [['-e', '^?', '-t', 's1', 'sh'], { detach: { kind: 'key', key: 0x7f } }],
    [['-R', 'winch', '-t', 's1', 'sh'], { redraw: 'winch' }],
    [['-R', 'ctrl_l', '-a', 's1'], { action: 'attach', command: [], detach: { kind: 'escape' }, redraw: 'ctrl_l' }],
    [['-Rnone', '-t', 's1', 'sh'], { redraw: 'none' }],
    [['-R', 'screen', '-r', '-a', 's1'], { action: 'attach', command: [], readOnly: true, detach: { kind: 'escape' }, redraw: 'screen' }],
    // the name from the environment
    [['-i', 'ATSR_ID', '-t', 'bash'], { name: 'from-env', nameVar: 'ATSR_ID', command: ['bash'] }],
    [['-i', 'ATSR_ID', '-a'], { action: 'attach', name: 'from-env', nameVar: 'ATSR_ID', command: [], detach: { kind: 'escape' } }],
    [['-i', 'UNSET', '-t', 'bash'], { name: undefined, nameVar: 'UNSET', command: ['bash'] }],
    [['-i', 'EMPTY', '-t', 'bash'], { name: '', nameVar: 'EMPTY', command: ['bash'] }],
    [['-i', 'ATSR_ID', '-t', '--', 'sh'], { name: 'from-env', nameVar: 'ATSR_ID' }],
    // options stop at the first non-option argument
    [['-t', 's1', 'bash', '-l'], { command: ['bash', '-l'] }],
    [['-t', 's1', 'sh', '-c', 'echo "$@"', 'sh', '-f', '--json', '-x'], { command: ['sh', '-c', 'echo "$@"', 'sh', '-f', '--json', '-x'] }],
    [['-t', 's1', '-r', 'sh'], { command: ['-r', 'sh'] }],
    // --
    [['-t', '--', 's1', 'sh'], {}],
    [['-t', 's1', '--', 'sh', '-c', 'x'], { command: ['sh', '-c', 'x'] }],
    [['-t', 's1', '--', '--', 'x'], { command: ['--', 'x'] }],
    [['-a', 's1', '--'], { action: 'attach', command: [], detach: { kind: 'escape' } }],
  ])('atsr %j', (argv, differences) => {
    expect(parsed(argv)).toEqual({ ...BASE, ...differences });
  });

  it.each<[string[], string]>([
    [['s1', 'sh'], 'no action: give one of -a, -t, -c, -n or -l'],
    [[], 'no action: give one of -a, -t, -c, -n or -l'],
    [['-a', '-t', 's1', 'sh'], 'only one action at a time (got -a -t)'],
    [['-nl'], 'only one action at a time (got -n -l)'],
    [['-q', '-t', 's1', 'sh'], "unknown option '-q'"],
    [['-t'], 'missing the session name'],
    [['-t', 's1'], 'missing the command to run in the session'],
    [['-c', 's1', '--'], 'missing the command to run in the session'],
    [['-i', 'ATSR_ID', '-n'], 'missing the command to run in the session'],
    [['-b', '524289', '-t', 's1', 'sh'], "-b takes a whole number from 0 to 524288, not '524289'"],
    [['-b', '-1', '-t', 's1', 'sh'], "-b takes a whole number from 0 to 524288, not '-1'"],
    [['-b', '1k', '-t', 's1', 'sh'], "-b takes a whole number from 0 to 524288, not '1k'"],
    [['-b', '1.0', '-t', 's1', 'sh'], "-b takes a whole number from 0 to 524288, not '1.0'"],
    [['-x', '-1', '-t', 's1', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '-1'"],
    [['-x', '.5', '-t', 's1', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '.5'"],
    [['-x', '1.', '-t', 's1', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '1.'"],
    [['-x', '1e3', '-t', 's1', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '1e3'"],
    [['-x', '527041', '-t', 's1', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '527041'"],
    [['-d', '4', '-t', 's1', 'sh'], "-d takes a whole number from 0 to 3, not '4'"],
    [['-i', '1ABC', '-t', 'sh'], "-i takes an environment variable name, not '1ABC'"],
    [['-i', 'A-B', '-t', 'sh'], "-i takes an environment variable name, not 'A-B'"],
    [['-u', '/a', '-g', '/b', '-t', 's1', 'sh'], 'give -u or -g, not both'],
    [['--json', '-t', 's1', 'sh'], '--json goes with -l'],
    [['-l', '--', 's1'], "-l takes no session or command (got 's1')"],
    [['-e', 'ab', '-t', 's1', 'sh'], "-e takes one character or ^X (caret notation), not 'ab'"],
    [['-b'], "option '-b <SIZE>' argument missing"],
    [['-R', 'ctrl-l', '-t', 's1', 'sh'], "-R takes one of auto, screen, winch, ctrl_l, none, not 'ctrl-l'"],
  ])('atsr %j fails: %s', (argv, message) => {
    expect(() => parseOptions(argv, ENV)).toThrow(usage(message));
  });
});

describe('parseDetachKey', () => {
  it.each<[string, number]>([
    ['^\\', 0x1c],
    ['^?', 0x7f],
    ['^@', 0x00],
    ['^A', 0x01],
    ['^a', 0x01],
    ['^[', 0x1b],
    ['^]', 0x1d],
    ['^_', 0x1f],
    ['^~', 0x1e],
    ['x', 0x78],
    ['^', 0x5e],
    ['\x1c', 0x1c],
  ])('reads %j as %i', (spec, byte) => {
    expect(parseDetachKey(spec)).toBe(byte);
  });

  it.each(['', 'ab', '^1', '^ ', '^ab', 'é', '^é'])('refuses %j', (spec) => {
    expect(() => parseDetachKey(spec)).toThrow(usage(`-e takes one character or ^X (caret notation), not '${spec}'`));
  });
});
