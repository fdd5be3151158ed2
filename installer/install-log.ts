// PREFIX/install.log: one line per change the installer made, tab-separated
// (time, kind, path, details). Upgrades append; `--uninstall` reads it to
// undo exactly what was done. Entries are kept in memory and written when
// the run ends, so a run that changed nothing leaves no log behind.
import { appendFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type LogKind =
  | 'install' // a run began: version and prefix
  | 'created-dir'
  | 'wrote-file'
  | 'replaced-file'
  | 'removed-file' // a file an older version shipped and this one does not
  | 'linked'
  | 'sshd-config-edited' // details: backup=PATH sha256=HEX
  | 'sshd-dropin-written'
  | 'sshd-privsep-dir-created' // sshd's own /run/sshd, made so that sshd -t could run; never undone
  | 'ran' // a command, for the record
  | 'note'; // a host check finding, with its fix

export interface LogEntry {
  time: string;
  kind: LogKind;
  path: string;
  details: Record<string, string>;
}

const HEADER = '# atsr install log: every change the installer made (time, kind, path, details). `--uninstall` reads it.\n';

export class InstallLog {
  private readonly pending: LogEntry[] = [];

  /** @param file where to append; undefined for a run whose log is not kept (uninstall). */
  constructor(readonly file: string | undefined) {}

  add(kind: LogKind, path: string, details: Record<string, string> = {}): void {
    this.pending.push({ time: new Date().toISOString(), kind, path, details });
  }

  /** Whether anything beyond the run's own header was recorded. */
  get changedAnything(): boolean {
    return this.pending.some((e) => e.kind !== 'install' && e.kind !== 'note');
  }

  /** Appends the entries to the file (its directory must exist by then). */
  flush(): void {
    if (this.file === undefined || !this.changedAnything || !existsSync(dirname(this.file))) return;
    const text = this.pending.map(formatEntry).join('');
    const isNew = !existsSync(this.file);
    appendFileSync(this.file, isNew ? HEADER + text : text);
    if (isNew) chmodSync(this.file, 0o644); // not the umask's 077 under makeself
    this.pending.length = 0;
  }
}

function formatEntry(e: LogEntry): string {
  const details = Object.entries(e.details).map(([k, v]) => `${k}=${v.replace(/[\t\n]/g, ' ')}`);
  return [e.time, e.kind, e.path, ...details].join('\t') + '\n';
}

export function readInstallLog(file: string): LogEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [time = '', kind = '', path = '', ...rest] = line.split('\t');
      const details: Record<string, string> = {};
      for (const kv of rest) {
        const eq = kv.indexOf('=');
        if (eq > 0) details[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      return { time, kind: kind as LogKind, path, details };
    });
}
