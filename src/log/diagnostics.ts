// `-d LEVEL` / `-o FILE`: diagnostics for admins. Level 1 errors and status,
// 2 session details, 3 everything. The host has no terminal, so it writes
// only to the -o file; a front writes to stderr as well.
import { appendFileSync } from 'node:fs';

export type DiagLevel = 0 | 1 | 2 | 3;

export interface DiagnosticsOptions {
  level: DiagLevel;
  file?: string;
  toStderr: boolean;
  role: string;
}

export class Diagnostics {
  constructor(private readonly opts: DiagnosticsOptions) {}

  get level(): DiagLevel {
    return this.opts.level;
  }

  log(level: 1 | 2 | 3, message: string): void {
    if (level > this.opts.level) return;
    const line = `atsr[${this.opts.role} ${process.pid}]: ${message}\n`;
    if (this.opts.toStderr) process.stderr.write(line);
    if (this.opts.file) {
      try {
        appendFileSync(this.opts.file, `${new Date().toISOString()} ${line}`);
      } catch {
        // Diagnostics must never take a session down.
      }
    }
  }
}
