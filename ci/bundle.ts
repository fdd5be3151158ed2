// Bundles src/main.ts into dist/atsr.cjs (run by Node 24 directly: type stripping).
// node-pty's native-module lookup is swapped for ours so that pty.node is
// loaded from beside the executable.
import { type BuildOptions, build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

mkdirSync(dist, { recursive: true });

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'none',
  plugins: [
    {
      name: 'node-pty-native-loader',
      setup(b) {
        b.onResolve({ filter: /^\.\/utils$/ }, (args) =>
          args.importer.includes(`${'node-pty'}/lib/`)
            ? { path: join(root, 'src/pty/native-loader.ts') }
            : undefined,
        );
      },
    },
  ],
};

await build({
  ...common,
  entryPoints: [join(root, 'src/main.ts')],
  outfile: join(dist, 'atsr.cjs'),
  // Every atsr process holds this text in its heap: without the whitespace it
  // is 40% smaller, ~0.15 MiB less per session host (docs/benchmarks.md).
  // Names are kept, so stack traces in diagnostics still name each function.
  minifyWhitespace: true,
  minifySyntax: true,
  define: { ATSR_VERSION: JSON.stringify(pkg.version), ATSR_XTERM_FILE: JSON.stringify('xterm.cjs') },
  // Loaded only for a screen repaint, from dist/xterm.cjs (src/front/xterm-code.ts).
  external: ['@xterm/headless', '@xterm/addon-serialize'],
});

// The emulator, as one function expression: ci/xterm-cache.ts makes V8's
// code cache of this very text, and src/front/xterm-code.ts runs it.
await build({
  ...common,
  entryPoints: [join(root, 'src/front/xterm-entry.ts')],
  outfile: join(dist, 'xterm.cjs'),
  banner: { js: '(function (module, exports) {' },
  footer: { js: '})' },
});

// `npm run demo`: it reuses the test fixtures, and test/support/atsr-bin.ts
// finds the checkout from import.meta.dirname, which a CJS bundle lacks.
await build({
  ...common,
  entryPoints: [join(root, 'demo/demo.ts')],
  outfile: join(dist, 'demo.cjs'),
  banner: { js: 'const __testSupportDir = require("node:path").join(__dirname, "../test/support");' },
  define: { 'import.meta.dirname': '__testSupportDir' },
});

copyFileSync(join(root, 'node_modules/node-pty/build/Release/pty.node'), join(dist, 'pty.node'));
console.log(`bundled dist/atsr.cjs (atsr ${pkg.version}), dist/xterm.cjs, dist/demo.cjs and dist/pty.node`);
