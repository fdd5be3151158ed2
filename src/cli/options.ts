// `atsr` command-line parsing. Options stop at the first non-option argument,
// as POSIX getopt does, so `atsr -t s1 bash -l` passes -l to bash.
import { Command, CommanderError, Option } from 'commander';
import { AtsrError, ExitCode } from './exit-codes.js';
import type { SocketDirSpec } from '../session/socket-dir.js';
import type { DiagLevel } from '../log/diagnostics.js';
import { type DetachKeys, parseDetachKey } from '../front/detach-key.js';
import { REDRAW_METHODS, type RedrawChoice, isRedrawChoice } from '../front/redraw-method.js';
import { VERSION } from '../version.js';

export const MAX_BUFFER_SIZE = 524288;
/** -x at most a year (366 days): beyond that the number is a typo (an installer once wrote 1e+23). */
export const MAX_ORPHAN_MINUTES = 527_040;
export const DEFAULT_BUFFER_SIZE = 262144;

export type Action = 'attach' | 'attach-or-create' | 'create' | 'create-detached' | 'list';

export interface AtsrOptions {
  action: Action;
  /** The session name: from the first argument, or from the `-i` variable. */
  name: string | undefined;
  /** The variable named by -i, for messages. */
  nameVar: string | undefined;
  command: string[];
  force: boolean;
  readOnly: boolean;
  sync: boolean;
  updateUtmp: boolean;
  bufferSize: number;
  /** Minutes without a read-write client before the command is hung up; 0 = never. */
  orphanMinutes: number;
  detach: DetachKeys;
  /** `-R`: how a plain attach gets the current screen. */
  redraw: RedrawChoice;
  socketDir: SocketDirSpec | undefined;
  /** `-l DIR`: the directory to list. */
  listDir: string | undefined;
  json: boolean;
  diagLevel: DiagLevel;
  diagFile: string | undefined;
}

export type ParseResult = { kind: 'run'; options: AtsrOptions } | { kind: 'printed' };

const ACTIONS: Record<string, Action> = { a: 'attach', t: 'attach-or-create', c: 'create', n: 'create-detached' };

