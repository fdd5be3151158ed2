// What a front tells the host it starts: passed in one environment variable
// so that `ps` shows a short command line, and removed before the command
// is started.
import type { DiagLevel } from '../log/diagnostics.js';
import type { SocketDirSpec } from '../session/socket-dir.js';

export const HOST_SPEC_ENV = 'ATSR_HOST_SPEC';
export const HOST_ROLE_ARG = '--atsr-session-host';

/**
 * How long a connection may take to send its attach or status query, and to
 * close its end after the host's last frame. A front does each at once; 10 s
 * leaves room for a loaded machine and still frees a connection that says
 * nothing soon (OpenSSH's LoginGraceTime is longer because a person types a
 * password in it; nobody types here).
 */
export const ATTACH_TIMEOUT_MS = 10_000;
/** Hidden, for tests: another limit, in milliseconds. */
const ATTACH_TIMEOUT_ENV = 'ATSR_ATTACH_TIMEOUT_MS';

export interface HostSpec {
  name: string;
  socketPath: string;
  /**
   * Where the front looked for the socket's directory (its candidates, then
   * the private fallbacks): the host looks there the same way when it has to
   * recreate a deleted socket, so that its front finds it again.
   */
  socketDirs: { candidates: SocketDirSpec[]; fallbacks: SocketDirSpec[] };
  command: string[];
  cwd: string;
  bufferSize: number;
  orphanMinutes: number;
  rows: number;
  cols: number;
  /** Stable SSH_AUTH_SOCK path for the command, or '' for none. */
  agentLink: string;
  diagLevel: DiagLevel;
  diagFile: string;
  /** ATTACH_TIMEOUT_MS, unless a test asked for another. */
  attachTimeoutMs: number;
  /** The creating front attaches at once: the output waits for it (at most attachTimeoutMs). */
  holdForCreator: boolean;
}

/** What the host reports on its readiness pipe, as one JSON line. */
export type HostReady = { ok: true } | { ok: false; exists: boolean; message: string };

export function takeHostSpec(env: NodeJS.ProcessEnv): HostSpec {
  const raw = env[HOST_SPEC_ENV];
  delete env[HOST_SPEC_ENV];
  if (!raw) throw new Error(`${HOST_SPEC_ENV} is not set: the session host is started by atsr itself`);
  return JSON.parse(raw) as HostSpec;
}

/** The attach time limit for a new host: ATTACH_TIMEOUT_MS, or a test's own. */
export function attachTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const ms = Number(env[ATTACH_TIMEOUT_ENV]);
  return Number.isSafeInteger(ms) && ms > 0 ? ms : ATTACH_TIMEOUT_MS;
}
