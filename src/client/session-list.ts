// `rezume --list [user@]host`: the user's resumable sessions on that host,
// as the server's own `atsr -l --json` reports them over a plain `ssh host
// command` (no terminal, no ATSR_ID: rezumable is not involved). Everything
// in the answer is the server's text: it is checked field by field and made
// terminal-safe before it reaches the user's screen.
import { spawn } from 'node:child_process';
import { nameProblem } from '../session/name.js';
import { duration, shellWord } from '../list/list-sessions.js';
import { terminalSafe } from '../list/terminal-safe.js';
import type { RezumeOptions } from './rezume-options.js';
import { resumeCommand } from './resume-hint.js';
import { userFacingSshStderr } from './ssh-stderr.js';

/** What rezume shows of one session. */
export interface RemoteSession {
  name: string;
  createdAt: string;
  attached: boolean;
  detachedSince: string | null;
  command: string[];
  exited: boolean;
  exitStatus: number | null;
}

/** Exit status when the server's answer cannot be read. */
const UNREADABLE_STATUS = 1;

/**
 * The remote command: the login's uid first (root's `atsr -l` lists every
 * user's sessions, and only the user's own can be resumed), then the listing.
 */
export const listCommand = (serverAtsr: string): string => `id -u && exec ${shellWord(serverAtsr)} -l --json`;

const isString = (v: unknown): v is string => typeof v === 'string';

/** One entry of `atsr -l --json`, or undefined when it is not a session rezume could resume. */
function remoteSession(v: unknown, uid: number): RemoteSession | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  if (e.uid !== uid || e.problem !== undefined) return undefined;
  if (!isString(e.name) || nameProblem(e.name) !== undefined) return undefined;
  if (!isString(e.createdAt) || typeof e.attached !== 'boolean' || typeof e.exited !== 'boolean') return undefined;
  if (!(e.detachedSince === null || isString(e.detachedSince))) return undefined;
  if (!(e.exitStatus === null || typeof e.exitStatus === 'number')) return undefined;
  if (!Array.isArray(e.command) || !e.command.every(isString)) return undefined;
  return {
    name: e.name,
    createdAt: e.createdAt,
    attached: e.attached,
    detachedSince: e.detachedSince,
    command: e.command,
    exited: e.exited,
    exitStatus: e.exitStatus,
  };
}

/** Reads the remote command's output: the uid line, then the JSON array. */
export function parseListing(stdout: string): RemoteSession[] | undefined {
  const nl = stdout.indexOf('\n');
  const uid = stdout.slice(0, nl);
  if (nl < 0 || !/^\d{1,10}$/.test(uid)) return undefined;
  let entries: unknown;
  try {
    entries = JSON.parse(stdout.slice(nl + 1));
  } catch {
    return undefined;
  }
  if (!Array.isArray(entries)) return undefined;
  return entries.map((e) => remoteSession(e, Number(uid))).filter((s) => s !== undefined);
}

const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function columns(s: RemoteSession, now: Date): string[] {
  const detached = s.attached ? 'attached' : s.detachedSince === null ? '-' : `${when(s.detachedSince)} (${duration(s.detachedSince, now)})`;
  const command = s.command.map(shellWord).join(' ') + (s.exited ? ` (exited ${s.exitStatus})` : '');
  return [s.name, when(s.createdAt), detached, command].map(terminalSafe);
}

const HEADER = ['NAME', 'STARTED', 'DETACHED SINCE', 'COMMAND'];

/** The table for the user, and how to resume one; `no sessions` when there are none. */
export function formatListing(sessions: RemoteSession[], opts: RezumeOptions, now = new Date()): string {
  if (sessions.length === 0) return 'no sessions\n';
  const rows = [HEADER, ...sessions.map((s) => columns(s, now))];
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd() + '\n');
  return `${table.join('')}resume one with: ${resumeCommand(opts, 'NAME')}\n`;
}

interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

function runSsh(opts: RezumeOptions): Promise<Ran> {
  // -n: ssh reads nothing from our stdin (prompts still use the terminal); -T: no pty, so the answer is bytes as sent.
  const ssh = spawn(opts.ssh, ['-n', '-T', ...opts.sshArgs, listCommand(opts.serverAtsr)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  ssh.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  ssh.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => {
    ssh.on('error', (err) => resolve({ status: 255, stdout, stderr: `${opts.ssh}: ${err.message}\n` }));
    ssh.on('close', (code) => resolve({ status: code ?? 255, stdout, stderr }));
  });
}

/** `rezume --list`: prints the listing; returns the exit status. */
export async function runList(opts: RezumeOptions): Promise<number> {
  const ran = await runSsh(opts);
  const said = userFacingSshStderr(ran.stderr).trimEnd().split('\n').map(terminalSafe).join('\n');
  if (ran.status === 255) {
    process.stderr.write(`${said || 'rezume: ssh failed'}\n`);
    return 255;
  }
  const sessions = ran.status === 0 ? parseListing(ran.stdout) : undefined;
  if (sessions === undefined) {
    const why = ran.status === 127 ? `there is no atsr at ${opts.serverAtsr} on the server (see --server-atsr)` : 'the server gave no session listing';
    process.stderr.write(`rezume: ${terminalSafe(why)}${said ? `:\n${said}` : ''}\n`);
    return ran.status === 0 ? UNREADABLE_STATUS : ran.status;
  }
  process.stdout.write(formatListing(sessions, opts));
  return 0;
}
