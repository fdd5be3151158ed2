// One change to the system. The plan is a list of them: the wizard's summary
// and `--dry-run` print their summaries, Proceed applies them in order.
import type { InstallLog } from './install-log.js';

export interface Change {
  /** What it does, in one line. */
  readonly summary: string;
  apply(log: InstallLog): void | Promise<void>;
}
