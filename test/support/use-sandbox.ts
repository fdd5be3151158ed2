// Vitest wiring for the sandboxes (kept apart so the demo and bench can use them without vitest).
import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { AtsrSandbox } from './atsr-sandbox.js';
import { ResumeRig } from './resume-rig.js';
import { ThrowawayUser, removeUsers } from './throwaway-user.js';

/** A fresh sandbox for each test of the calling file, cleaned up after it. */
export function useSandbox(name: string): () => AtsrSandbox {
  let box: AtsrSandbox | undefined;
  beforeEach(() => {
    box = new AtsrSandbox(name);
  });
  afterEach(async () => {
    await box?.cleanup();
  });
  return () => box!;
}

/** One rig for the calling file; each test's rezume clients are ended after it. */
export function useResumeRig(name: string): () => ResumeRig {
  let rig: ResumeRig | undefined;
  beforeAll(async () => {
    rig = await ResumeRig.start(name);
  });
  afterEach(() => rig?.endClients());
  afterAll(async () => {
    await rig?.stop();
  });
  return () => rig!;
}

/** Two throwaway users, A (the victim) and B (the attacker), and temp directories removed with them. */
export class UserPair {
  a!: ThrowawayUser;
  b!: ThrowawayUser;
  readonly dirs: string[] = [];

  /** A fresh directory (mkdtemp of `prefix`), removed after the users. */
  tempDir(prefix: string): string {
    const dir = mkdtempSync(prefix);
    this.dirs.push(dir);
    return dir;
  }
}

/** A UserPair for the calling file or describe block: made before its tests, removed after them. */
export function useUserPair(): UserPair {
  const pair = new UserPair();
  beforeAll(() => {
    pair.a = ThrowawayUser.create();
    pair.b = ThrowawayUser.create();
  });
  afterAll(() => {
    for (const d of pair.dirs) rmSync(d, { recursive: true, force: true });
    removeUsers(pair.a, pair.b);
  });
  return pair;
}
