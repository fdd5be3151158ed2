// The end of every run, install or uninstall: the summary, then either the
// dry run (print, change nothing) or "Proceed? [y/N]" and the changes in
// order, each recorded in the install log.
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import type { InstallLog } from './install-log.js';
import type { Prompter } from './prompter.js';

export interface Plan {
  title: string;
  changes: Change[];
  /** Host findings and skipped steps, each saying what to do. */
  notes: string[];
}

export async function runPlan(plan: Plan, log: InstallLog, p: Prompter, opts: { dryRun: boolean; yes: boolean }): Promise<void> {
  const out = (s: string): boolean => process.stdout.write(s);
  const verb = opts.dryRun ? 'Dry run: would' : 'Will';
  out(`\n${plan.title}\n`);
  if (plan.changes.length === 0) out('  Nothing to change.\n');
  for (const c of plan.changes) out(`  ${verb} ${c.summary}\n`);
  for (const n of plan.notes) out(`  Note: ${n}\n`);
  if (opts.dryRun) {
    out('Dry run: nothing was changed.\n');
    return;
  }
  if (plan.changes.length === 0) return;
  if (!opts.yes && !(await p.confirm({ message: 'Proceed?', flag: '--yes', initial: false }))) {
    throw new InstallError('not confirmed; nothing was changed', InstallExit.declined);
  }
  for (const n of plan.notes) log.add('note', '-', { text: n });
  try {
    for (const c of plan.changes) {
      await c.apply(log);
      log.flush(); // as each change is made: a run killed mid-way leaves a log of what it did
      out(`  done: ${c.summary}\n`);
    }
  } finally {
    log.flush();
  }
}
