// 1. Bulk output: a command writes a large file to its terminal; the outer
// harness counts the bytes it receives and stops when the front exits.
import { join } from 'node:path';
import { writeOutputFile, type OutputFile } from '../data.js';
import { fixed, mib, ratio } from '../format.js';
import { OuterPty } from '../outer-pty.js';
import { atsrPeer, dtachPeer, rawPty, scriptPeer, tmuxPeer, type Peer } from '../peers.js';
import { within } from '../run-command.js';
import { median, nowMs } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

interface Run {
  /** Spawn of the outer command to its exit. */
  wallMs: number;
  /** First output byte to the last. */
  transferMs: number;
  received: number;
  exitCode: number;
}

async function runOnce(peer: Peer, file: OutputFile): Promise<Run> {
  const outer = new OuterPty(peer.runAttached(`exec cat ${file.path}`));
  const exitCode = await within(outer.exited, 300_000, `${peer.id} writing ${file.path}`);
  // node-pty reports the exit after the pty's last byte has been read.
  return {
    wallMs: nowMs() - outer.startedAt,
    transferMs: outer.lastByteAt - outer.firstByteAt,
    received: outer.received,
    exitCode,
  };
}

/** What was wrong with a run's bytes, or undefined. tmux redraws a screen instead of passing bytes; dtach adds a line at the end. */
function bytesProblem(peer: Peer, run: Run, file: OutputFile): string | undefined {
  if (run.exitCode !== 0) return `exit ${run.exitCode}`;
  if (peer.id === 'tmux') return undefined;
  const extra = run.received - file.expectedBytes;
  if (extra < 0) return `${-extra} B short`;
  if (extra > 0 && peer.id !== 'dtach') return `${extra} B extra`;
  return undefined;
}

function bytesSummary(peer: Peer, runs: Run[], file: OutputFile): string {
  const problems = runs.map((r) => bytesProblem(peer, r, file)).filter((p) => p !== undefined);
  const ok = `${runs.length - problems.length}/${runs.length} ${peer.id === 'tmux' ? 'exited 0 (screen, not counted)' : 'exact'}`;
  return problems.length === 0 ? ok : `${ok}; **${problems.join(', ')}**`;
}

export async function throughput(config: BenchConfig): Promise<SuiteResult> {
  const size = (config.quick ? 16 : 64) << 20;
  const reps = config.quick ? 2 : 5;
  const file = writeOutputFile(join(config.workDir, 'bulk.txt'), 1, size);
  const peers = [rawPty(), scriptPeer(), dtachPeer(config.workDir), tmuxPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const runs = new Map<Peer, Run[]>(peers.map((p) => [p, []]));
  try {
    // Round robin, so that a slow phase of the machine hits every peer alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const peer of peers) runs.get(peer)!.push(await runOnce(peer, file));
    }
  } finally {
    for (const peer of peers) await peer.cleanup();
  }

  const med = (peer: Peer, key: 'wallMs' | 'transferMs'): number => median(runs.get(peer)!.map((r) => r[key]));
  const [pty, script, dtach, , atsr] = peers as [Peer, Peer, Peer, Peer, Peer];
  const rows = peers.map((peer) => {
    const transfer = med(peer, 'transferMs');
    return [
      peer.label,
      fixed(med(peer, 'wallMs'), 0),
      fixed(transfer, 0),
      fixed(mib(size) / (transfer / 1000), 0),
      ratio(transfer, med(pty, 'transferMs')),
      ratio(transfer, med(script, 'transferMs')),
      ratio(transfer, med(dtach, 'transferMs')),
      bytesSummary(peer, runs.get(peer)!, file),
    ];
  });
  const atsrT = med(atsr, 'transferMs');
  return {
    id: 'throughput',
    title: `Bulk output: ${mib(size)} MiB of base64 lines through each, median of ${reps}`,
    columns: ['peer', 'wall ms', 'transfer ms', 'MiB/s', 'vs pty', 'vs script', 'vs dtach', 'bytes'],
    rows,
    notes: [
      'wall: spawn of the attached command to its exit (atsr includes starting its host); transfer: first output byte to last.',
      'bytes: the harness counts every byte it receives and checks the total (the file with ONLCR applied; dtach adds its end line).',
    ],
    targets: [
      { target: 'throughput: atsr at least as fast as dtach', measured: ratio(atsrT, med(dtach, 'transferMs')), met: atsrT <= med(dtach, 'transferMs') },
      { target: 'throughput: atsr within 1.3x of the raw pty', measured: ratio(atsrT, med(pty, 'transferMs')), met: atsrT <= 1.3 * med(pty, 'transferMs') },
    ],
    data: { bytes: size, expectedBytes: file.expectedBytes, runs: peers.map((p) => ({ peer: p.id, label: p.label, runs: runs.get(p) })) },
  };
}
