// The results as Markdown (printed, and pasted into docs/benchmarks.md) and JSON.
import type { MachineInfo } from './machine.js';
import type { RanSuite } from './suite.js';

function table(columns: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdownReport(machine: MachineInfo, loadAtEnd: string, atsrMeasured: string, results: RanSuite[], startedAt: Date): string {
  const parts = [
    `Run ${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}.`,
    `Machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, kernel ${machine.kernel}; harness on Node ${machine.node}.`,
    `Load average (1, 5, 15 min) at the start: ${machine.loadAtStart}; at the end: ${loadAtEnd}.`,
    `atsr measured: ${atsrMeasured}.`,
  ];
  const targets = results.flatMap((r) => r.targets);
  if (targets.length > 0) {
    parts.push(
      '### Targets',
      table(
        ['target', 'measured', 'met'],
        targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
      ),
    );
  }
  for (const r of results) {
    const when = `Ran ${r.run.startedAt.replace(/\.\d+Z$/, 'Z')} for ${r.run.seconds.toFixed(0)} s; load average before ${r.run.loadBefore}, after ${r.run.loadAfter}.`;
    parts.push(`### ${r.title}`, when, table(r.columns, r.rows));
    if (r.notes.length > 0) parts.push(r.notes.map((n) => `- ${n}`).join('\n'));
  }
  return `${parts.join('\n\n')}\n`;
}

export function jsonReport(machine: MachineInfo, loadAtEnd: string, atsrMeasured: string, results: RanSuite[], startedAt: Date): string {
  const suites = Object.fromEntries(results.map((r) => [r.id, { title: r.title, run: r.run, columns: r.columns, rows: r.rows, targets: r.targets, data: r.data }]));
  return `${JSON.stringify({ date: startedAt.toISOString(), machine, loadAtEnd, atsrMeasured, suites }, null, 2)}\n`;
}
