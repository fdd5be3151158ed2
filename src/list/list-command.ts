// `atsr -l`: which directories to ask, then the listing (src/list/list-sessions.ts).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../cli/exit-codes.js';
import type { AtsrOptions } from '../cli/options.js';
import { type SocketDirChoice, socketDirChoice } from '../cli/socket-dir-choice.js';
import { installedSocketRoots, searchSocketDirs, usableSharedRoots } from '../session/socket-dir.js';
import { type ListSource, collectSessions, formatSessions, formatSessionsJson } from './list-sessions.js';
import { terminalSafe } from './terminal-safe.js';

export async function runList(opts: AtsrOptions): Promise<number> {
  const uid = process.getuid!();
  const sources = opts.listDir !== undefined ? listDirSources(opts.listDir, uid) : chainSources(listCandidates(opts), uid);
  const { sessions, problems } = await collectSessions(sources, uid);
  for (const p of problems) process.stderr.write(`atsr: ${terminalSafe(p)}\n`);
  process.stdout.write(opts.json ? formatSessionsJson(sessions) : formatSessions(sessions));
  return ExitCode.ok;
}

/**
 * `-l DIR`: the socket directory DIR, or, when DIR is a shared root, what the
 * caller may see in it (root: every user's subdirectory; a user: DIR/<uid>),
 * so `cd PREFIX; bin/atsr -l session` finds rezumable's sessions. Nothing is
 * created: a listing of a directory named by hand leaves it as it was.
 */
function listDirSources(dir: string, uid: number): ListSource[] {
  if (!isSharedRoot(dir)) return [{ kind: 'dir', path: dir }];
  return uid === 0 ? [{ kind: 'shared', root: dir }] : [{ kind: 'dir', path: join(dir, String(uid)) }];
}

/** World-writable with the sticky bit: a shared root, never a socket directory (those are 0700). */
function isSharedRoot(dir: string): boolean {
  try {
    const st = statSync(dir);
    return st.isDirectory() && (st.mode & 0o1002) === 0o1002;
  } catch {
    return false;
  }
}

/**
 * What `-l` searches: the explicit -u/-g, or the default chain, which for an
 * installed executable also holds PREFIX/run of an older install while that
 * still exists (its sessions keep their sockets there after an upgrade).
 */
function listCandidates(opts: AtsrOptions): SocketDirChoice {
  const { candidates, fallbacks } = socketDirChoice(opts);
  if (opts.socketDir !== undefined) return { candidates, fallbacks };
  const old = installedSocketRoots(process.execPath, { uid: process.getuid!() }).old;
  return { candidates: old === undefined ? candidates : [...candidates, { kind: 'shared', root: old }], fallbacks };
}

/**
 * Every usable directory of the chain: a long session name may have put a
 * session in a later one (the Unix path limit), and another user's entry in
 * the way may have put it in a private fallback.
 */
function chainSources({ candidates, fallbacks }: SocketDirChoice, uid: number): ListSource[] {
  const usable = searchSocketDirs(candidates, { uid }, fallbacks);
  for (const d of usable) if (d.warning) process.stderr.write(`atsr: ${d.warning}\n`);
  // Root listing a shared root sees every user's private subdirectory,
  // also when another user's entry has blocked root's own.
  const roots = uid === 0 ? usableSharedRoots(candidates, { uid }) : [];
  return [
    ...usable.filter((d) => !(d.sharedRoot !== undefined && roots.includes(d.sharedRoot))).map((d): ListSource => ({ kind: 'dir', path: d.dir })),
    ...roots.map((root): ListSource => ({ kind: 'shared', root })),
  ];
}
