// File work under the prefix. Everything is written to a temporary name in
// the same directory and renamed over the target, so a running session's
// executable is never modified in place and a reader never sees half a file.
import { accessSync, chmodSync, constants, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { InstallLog } from './install-log.js';

const tempBeside = (target: string): string => join(dirname(target), `.${basename(target)}.atsr-new-${process.pid}`);

export function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates the directory and its missing parents with `mode`, logging each one created. */
export function makeDirs(path: string, mode: number, log: InstallLog): void {
  if (exists(path)) return;
  makeDirs(dirname(path), 0o755, log);
  mkdirSync(path);
  chmodSync(path, mode); // mkdir's mode is filtered by the umask (077 under makeself)
  log.add('created-dir', path, { mode: mode.toString(8) });
}

function logWrite(target: string, existed: boolean, log: InstallLog): void {
  log.add(existed ? 'replaced-file' : 'wrote-file', target);
}

/** Writes a temp file beside `target`, then renames it over: running programs keep the old file. */
function installAtomically(target: string, mode: number, log: InstallLog, write: (temp: string) => void): void {
  const existed = exists(target);
  const temp = tempBeside(target);
  try {
    write(temp);
    chmodSync(temp, mode);
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true }); // nothing left behind
    throw err;
  }
  logWrite(target, existed, log);
}

export function installFile(source: string, target: string, mode: number, log: InstallLog): void {
  installAtomically(target, mode, log, (temp) => copyFileSync(source, temp));
}

export function installText(text: string, target: string, mode: number, log: InstallLog): void {
  installAtomically(target, mode, log, (temp) => writeFileSync(temp, text));
}

export function installSymlink(linkTarget: string, path: string, log: InstallLog): void {
  const existed = exists(path);
  const temp = tempBeside(path);
  rmSync(temp, { force: true });
  symlinkSync(linkTarget, temp);
  renameSync(temp, path);
  if (!existed) log.add('linked', path, { to: linkTarget });
}

/** Why this process cannot create or change the directory `path` (seen at its nearest existing ancestor, or itself), if it cannot. */
export function directoryBlocked(path: string): string | undefined {
  let dir = path;
  while (!exists(dir) && dirname(dir) !== dir) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch {
    return `${dir} is not writable by uid ${process.getuid?.()}`;
  }
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function readIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
