// What a front tells the host it starts: passed in one environment variable
// so that `ps` shows a short command line, and removed before the command
// is started.
import type { DiagLevel } from '../log/diagnostics.js';
import type { SocketDirSpec } from '../session/socket-dir.js';

export const HOST_SPEC_ENV = 'ATSR_HOST_SPEC';
export const HOST_ROLE_ARG = '--atsr-session-host';

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
}

/** What the host reports on its readiness pipe, as one JSON line. */
export type HostReady = { ok: true } | { ok: false; exists: boolean; message: string };

export function takeHostSpec(env: NodeJS.ProcessEnv): HostSpec {
  const raw = env[HOST_SPEC_ENV];
  delete env[HOST_SPEC_ENV];
  if (!raw) throw new Error(`${HOST_SPEC_ENV} is not set: the session host is started by atsr itself`);
  return JSON.parse(raw) as HostSpec;
}
