// Replaces node-pty's own `lib/utils.js` in the bundle (see ci/bundle.ts).
// node-pty looks for pty.node relative to its source files, which do not
// exist in a bundle or a single executable; we ship pty.node beside the
// executable instead and load it from there. node-pty asks twice, so the
// handle is cached.
import { dirname } from 'node:path';
import { findShippedFile, shippedFileDirs } from '../shipped-file.js';

interface NativeModule {
  dir: string;
  module: unknown;
}

const cache = new Map<string, NativeModule>();

export function loadNativeModule(name: string): NativeModule {
  const hit = cache.get(name);
  if (hit) return hit;
  const file = findShippedFile(`${name}.node`);
  if (!file) throw new Error(`cannot find ${name}.node beside the executable (looked in ${shippedFileDirs().join(', ')})`);
  const holder: { exports: unknown } = { exports: {} };
  process.dlopen(holder, file);
  const loaded = { dir: dirname(file), module: holder.exports };
  cache.set(name, loaded);
  return loaded;
}

// node-pty's utils also exports this helper; keep its contract.
export function assign<T extends object>(target: T, ...sources: object[]): T {
  return Object.assign(target, ...sources);
}
