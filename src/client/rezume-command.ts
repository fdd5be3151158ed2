// `rezume`: the open client. Puts the user's terminal in raw mode and runs a
// RezumeSession over their own ssh.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtsrError } from '../cli/exit-codes.js';
import { RawTty } from '../front/raw-tty.js';
import { parseRezumeOptions } from './rezume-options.js';
import { RezumeSession } from './rezume-session.js';
import { runList } from './session-list.js';
import { resolveEndpoint } from './ssh-link.js';

export async function runRezume(argv: string[]): Promise<number | undefined> {
  let parsed;
  try {
    parsed = parseRezumeOptions(argv);
  } catch (err) {
    if (err instanceof AtsrError) {
      process.stderr.write(`rezume: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  if (parsed.kind === 'printed') return 0;
  if (parsed.kind === 'list') return runList(parsed.options);
  const opts = parsed.options;
  // node-pty reports a write to an ssh that just exited with console.error;
  // nothing may print into the user's terminal but the session and rezume's own notices.
  console.error = (): void => {};
  // A fresh id per run unless --session names one: the server's session name (strict charset, see src/session/name.ts).
  const sessionId = opts.session ?? `rz${randomBytes(10).toString('hex')}`;
  const scratch = mkdtempSync(join(tmpdir(), 'rezume-'));
  const tty = new RawTty();
  if (process.stdin.isTTY) tty.enter();
  const size = (): { cols: number; rows: number } => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
  const session = new RezumeSession(opts, sessionId, resolveEndpoint(opts), {
    write: (d) => process.stdout.write(d),
    size,
    finish: (status, message) => {
      rmSync(scratch, { recursive: true, force: true });
      tty.restore();
      if (message) process.stderr.write(`${message}\n`);
      process.exit(status);
    },
  }, join(scratch, 'ssh-stderr'));
  process.stdin.on('data', (d: Buffer) => session.onUserInput(d));
  process.stdout.on('resize', () => session.onResize());
  process.on('SIGTERM', () => session.stop(143));
  // A closed terminal: reads and writes on it fail from now on, which must not end rezume before the hang-up is sent.
  process.on('SIGHUP', () => session.hangUp());
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  process.stdin.on('error', () => {});
  session.start();
  return undefined; // runs until the session ends
}
