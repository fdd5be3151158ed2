// 2. Keystroke round trip: one byte in, its echo back, through a command
// that echoes raw bytes (cat behind `stty raw -echo`, the same for all).
import { fixed } from '../format.js';
import { OuterPty } from '../outer-pty.js';
import { atsrPeer, dtachPeer, rawPty, scriptPeer, tmuxPeer, type Peer } from '../peers.js';
import { within } from '../run-command.js';
import { nowMs, percentile } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

const WARMUP = 100;
const ROUNDS = 4;
// Letters that tmux's screen updates do not use as escape-sequence finals.
const KEYS = 'abcdefgijknopqrsuvwxyz';

/** An echoing session through `peer`, ready for keys. */
async function echoSession(peer: Peer): Promise<OuterPty> {
  const outer = new OuterPty(peer.runAttached("stty raw -echo; printf 'READY'; exec cat"));
  await within(outer.waitFor('READY'), 10_000, `${peer.id} starting cat`);
  return outer;
}

async function roundTrips(peer: Peer, outer: OuterPty, count: number, into: number[]): Promise<void> {
  for (let i = 0; i < count; i++) {
    const key = KEYS[i % KEYS.length]!;
    const echoed = outer.waitFor(key);
    const sent = nowMs();
    outer.write(key);
    into.push((await within(echoed, 5_000, `${peer.id} echoing a key`)) - sent);
  }
}

export async function keystroke(config: BenchConfig): Promise<SuiteResult> {
  const count = config.quick ? 500 : 2000;
  const peers = [rawPty(), scriptPeer(), dtachPeer(config.workDir), tmuxPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const samples = new Map<Peer, number[]>(peers.map((p) => [p, []]));
  const sessions = new Map<Peer, OuterPty>();
  try {
    for (const peer of peers) {
      sessions.set(peer, await echoSession(peer));
      await roundTrips(peer, sessions.get(peer)!, WARMUP, []);
    }
    // In rounds, peer after peer, so that the machine's busy moments hit all alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const peer of peers) await roundTrips(peer, sessions.get(peer)!, count / ROUNDS, samples.get(peer)!);
    }
  } finally {
    for (const outer of sessions.values()) outer.kill();
    for (const peer of peers) await peer.cleanup();
  }
  const p = (peer: Peer, q: number): number => percentile(samples.get(peer)!, q);
  const [pty, , , , atsr] = peers as [Peer, Peer, Peer, Peer, Peer];
  const rows = peers.map((peer) => [
    peer.label,
    fixed(p(peer, 50), 3),
    fixed(p(peer, 99), 3),
    fixed(p(peer, 50) - p(pty, 50), 3),
    fixed(p(peer, 99) - p(pty, 99), 3),
  ]);
  const addedP99 = p(atsr, 99) - p(pty, 99);
  return {
    id: 'keystroke',
    title: `Keystroke round trip: ${count} single bytes echoed by \`stty raw -echo; cat\` (after ${WARMUP} warm-up), ms`,
    columns: ['peer', 'p50', 'p99', 'added p50 over pty', 'added p99 over pty'],
    rows,
    notes: [
      'Each byte is written to the outer pty only after the previous echo arrived; the harness is the same Node process for all.',
      `The peers take turns in ${ROUNDS} rounds, so that load from elsewhere on the machine falls on all of them.`,
    ],
    targets: [{ target: 'keystroke: atsr adds ≤ 0.2 ms at p99 over the raw pty', measured: `${fixed(addedP99, 3)} ms`, met: addedP99 <= 0.2 }],
    data: Object.fromEntries(peers.map((peer) => [peer.id, { label: peer.label, p50: p(peer, 50), p90: p(peer, 90), p99: p(peer, 99), max: p(peer, 100) }])),
  };
}
