// Vitest wiring for the sandboxes (kept apart so the demo and bench can use them without vitest).
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { AtsrSandbox } from './atsr-sandbox.js';
import { ResumeRig } from './resume-rig.js';

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
