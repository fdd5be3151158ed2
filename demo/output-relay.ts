// Shows what a program on a PtyRun writes, as it writes it, on our stdout:
// the demo's "user terminal" is the real one it was started in.
import type { PtyRun } from '../test/support/pty-harness.js';

/** Bounds how long a partial line (or the end of the output) waits to be shown. */
const IDLE_MS = 200;

export class OutputRelay {
  private shown = 0;
  /** Resolves once the program has exited and all its output was shown. */
  readonly done: Promise<void>;

  constructor(
    private readonly run: PtyRun,
    private readonly write: (bytes: Buffer) => void,
  ) {
    this.done = this.follow();
  }

  /** Shows everything written so far (so a line printed next comes after it). */
  flush(): void {
    const out = this.run.output();
    if (out.length === this.shown) return;
    this.write(out.subarray(this.shown));
    this.shown = out.length;
  }

  private async follow(): Promise<void> {
    let exited = false;
    void this.run.exited.then(() => (exited = true));
    while (!exited) {
      // Wakes at each new line; a timeout just means a partial line or an idle program.
      await this.run.waitFor('\n', IDLE_MS, this.shown).catch(() => undefined);
      this.flush();
    }
    this.flush();
  }
}
