import { constants } from 'node:os';

// Exit codes of `atsr` itself (docs/atsr.md). When the command ran, the front
// exits with the command's own status instead.
export const ExitCode = {
  ok: 0,
  /** Unreadable command line: unknown option, two actions, a bad value. */
  usage: 2,
  /** `-a`: there is no session of that name. */
  noSession: 3,
  /** `-c`/`-n`: a session of that name exists already. */
  sessionExists: 4,
  /** A read-write client is attached and `-f` was not given. */
  sessionBusy: 5,
  /** No usable socket directory, or the socket path is too long. */
  socketDir: 6,
  /** The session name (or the `-i` variable) is invalid. */
  badName: 7,
  /** `-a` without a terminal on stdin. */
  noTty: 8,
  /** The host went away without telling the exit status. */
  sessionLost: 9,
  /** The command was found but cannot be executed (as sh says it): a missing `#!` interpreter. */
  cannotExecute: 126,
  /** The command could not be found (as sh says it). */
  commandNotFound: 127,
  /** An internal error. */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the program with a specific exit code and one line. */
export class AtsrError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
  }
}

/** A process status the way shells report it: the code, or 128 + signal. */
export function statusFromExit(code: number | null, signal: number | NodeJS.Signals | null): number {
  if (signal !== null && signal !== 0) {
    const n = typeof signal === 'number' ? signal : (constants.signals[signal] ?? 1);
    return 128 + n;
  }
  return code ?? 0;
}