function program(): Command {
  return new Command('atsr')
    .usage('[options] <session_name> <command...>\n       atsr -i VAR [options] <command...>\n       atsr -l [DIR] [--json]')
    .description('Terminal sessions that outlive the connection and resume exactly.')
    .option('-a', 'attach to an existing session')
    .option('-t', 'attach to the session, creating it if needed')
    .option('-c', 'create the session and attach (error if it exists)')
    .option('-n', 'create the session with no client attached')
    .option('-l [DIR]', 'list sessions (in DIR, or the socket directory)')
    .option('--json', 'with -l: print JSON')
    .option('-i <VAR>', 'read the session name from environment variable VAR')
    .option('-f', 'force attach: take the session from a client still attached')
    .option('-r', 'read-only attach: watch, input is discarded')
    .option('-s', 'synchronize on attach (resume handshake with the client)')
    .option('-w', 'do not update logon (utmp) information')
    .option('-b <SIZE>', `replay buffer in bytes, 0..${MAX_BUFFER_SIZE} (default ${DEFAULT_BUFFER_SIZE})`)
    .option('-x <MIN>', 'hang up the command after MIN minutes with no read-write client (0: never)')
    .option('-e <KEY>', "detach key, e.g. '^\\' (off unless given)")
    .option('-R <METHOD>', `redraw on attach: ${REDRAW_METHODS.join(', ')} (default auto: screen for VT terminals, none for others)`)
    .option('-g <DIR>', 'shared socket root (a private subdirectory per user)')
    .option('-u <DIR>', 'user socket directory')
    .option('-d <LEVEL>', 'diagnostics to stderr: 1 errors/status, 2 session details, 3 everything')
    .option('-o <FILE>', 'append diagnostics to FILE')
    .addOption(new Option('-h, --help', 'show this help'))
    .version(VERSION, '--version', 'print the version')
    .argument('[args...]')
    .passThroughOptions()
    .allowExcessArguments()
    .helpOption(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
}

export function helpText(): string {
  return program().helpInformation();
}

function intInRange(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new AtsrError(`-${flag} takes a whole number from ${min} to ${max}, not '${value}'`, ExitCode.usage);
  }
  return Number(value);
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): ParseResult {
  const cmd = program();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.version') {
        process.stdout.write(`atsr ${VERSION}\n`);
        return { kind: 'printed' };
      }
      throw new AtsrError(err.message.replace(/^error: /, ''), ExitCode.usage);
    }
    throw err;
  }
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  if (o.help) {
    process.stdout.write(helpText());
    return { kind: 'printed' };
  }
  const args = cmd.args;

  const chosen = Object.keys(ACTIONS).filter((k) => o[k] === true);
  if (o.l !== undefined) chosen.push('l');
  if (chosen.length !== 1) {
    throw new AtsrError(
      chosen.length === 0
        ? 'no action: give one of -a, -t, -c, -n or -l'
        : `only one action at a time (got ${chosen.map((c) => `-${c}`).join(' ')})`,
      ExitCode.usage,
    );
  }
  const action: Action = chosen[0] === 'l' ? 'list' : ACTIONS[chosen[0]!]!;

  if (o.u !== undefined && o.g !== undefined) throw new AtsrError('give -u or -g, not both', ExitCode.usage);
  const socketDir: SocketDirSpec | undefined =
    typeof o.u === 'string' ? { kind: 'user', dir: o.u } : typeof o.g === 'string' ? { kind: 'shared', root: o.g } : undefined;

  const bufferSize = o.b === undefined ? DEFAULT_BUFFER_SIZE : intInRange('b', String(o.b), 0, MAX_BUFFER_SIZE);
  let orphanMinutes = 0;
  if (o.x !== undefined) {
    // Fractions are accepted (tests use seconds-scale timeouts).
    const x = String(o.x);
    if (!/^\d+(\.\d+)?$/.test(x) || Number(x) > MAX_ORPHAN_MINUTES) {
      throw new AtsrError(`-x takes minutes, a number from 0 to ${MAX_ORPHAN_MINUTES} (a year), not '${x}'`, ExitCode.usage);
    }
    orphanMinutes = Number(x);
  }
  const redraw = o.R === undefined ? 'auto' : String(o.R);
  if (!isRedrawChoice(redraw)) throw new AtsrError(`-R takes one of ${REDRAW_METHODS.join(', ')}, not '${redraw}'`, ExitCode.usage);
  const diagLevel = (o.d === undefined ? 0 : intInRange('d', String(o.d), 0, 3)) as DiagLevel;

  const nameVar = typeof o.i === 'string' ? o.i : undefined;
  if (nameVar !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(nameVar)) {
    throw new AtsrError(`-i takes an environment variable name, not '${nameVar}'`, ExitCode.usage);
  }
  let name: string | undefined;
  let command: string[];
  if (action === 'list') {
    if (args.length > 0) throw new AtsrError(`-l takes no session or command (got '${args[0]}')`, ExitCode.usage);
    command = [];
  } else if (nameVar !== undefined) {
    name = env[nameVar];
    command = args;
  } else {
    if (args.length === 0) throw new AtsrError('missing the session name', ExitCode.usage);
    name = args[0];
    command = args.slice(1);
  }
  if (command.length > 0 && command[0] === '--') command = command.slice(1);
  if (action !== 'attach' && action !== 'list' && command.length === 0) {
    throw new AtsrError('missing the command to run in the session', ExitCode.usage);
  }
  if (o.json === true && action !== 'list') throw new AtsrError('--json goes with -l', ExitCode.usage);
  const detach: DetachKeys =
    o.e !== undefined
      ? { kind: 'key', key: parseDetachKey(String(o.e)) }
      : action === 'attach' || o.r === true
        ? { kind: 'escape' }
        : { kind: 'none' };

  return {
    kind: 'run',
    options: {
      action,
      name,
      nameVar,
      command,
      force: o.f === true,
      readOnly: o.r === true,
      sync: o.s === true,
      updateUtmp: o.w !== true,
      bufferSize,
      orphanMinutes,
      detach,
      redraw,
      socketDir,
      listDir: typeof o.l === 'string' ? o.l : undefined,
      json: o.json === true,
      diagLevel,
      diagFile: typeof o.o === 'string' ? o.o : undefined,
    },
  };
}
