// Where the screen repaint's emulator comes from (issue 14). It is not in
// the main bundle: every process, each session host above all, would keep
// its ~300 KB of source in memory for a repaint that only a front makes. The
// build puts it in dist/xterm.cjs, and into the single executable as an
// asset, beside V8's code cache of a sample repaint (ci/xterm-cache.ts):
// loading it then costs a deserialization, not a compile of every function
// the repaint runs (docs/benchmarks.md, "The screen repaint on attach").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { Script } from 'node:vm';
import type { Terminal } from '@xterm/headless';
import type { SerializeAddon } from '@xterm/addon-serialize';

/** Set by the bundler (ci/bundle.ts): the emulator's file beside the bundle. Tests that import sources see undefined. */
declare const ATSR_XTERM_FILE: string | undefined;

/** The names of the emulator's code and code cache, as files in dist/ and as assets of the executable. */
export const XTERM_CODE = 'xterm.cjs';
export const XTERM_CACHE = 'xterm.cache';

export interface XtermModules {
  Terminal: typeof Terminal;
  SerializeAddon: typeof SerializeAddon;
}

export interface LoadedXterm {
  modules: XtermModules;
  /** Where the code came from, and whether V8 took its code cache: for diagnostics and tests. */
  source: 'executable' | 'file' | 'packages';
  cache: 'accepted' | 'rejected' | 'none';
}

/**
 * dist/xterm.cjs is one expression, `(function (module, exports) {...})`, so
 * that the file is the very script V8 caches (xterm requires nothing).
 */
type ModuleFunction = (module: { exports: unknown }, exports: unknown) => void;

/** Runs the emulator's code with its code cache, if any; `script` is what ci/xterm-cache.ts makes the cache from. */
export function compileXterm(code: string, cache: Buffer | undefined): { script: Script; modules: XtermModules; cacheRejected?: boolean } {
  const script = new Script(code, { filename: XTERM_CODE, cachedData: cache });
  const module = { exports: {} };
  (script.runInThisContext() as ModuleFunction)(module, module.exports);
  return { script, modules: module.exports as XtermModules, cacheRejected: script.cachedDataRejected };
}

let loaded: Promise<LoadedXterm> | undefined;

/** The emulator, loaded once, on first use. */
export function loadXterm(): Promise<LoadedXterm> {
  loaded ??= typeof ATSR_XTERM_FILE === 'string' ? Promise.resolve().then(fromBuild) : fromPackages();
  return loaded;
}

function fromBuild(): LoadedXterm {
  const sea = isSea();
  const code = sea ? getAsset(XTERM_CODE, 'utf8') : readFileSync(join(__dirname, XTERM_CODE), 'utf8');
  let cache: Buffer | undefined;
  try {
    cache = sea ? Buffer.from(getAsset(XTERM_CACHE)) : readFileSync(join(__dirname, XTERM_CACHE));
  } catch {
    cache = undefined; // only slower without it
  }
  const { modules, cacheRejected } = compileXterm(code, cache);
  return { modules, source: sea ? 'executable' : 'file', cache: cache === undefined ? 'none' : cacheRejected ? 'rejected' : 'accepted' };
}

async function fromPackages(): Promise<LoadedXterm> {
  const [headless, serialize] = await Promise.all([import('@xterm/headless'), import('@xterm/addon-serialize')]);
  // CommonJS modules: their exports are the default export of the import.
  const modules = { Terminal: (headless.default ?? headless).Terminal, SerializeAddon: (serialize.default ?? serialize).SerializeAddon };
  return { modules, source: 'packages', cache: 'none' };
}
