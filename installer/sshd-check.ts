// sshd's own verdict on a config, asked before the installer's edit as well
// as after it, so that a config that was broken already is never blamed on
// the AcceptEnv line. `sshd -t` and `sshd -T` refuse to read any config while
// the privilege separation directory is missing: after boot, in containers,
// or where sshd is socket-activated and has not started yet. sshd's service
// unit creates it at every start (RuntimeDirectory=sshd, root, 0755); the
// installer does the same, says so, and then asks sshd.
import { mkdirSync } from 'node:fs';
import { DirHandle } from '../src/session/dir-handle.js';
import { runCommand } from './run-command.js';

const PRIVSEP_MISSING = /^Missing privilege separation directory: (\/[^\s]+)$/;

/** sshd's verdict on the config: undefined when valid, else what it said. */
export function sshdRejects(sshd: string, configPath: string): string | undefined {
  const r = runCommand([sshd, '-t', '-f', configPath]);
  if (r.status === 0) return undefined;
  // sshd ends its messages with CR LF.
  const said = r.stderr.replace(/\r\n/g, '\n').trim();
  return said || `sshd -t exited with status ${r.status}`;
}

export interface PreEditCheck {
  /** What sshd says is wrong with the config as it is, before any change. */
  rejected?: string;
  /** The privilege separation directory, when the installer had to create it. */
  createdPrivsepDir?: string;
}

/** Asks sshd about the unchanged config, creating its privilege separation directory first if that is all it lacks. */
export function checkBeforeEdit(sshd: string, configPath: string): PreEditCheck {
  const why = sshdRejects(sshd, configPath);
  const missing = why === undefined ? undefined : PRIVSEP_MISSING.exec(why)?.[1];
  if (missing === undefined) return { rejected: why };
  createPrivsepDir(missing);
  return { rejected: sshdRejects(sshd, configPath), createdPrivsepDir: missing };
}

/** As sshd's service unit does: root's, mode 0755 (the installer runs under makeself's umask 077). */
function createPrivsepDir(path: string): void {
  mkdirSync(path, { mode: 0o755 });
  const dir = DirHandle.open(path);
  try {
    dir.chmod(0o755);
  } finally {
    dir.close();
  }
}
