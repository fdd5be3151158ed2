// 2. Keystroke round trip: one byte in, its echo back, through a command
// that echoes raw bytes (cat behind `stty raw -echo`, the same for all).
// The C reader (bench/outer-reader.c --keys) writes each key and times its
// echo, so the harness's own event loop is not in the figure.
import { FastOuter } from '../fast-outer.js';
import { fixed } from '../format.js';
import { atsrPeer, dtachPeer, rawPty, scriptPeer, tmuxPeer, type Peer } from '../peers.js';
import { within } from '../run-command.js';
import { percentile, sleep } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

const WARMUP = 100;
const ROUNDS = 4;
/**
 * A person types with a pause before every key: then caches and the CPU's
 * idle state are cold, which back-to-back keys never see ("A front's keys
 * read into one buffer" in docs/benchmarks.md). Each of these keys follows
 * this long with nothing running.
 */
const PAUSE_MS = 50;

/** An echoing session through `peer`, ready for keys. */
async function echoSession(reader: string, peer: Peer): Promise<FastOuter> {
  const outer = new FastOuter(reader, peer.runAttached("stty raw -echo; printf 'READY'; exec cat"), { keys: true, notify: 'READY' });
  await within(outer.seen(1), 10_000, `${peer.id} starting cat`);
  return outer;
}

async function roundTrips(peer: Peer, outer: FastOuter, count: number, into: number[]): Promise<void> {
  into.push(...(await within(outer.roundTrips(count), 5_000 + count * 100, `${peer.id} echoing ${count} keys`)));
}

export async function keystroke(config: BenchConfig): Promise<SuiteResult> {
  const count = config.quick ? 500 : 2000;
  const peers = [rawPty(), scriptPeer(), dtachPeer(config.workDir), tmuxPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const samples = new Map<Peer, number[]>(peers.map((p) => [p, []]));
  const afterPause = new Map<Peer, number[]>(peers.map((p) => [p, []]));
  const pauses = config.quick ? 10 : 40;
  const sessions = new Map<Peer, FastOuter>();
  try {
    for (const peer of peers) {
      sessions.set(peer, await echoSession(config.outerReader, peer));
      await roundTrips(peer, sessions.get(peer)!, WARMUP, []);
    }
    // In rounds, peer after peer, so that the machine's busy moments hit all alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const peer of peers) await roundTrips(peer, sessions.get(peer)!, count / ROUNDS, samples.get(peer)!);
    }
    for (let i = 0; i < pauses; i++) {
      for (const peer of peers) {
        await sleep(PAUSE_MS);
        await roundTrips(peer, sessions.get(peer)!, 1, afterPause.get(peer)!);
      }
    }
  } finally {
    await Promise.all([...sessions.values()].map((outer) => outer.end()));
    for (const peer of peers) await peer.cleanup();
  }
  const p = (peer: Peer, q: number): number => percentile(samples.get(peer)!, q);
  const paused = (peer: Peer): number => percentile(afterPause.get(peer)!, 50);
  const [pty, , , , atsr] = peers as [Peer, Peer, Peer, Peer, Peer];
  const rows = peers.map((peer) => [
    peer.label,
    fixed(p(peer, 50), 3),
    fixed(p(peer, 99), 3),
    fixed(p(peer, 50) - p(pty, 50), 3),
    fixed(p(peer, 99) - p(pty, 99), 3),
    fixed(paused(peer), 3),
    fixed(paused(peer) - paused(pty), 3),
  ]);
  const addedP99 = p(atsr, 99) - p(pty, 99);
  return {
    id: 'keystroke',
    title: `Keystroke round trip: ${count} single bytes echoed by \`stty raw -echo; cat\` (after ${WARMUP} warm-up), ms`,
    columns: ['peer', 'p50', 'p99', 'added p50 over pty', 'added p99 over pty', `after a ${PAUSE_MS} ms pause: median`, 'added over pty'],
    rows,
    notes: [
      'Each byte is written to the outer pty only after the previous echo arrived, and timed, by the C reader (bench/outer-reader.c --keys), the same for all.',
      `The peers take turns in ${ROUNDS} rounds, so that load from elsewhere on the machine falls on all of them.`,
      `After a pause: ${pauses} single keys per peer, peers in turn, each after ${PAUSE_MS} ms with nothing running, as a person types; the target is on the back-to-back keys.`,
    ],
    targets: [{ target: 'keystroke: atsr adds ≤ 0.2 ms at p99 over the raw pty', measured: `${fixed(addedP99, 3)} ms`, met: addedP99 <= 0.2 }],
    data: Object.fromEntries(
      peers.map((peer) => [
        peer.id,
        { label: peer.label, p50: p(peer, 50), p90: p(peer, 90), p99: p(peer, 99), max: p(peer, 100), afterPauseMs: afterPause.get(peer)! },
      ]),
    ),
  };
}
