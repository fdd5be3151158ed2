// `rezume [options] [ssh options] [user@]host [command]`: our own options
// come first (long options only, so they never clash with ssh's); everything
// from the first argument we do not know goes to ssh unchanged, except a
// long option (--xyz), which ssh has none of: that is a mistyped one of ours.
import { Command, CommanderError } from 'commander';
import { AtsrError, ExitCode } from '../cli/exit-codes.js';
import { parseDetachKey } from '../front/detach-key.js';
import { nameProblem } from '../session/name.js';
import { VERSION } from '../version.js';

export const MAX_CLIENT_BUFFER = 1048576;
export const DEFAULT_CLIENT_BUFFER = 524288;
export const DEFAULT_QUIT_KEY = 0x7e; // '~', of Enter ~ . (never a key MultiValue users type as data)

export interface RezumeOptions {
  /** Bytes of sent keys kept for resending. */
  buffer: number;
  statusLine: boolean;
  autoReconnect: boolean;
  aliveInterval: number;
  aliveCount: number;
  ssh: string;
  sshArgs: string[];
  /** The byte that gives up waiting during an outage, or undefined for none. */
  quitKey: number | undefined;
  /** `--session NAME`: resume this session instead of starting a new one. */
  session: string | undefined;
  /** `--keep`: closing the terminal leaves the session running instead of hanging it up. */
  keep: boolean;
  /** The atsr executable on the server that answers `--list`. */
  serverAtsr: string;
}

/** `--list` runs no session: it asks the server for the user's sessions. */
export type RezumeParse = { kind: 'run'; options: RezumeOptions } | { kind: 'list'; options: RezumeOptions } | { kind: 'printed' };

/** Where the installer puts atsr by default (docs/install.md). */
export const DEFAULT_SERVER_ATSR = '/usr/local/atsr/bin/atsr';

const USAGE = `Usage: rezume [options] [ssh options] [user@]host [command]
       rezume --list [ssh options] [user@]host
       rezume --session NAME [options] [ssh options] [user@]host [command]

Opens a resumable session over your own OpenSSH ssh. When the network drops,
rezume reconnects by itself and the session continues exactly where it was.

Options (before any ssh option):
  --buffer BYTES        keys kept for resending, 0..${MAX_CLIENT_BUFFER} (default ${DEFAULT_CLIENT_BUFFER})
  --status-line         also show connection trouble on the bottom line
  --no-auto             wait for Enter before reconnecting
  --alive-interval SEC  ssh ServerAliveInterval (default 2)
  --alive-count N       ssh ServerAliveCountMax (default 3)
  --ssh PATH            the ssh client to run (default: ssh on PATH)
  --quit-key KEY        Enter KEY . gives up waiting during an outage (the
                        session stays on the server): KEY is one character or
                        ^X, default ~; 'none': no way to give up
  --keep                closing the terminal leaves the session running
                        (default: it is hung up, as plain ssh would)
  --list                list your resumable sessions on the host
  --session NAME        resume the session NAME (from --list)
  --server-atsr PATH    atsr on the server, for --list (default
                        ${DEFAULT_SERVER_ATSR})
  --version, --help
`;

function positive(flag: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new AtsrError(`--${flag} takes a whole number from ${min} to ${max}, not '${value}'`, ExitCode.usage);
  }
  return Number(value);
}

/** ssh's options that take an argument (OpenSSH's getopt string; -P takes a tag since 9.2). */
const SSH_OPTIONS_WITH_ARGUMENT = new Set('bceilmopBDEFIJLOPQRSWw');

/** ssh's arguments as ssh reads them. */
interface SshArgs {
  /** The first long option where ssh would read options (it has none), if any. */
  longOption: string | undefined;
  /** The words ssh would run as the remote command. */
  command: string[];
}

/**
 * Reads ssh's arguments as ssh does: options before the host and right
 * after it (ssh parses options once more there), up to `--`; then the
 * command, whose words are its own.
 */
function readSshArgs(args: string[]): SshArgs {
  let hostSeen = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return { longOption: undefined, command: args.slice(hostSeen ? i + 1 : i + 2) };
    if (a.startsWith('--')) return { longOption: a, command: [] };
    if (a.length < 2 || !a.startsWith('-')) {
      if (hostSeen) return { longOption: undefined, command: args.slice(i) };
      hostSeen = true;
    } else if (takesNextWord(a)) {
      i++;
    }
  }
  return { longOption: undefined, command: [] };
}

