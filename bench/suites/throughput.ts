// 1. Bulk output: a command writes a large file to its terminal. The outer
// terminal is bench/outer-reader.c, which reads the pty in C as fast as the
// kernel gives it (the raw pty's row is that ceiling) and checks every byte
// by a CRC-32.
import { join } from 'node:path';
import { writeOutputFile, type OutputFile } from '../data.js';
import { FastOuter } from '../fast-outer.js';
import { fixed, mib, ratio } from '../format.js';
import { atsrPeer, dtachPeer, rawPty, scriptPeer, tmuxPeer, type Peer } from '../peers.js';
import { within } from '../run-command.js';
import { median } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

/** dtach clears the screen before the command's output (its -c). */
const DTACH_CLEAR = '\x1b[H\x1b[J';

interface Run {
  /** Spawn of the outer command to its exit. */
  wallMs: number;
  /** First output byte to the last. */
  transferMs: number;
  received: number;
  exitCode: number;
  /** Whether the command's bytes arrived unchanged (CRC-32 of the file with ONLCR). */
  crcOk: boolean;
}

/** Where the command's own bytes start in what the outer pty receives. */
function leadingBytes(peer: Peer): number {
  return peer.id === 'dtach' ? DTACH_CLEAR.length : 0;
}

async function runOnce(config: BenchConfig, peer: Peer, file: OutputFile): Promise<Run> {
  const outer = new FastOuter(config.outerReader, peer.runAttached(`exec cat ${file.path}`), {
    crc: { from: leadingBytes(peer), length: file.expectedBytes },
  });
  const done = await within(outer.done, 300_000, `${peer.id} writing ${file.path}`);
  return {
    wallMs: done.exitMs,
    transferMs: done.lastMs - done.firstMs,
    received: done.received,
    exitCode: done.exitCode,
    crcOk: done.crc32 === file.expectedCrc32,
  };
}

/** What was wrong with a run's bytes, or undefined. tmux redraws a screen instead of passing bytes; dtach adds a line at the end. */
function bytesProblem(peer: Peer, run: Run, file: OutputFile): string | undefined {
  if (run.exitCode !== 0) return `exit ${run.exitCode}`;
  if (peer.id === 'tmux') return undefined;
  const extra = run.received - leadingBytes(peer) - file.expectedBytes;
  if (extra < 0) return `${-extra} B short`;
  if (extra > 0 && peer.id !== 'dtach') return `${extra} B extra`;
  if (!run.crcOk) return 'CRC-32 differs';
  return undefined;
}

function bytesSummary(peer: Peer, runs: Run[], file: OutputFile): string {
  const problems = runs.map((r) => bytesProblem(peer, r, file)).filter((p) => p !== undefined);
  const ok = `${runs.length - problems.length}/${runs.length} ${peer.id === 'tmux' ? 'exited 0 (screen, not counted)' : 'exact'}`;
  return problems.length === 0 ? ok : `${ok}; **${problems.join(', ')}**`;
}

export async function throughput(config: BenchConfig): Promise<SuiteResult> {
  const size = (config.quick ? 16 : 64) << 20;
  const reps = config.quick ? 2 : 7;
  const file = writeOutputFile(join(config.workDir, 'bulk.txt'), 1, size);
  const peers = [rawPty(), scriptPeer(), dtachPeer(config.workDir), tmuxPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const runs = new Map<Peer, Run[]>(peers.map((p) => [p, []]));
  try {
    // Round robin, so that a slow phase of the machine hits every peer alike.
    for (let rep = 0; rep < reps; rep++) {
      for (const peer of peers) runs.get(peer)!.push(await runOnce(config, peer, file));
    }
  } finally {
    for (const peer of peers) await peer.cleanup();
  }

  const med = (peer: Peer, key: 'wallMs' | 'transferMs'): number => median(runs.get(peer)!.map((r) => r[key]));
  const [pty, script, dtach, tmux, atsr] = peers as [Peer, Peer, Peer, Peer, Peer];
  /** Transfer time of `peer` over `base`'s in each round: the two ran back to back. */
  const perRound = (peer: Peer, base: Peer): number[] => runs.get(peer)!.map((r, i) => r.transferMs / runs.get(base)![i]!.transferMs);
  const spread = (values: number[]): string => `${fixed(Math.min(...values), 2)}–${fixed(Math.max(...values), 2)}`;
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
      ratio(transfer, med(tmux, 'transferMs')),
      spread(perRound(peer, dtach)),
      bytesSummary(peer, runs.get(peer)!, file),
    ];
  });
  const atsrVsDtach = median(perRound(atsr, dtach));
  return {
    id: 'throughput',
    title: `Bulk output: ${mib(size)} MiB of base64 lines through each, a C reader on the outer pty, median of ${reps}`,
    columns: ['peer', 'wall ms', 'transfer ms', 'MiB/s', 'vs pty', 'vs script', 'vs dtach', 'vs tmux', 'vs dtach per round', 'bytes'],
    rows,
    notes: [
      'The outer pty is read by bench/outer-reader.c (C, 64 KiB reads, zlib CRC-32 of each read while it is in the cache), not by node-pty: the raw pty row is the ceiling the reader allows.',
      'wall: spawn of the attached command to its exit (atsr includes starting its host); transfer: first output byte to last. "vs" columns: ratios of the median transfer times.',
      `Rounds: the peers run one after the other, ${reps} times; "vs dtach per round" is the lowest and highest ratio of two runs made back to back.`,
      'bytes: the reader keeps every byte; the count must be the file with ONLCR applied (dtach adds a screen clear before and its end line after) and its CRC-32 must match; tmux redraws a screen and is not counted.',
    ],
    targets: [
      {
        target: 'throughput: atsr/dtach ≤ 1.0 with a fast reader (median of the per-round ratios)',
        measured: `${fixed(atsrVsDtach, 2)}x`,
        met: atsrVsDtach <= 1.0,
      },
    ],
    data: {
      bytes: size,
      expectedBytes: file.expectedBytes,
      atsrVsDtachPerRound: perRound(atsr, dtach),
      atsrVsPtyPerRound: perRound(atsr, pty),
      atsrVsTmuxPerRound: perRound(atsr, tmux),
      runs: peers.map((p) => ({ peer: p.id, label: p.label, runs: runs.get(p) })),
    },
  };
}
