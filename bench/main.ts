// `npm run bench`: atsr side by side with the raw pty, script, dtach and
// tmux, on this machine, in one run. Prints Markdown tables and writes
// bench/results.json. Not part of the test suite.
//   --quick          smaller sizes and fewer repetitions
//   --sessions N     sessions in the scale test (default 200; 50 with --quick)
//   --only a,b       run only these suites
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadAverages, machineInfo } from './machine.js';
import { buildOuterReader } from './fast-outer.js';
import { atsrBuilds } from './peers.js';
import { jsonReport, markdownReport } from './report.js';
import { progress, type BenchConfig, type RanSuite, type Suite } from './suite.js';
import { burstMemory } from './suites/burst-memory.js';
import { keystroke } from './suites/keystroke.js';
import { memory } from './suites/memory.js';
import { resume } from './suites/resume.js';
import { scale } from './suites/scale.js';
import { startup } from './suites/startup.js';
import { throughput } from './suites/throughput.js';

const SUITES: Record<string, Suite> = { throughput, keystroke, memory, burst: burstMemory, startup, resume, scale };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      sessions: { type: 'string' },
      only: { type: 'string' },
      root: { type: 'string', default: process.cwd() },
    },
  });
  const quick = values.quick === true;
  const sessions = values.sessions === undefined ? (quick ? 50 : 200) : Number(values.sessions);
  if (!Number.isInteger(sessions) || sessions < 1) throw new Error(`--sessions takes a whole number, not ${values.sessions}`);
  const only = values.only?.split(',') ?? Object.keys(SUITES);
  const unknown = only.filter((id) => !(id in SUITES));
  if (unknown.length > 0) throw new Error(`unknown suite ${unknown.join(', ')} (have ${Object.keys(SUITES).join(', ')})`);

  const root = values.root!;
  const workDir = mkdtempSync(join(tmpdir(), 'atsr-bench-'));
  const config: BenchConfig = { root, workDir, quick, sessions, atsr: atsrBuilds(root, workDir), outerReader: buildOuterReader(root, workDir) };
  // Other work may rebuild dist/; the time of the build measured says which it was.
  const builtAt = statSync(join(root, 'dist/atsr.cjs')).mtime.toISOString();
  const atsrMeasured = `${config.atsr.map((b) => b.label).join('; ')} (dist/ built ${builtAt})`;
  const machine = machineInfo();
  const startedAt = new Date();
  const results: RanSuite[] = [];
  try {
    for (const id of only) {
      progress(`${id}...`);
      const began = new Date();
      const loadBefore = loadAverages();
      const result = await SUITES[id]!(config);
      const seconds = (Date.now() - began.getTime()) / 1000;
      results.push({ ...result, run: { startedAt: began.toISOString(), loadBefore, loadAfter: loadAverages(), seconds } });
      progress(`${id} done in ${seconds.toFixed(1)} s`);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true, maxRetries: 5 });
  }
  const loadAtEnd = loadAverages();
  process.stdout.write(markdownReport(machine, loadAtEnd, atsrMeasured, results, startedAt));
  writeFileSync(join(root, 'bench/results.json'), jsonReport(machine, loadAtEnd, atsrMeasured, results, startedAt));
  progress(`wrote bench/results.json (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s in all)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