/**
 * Whether an option cluster such as -vp22 or -vp takes the next word: a
 * letter that takes an argument ends the cluster, with the rest of it or,
 * when it is last, with the next word.
 */
function takesNextWord(cluster: string): boolean {
  for (let j = 1; j < cluster.length; j++) {
    if (SSH_OPTIONS_WITH_ARGUMENT.has(cluster[j])) return j === cluster.length - 1;
  }
  return false;
}

/** A long option in ssh's place: ours misplaced, or one nobody has; ssh would print its usage. */
function refuseLongOption(cmd: Command, arg: string | undefined): void {
  if (arg === undefined) return;
  const name = arg.split('=')[0];
  if (cmd.options.some((o) => o.long === name)) {
    throw new AtsrError(`${name} must come before ssh's options and the host (see rezume --help)`, ExitCode.usage);
  }
  throw new AtsrError(`unknown option '${name}' (see rezume --help)`, ExitCode.usage);
}

/** A name the server accepts as ATSR_ID (src/session/name.ts), or a usage error. */
function sessionName(name: string): string {
  const why = nameProblem(name);
  if (why) throw new AtsrError(`--session: ${why}`, ExitCode.usage);
  return name;
}

export function parseRezumeOptions(argv: string[]): RezumeParse {
  const cmd = new Command('rezume')
    .option('--buffer <BYTES>')
    .option('--status-line')
    .option('--no-auto')
    .option('--alive-interval <SEC>')
    .option('--alive-count <N>')
    .option('--ssh <PATH>')
    .option('--quit-key <KEY>')
    .option('--keep')
    .option('--list')
    .option('--session <NAME>')
    .option('--server-atsr <PATH>')
    .option('--help')
    .option('--version')
    .helpOption(false)
    .argument('[ssh...]')
    .allowUnknownOption()
    .passThroughOptions()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new AtsrError(err.message.replace(/^error: /, ''), ExitCode.usage);
    throw err;
  }
  const o = cmd.opts<Record<string, string | boolean | undefined>>();
  if (o.help) {
    process.stdout.write(USAGE);
    return { kind: 'printed' };
  }
  if (o.version) {
    process.stdout.write(`rezume ${VERSION}\n`);
    return { kind: 'printed' };
  }
  if (cmd.args.length === 0) throw new AtsrError('missing the host to connect to (see rezume --help)', ExitCode.usage);
  const ssh = readSshArgs(cmd.args);
  refuseLongOption(cmd, ssh.longOption);
  const session = o.session === undefined ? undefined : sessionName(String(o.session));
  if (o.list && session !== undefined) throw new AtsrError('--list and --session cannot go together', ExitCode.usage);
  // The listing is the remote command: one given after the host would run in its place.
  if (o.list && ssh.command.length > 0) {
    throw new AtsrError(`--list takes no command after the host: ${cmd.args.join(' ')}`, ExitCode.usage);
  }
  return {
    kind: o.list ? 'list' : 'run',
    options: {
      buffer: o.buffer === undefined ? DEFAULT_CLIENT_BUFFER : positive('buffer', String(o.buffer), 0, MAX_CLIENT_BUFFER),
      statusLine: o.statusLine === true,
      autoReconnect: o.auto !== false,
      aliveInterval: o.aliveInterval === undefined ? 2 : positive('alive-interval', String(o.aliveInterval), 1, 3600),
      aliveCount: o.aliveCount === undefined ? 3 : positive('alive-count', String(o.aliveCount), 1, 100),
      ssh: typeof o.ssh === 'string' ? o.ssh : 'ssh',
      sshArgs: cmd.args,
      quitKey: o.quitKey === undefined ? DEFAULT_QUIT_KEY : o.quitKey === 'none' ? undefined : parseDetachKey(String(o.quitKey), '--quit-key'),
      session,
      keep: o.keep === true,
      serverAtsr: typeof o.serverAtsr === 'string' ? o.serverAtsr : DEFAULT_SERVER_ATSR,
    },
  };
}
