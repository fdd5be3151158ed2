// The command's exit as the session host sees it on its own pty reader
// (src/pty/pty-process.ts): reported after everything the command wrote,
// and also when a background child keeps the pty open past the exit.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('ptyexit');

describe('the command\'s exit', () => {
  it('is reported, after its last output, while a background child still holds the pty', async () => {
    // The sleep ignores the hangup that the exit of the session leader
    // sends, and keeps the slave open, so the master never ends (EIO) by
    // itself: without the host closing it shortly after the exit, the exit
    // would wait for the sleep (60 s), well past this test's 10 s.
    const pidFile = `${box().dir}/bg.pid`;
    const a = box().attach(['-c', 'bg1', 'sh', '-c', `trap '' HUP; sleep 60 & echo $! > '${pidFile}'; printf 'TAIL'; exit 7`]);
    try {
      expect((await a.exit(10_000)).exitCode).toBe(7);
      expect(a.output().toString('latin1')).toContain('TAIL');
    } finally {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
      } catch {
        // Already gone (hung up with the pty), or never started.
      }
    }
  });
});
