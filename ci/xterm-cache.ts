// Makes dist/xterm.cache, V8's code cache of dist/xterm.cjs (the emulator of
// the screen repaint, src/front/xterm-code.ts) after a sample repaint, so
// that it holds every function a repaint runs, compiled. Run by ci/build.sh
// with the pinned Node 24, the Node inside dist/atsr, and it runs itself
// again under that executable's Node options (ci/node-flags.ts): V8 takes a
// cache only from its own version and flags, and says so (the repaint logs
// it at -d 3).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XTERM_CACHE, XTERM_CODE, compileXterm } from '../src/front/xterm-code.ts';
import { NODE_FLAGS } from './node-flags.ts';

if (!NODE_FLAGS.every((flag) => process.execArgv.includes(flag))) {
  execFileSync(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url)], { stdio: 'inherit' });
  process.exit(0);
}

const dist = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist');

/** What full-screen programs draw: colours, attributes, wide and combining characters, regions, the alternate screen. */
const SAMPLE = [
  '\x1b[?1049h\x1b[H\x1b[2J\x1b[?25l\x1b=\x1b[?2004h\x1b[?1000h\x1b[?1006h',
  '\x1b[1;33;44m top \x1b[0m\x1b[38;5;208mcolour\x1b[38;2;10;20;30m true \x1b[48;5;17m\x1b[4mline\x1b[24m\x1b[7mrev\x1b[27m\x1b[0m\r\n',
  'caf\u00e9 \u00fcber \u4e2d\u6587 e\u0301 \u2500\u2502\u250c\u2510\r\n',
  '\x1b[2;20r\x1b[5;1H\x1b[Lscrolled\x1b[M\x1b[3@\x1b[2P\x1b[K\x1b[1K\x1b[J\x1b[r',
  ...Array.from({ length: 60 }, (_, i) => `\x1b[${(i % 24) + 1};1H\x1b[3${i % 8}mrow ${i} ${'x'.repeat(70)}\x1b[0m\r\n`),
  '\x1b(0lqqk\x1b(B\x1b7\x1b[10;10H\x1b8\x1bM\x1bD\x1b[?7l\x1b[?6h\x1b[?6l\x1b[?7h\x1b[s\x1b[u\x1b]0;title\x07',
].join('');

const code = readFileSync(join(dist, XTERM_CODE), 'utf8');
const { script, modules } = compileXterm(code, undefined);
for (const [cols, rows] of [
  [80, 24],
  [200, 50],
]) {
  const screen = new modules.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
  const serializer = new modules.SerializeAddon();
  screen.loadAddon(serializer);
  await new Promise<void>((done) => screen.write(Buffer.from(SAMPLE, 'utf8'), done));
  screen.resize(cols + 1, rows + 1);
  serializer.serialize({ scrollback: 0 });
  screen.dispose();
}
const cache = script.createCachedData();
writeFileSync(join(dist, XTERM_CACHE), cache);
console.log(`made dist/${XTERM_CACHE} (${cache.length} bytes of V8 code cache for dist/${XTERM_CODE})`);
