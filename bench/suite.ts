// What every benchmark suite gets and gives back.
import type { AtsrBuild } from './peers.js';

export interface BenchConfig {
  /** Repository root (dist/ is measured). */
  root: string;
  /** Scratch directory for data files and sockets; removed at the end. */
  workDir: string;
  quick: boolean;
  /** Sessions in the scale test. */
  sessions: number;
  /** atsr builds present, the one users run first. */
  atsr: AtsrBuild[];
  /** The C reader of the outer pty (bench/outer-reader.c), built for this run. */
  outerReader: string;
}

/** One target from the brief and whether it was met. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

export interface SuiteResult {
  id: string;
  title: string;
  /** A Markdown table: header row, then body rows. */
  columns: string[];
  rows: string[][];
  notes: string[];
  targets: TargetCheck[];
  /** Raw measurements for results.json. */
  data: unknown;
}

/** When a suite ran and how busy the machine was (other work skews the results). */
export interface SuiteRun {
  startedAt: string;
  /** 1, 5 and 15 minute load averages before and after the suite. */
  loadBefore: string;
  loadAfter: string;
  seconds: number;
}

export type RanSuite = SuiteResult & { run: SuiteRun };

export type Suite = (config: BenchConfig) => Promise<SuiteResult>;

/** A progress line on stderr (the tables go to stdout). */
export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
