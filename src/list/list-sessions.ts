// `atsr -l`: asks every session host in the socket directory for its status.
// Sockets whose host is gone are removed and not listed.
import { readdirSync, rmSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { FrameDecoder, FrameType } from '../protocol/frames.js';
import { type SessionStatus, decodeStatus, encodeJson } from '../protocol/messages.js';

const QUERY_TIMEOUT_MS = 2000;

export type Probe = { kind: 'status'; status: SessionStatus } | { kind: 'stale' } | { kind: 'unresponsive'; why: string };

export function querySession(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const sock = connect(path);
    const decoder = new FrameDecoder();
    const done = (p: Probe): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(p);
    };
    const timer = setTimeout(() => done({ kind: 'unresponsive', why: 'no answer' }), QUERY_TIMEOUT_MS);
    sock.once('connect', () => sock.write(encodeJson(FrameType.statusQuery, {})));
    sock.on('data', (chunk: Buffer) => {
      try {
        const f = decoder.push(chunk).find((x) => x.type === FrameType.status);
        if (f) done({ kind: 'status', status: decodeStatus(f) });
      } catch (err) {
        done({ kind: 'unresponsive', why: (err as Error).message });
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? { kind: 'stale' } : { kind: 'unresponsive', why: err.message }),
    );
    sock.on('close', () => done({ kind: 'unresponsive', why: 'closed' }));
  });
}

function socketsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return lstatSync(p).isSocket();
      } catch {
        return false;
      }
    });
}

export interface ListedSession extends SessionStatus {
  socket: string;
}

/** Status of every live session in `dirs`; removes stale sockets. */
export async function collectSessions(dirs: string[]): Promise<{ sessions: ListedSession[]; problems: string[] }> {
  const sessions: ListedSession[] = [];
  const problems: string[] = [];
  const paths = dirs.flatMap(socketsIn);
  const probes = await Promise.all(paths.map(querySession));
  probes.forEach((p, i) => {
    const socket = paths[i]!;
    if (p.kind === 'status') sessions.push({ ...p.status, socket });
    else if (p.kind === 'stale') rmSync(socket, { force: true });
    else problems.push(`${socket}: ${p.why}`);
  });
  sessions.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  return { sessions, problems };
}

function duration(sinceIso: string, now: Date): string {
  let s = Math.max(0, Math.floor((now.getTime() - Date.parse(sinceIso)) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function shellWord(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** One line per session: `*` when attached, name, pid, owner, created, detached for, from, command. */
export function formatSessions(sessions: ListedSession[], now = new Date()): string {
  const rows = sessions.map((s) => [
    s.attached ? '*' : ' ',
    s.name,
    String(s.pid),
    s.owner,
    s.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    s.attached || !s.detachedSince ? '-' : `detached ${duration(s.detachedSince, now)}`,
    s.clientAddr || '-',
    s.command.map(shellWord).join(' ') + (s.exited ? ` (exited ${s.exitStatus})` : ''),
  ]);
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' ').trimEnd() + '\n')
    .join('');
}
