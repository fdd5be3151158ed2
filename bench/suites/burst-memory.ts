// 3b. Memory per attached session around a burst: idle, right after the
// session wrote 64 MiB, and 10 s later. The fronts hang on outer ptys read
// by bench/outer-reader.c, so the burst runs at full speed. The front is
// whatever runs on the outer pty: the reader's child (the session leader
// there) and anything below it, so a front that execs a native relay, or
// forks one, is counted all the same.
import { join } from 'node:path';
import { writeOutputFile } from '../data.js';
import { FastOuter } from '../fast-outer.js';
import { fixed, mib } from '../format.js';
import { atsrPeer, dtachPeer, type Peer } from '../peers.js';
import { pssSplitKiB, sumSplits, withDescendants, type PssSplit } from '../proc.js';
import { inParallel, within } from '../run-command.js';
import { sleep } from '../stats.js';
import { progress, type BenchConfig, type SuiteResult } from '../suite.js';

const SETTLE_MS = 2000;
const QUIET_MS = 10_000;
// Printed by the session after each line of input: the split keeps it out of the command's echo.
const MARK = 'BURSTMARK';
const MARK_COMMAND = `printf 'BURST%s\\n' MARK`;

/** Pss of one moment, per session: the server side (host / dtach master) and the fronts. */
interface Snapshot {
  server: PssSplit;
  front: PssSplit;
}

interface BurstMemory {
  sessions: number;
  frontProcesses: number;
  idle: Snapshot;
  afterBurst: Snapshot;
  quietAgain: Snapshot;
}

async function snapshot(peer: Peer, fronts: FastOuter[]): Promise<Snapshot> {
  const perSession = (s: PssSplit): PssSplit => ({ pss: s.pss / fronts.length, pssAnon: s.pssAnon / fronts.length });
  const frontPids = (await Promise.all(fronts.map((f) => f.childPid))).flatMap(withDescendants);
  return {
    server: perSession(sumSplits((await peer.serverPids()).map(pssSplitKiB))),
    front: perSession(sumSplits(frontPids.map(pssSplitKiB))),
  };
}

async function measure(config: BenchConfig, peer: Peer, sessions: number, filePath: string): Promise<BurstMemory> {
  const names = Array.from({ length: sessions }, (_, i) => `b${i}`);
  const fronts: FastOuter[] = [];
  try {
    // Each line of input prints the mark; the line "b" first writes the burst.
    const command = `stty -echo; while read line; do [ "$line" = b ] && cat ${filePath}; ${MARK_COMMAND}; done`;
    await inParallel(names, 4, (name) => peer.createDetached(name, command));
    for (const name of names) fronts.push(new FastOuter(config.outerReader, peer.attach(name), { notify: MARK }));
    // The mark coming back through each front proves it is attached.
    for (const f of fronts) f.write('\r');
    await within(Promise.all(fronts.map((f) => f.seen(1))), 30_000, `${peer.id}: attaching ${sessions} fronts`);
    await sleep(SETTLE_MS);
    const idle = await snapshot(peer, fronts);
    progress(`burst: ${peer.id}: ${sessions} sessions writing`);
    for (const f of fronts) f.write('b\r');
    await within(Promise.all(fronts.map((f) => f.seen(2))), 300_000, `${peer.id}: ${sessions} bursts`);
    const afterBurst = await snapshot(peer, fronts);
    await sleep(QUIET_MS);
    const quietAgain = await snapshot(peer, fronts);
    const frontProcesses = (await Promise.all(fronts.map((f) => f.childPid))).flatMap(withDescendants).length;
    return { sessions, frontProcesses, idle, afterBurst, quietAgain };
  } finally {
    for (const f of fronts) await f.hangUp();
    await peer.cleanup();
  }
}

const MIB_KIB = 1024;

export async function burstMemory(config: BenchConfig): Promise<SuiteResult> {
  const sessions = config.quick ? 2 : 4;
  const size = (config.quick ? 16 : 64) << 20;
  const file = writeOutputFile(join(config.workDir, 'burst.txt'), 2, size);
  const peers = [dtachPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const results = new Map<Peer, BurstMemory>();
  for (const peer of peers) results.set(peer, await measure(config, peer, sessions, file.path));

  const m = (kib: number): string => fixed(kib / MIB_KIB, 2);
  const anon = (s: Snapshot): number => s.server.pssAnon + s.front.pssAnon;
  const rows = peers.flatMap((peer) => {
    const r = results.get(peer)!;
    const row = (what: string, pick: (s: Snapshot) => PssSplit): string[] => [
      `${peer.label}: ${what}`,
      ...[r.idle, r.afterBurst, r.quietAgain].flatMap((s) => [m(pick(s).pss), m(pick(s).pssAnon)]),
    ];
    return [row('server side', (s) => s.server), row('front', (s) => s.front), row('attached session', (s) => sumSplits([s.server, s.front]))];
  });
  const atsr = results.get(peers[1]!)!;
  // Anon: the executable's pages the burst touched are shared by every host and can be dropped by the kernel.
  const hostGrowth = atsr.quietAgain.server.pssAnon - atsr.idle.server.pssAnon;
  return {
    id: 'burst',
    title: `Memory per attached session around a burst: ${sessions} sessions each writing ${mib(size)} MiB at once, Pss (and Pss_Anon) in MiB per session`,
    columns: ['peer: part', 'idle Pss', 'idle anon', 'right after Pss', 'right after anon', `${QUIET_MS / 1000} s later Pss`, `${QUIET_MS / 1000} s later anon`],
    rows,
    notes: [
      'Pss and Pss_Anon from /proc/PID/smaps_rollup, summed and divided by the sessions. Shared pages are divided among the processes that map them, so the executable counts once over the sessions.',
      'server side: the atsr host; dtach: its master. front: the process on each outer pty (the reader\'s child) and its descendants; the session\'s own shell is not counted.',
      `Idle: ${SETTLE_MS / 1000} s after every front was attached; right after: when every session's mark after its ${mib(size)} MiB arrived; then ${QUIET_MS / 1000} s with no output.`,
    ],
    // On Pss_Anon, the private part: the Pss of the executable's pages depends on how many
    // processes share them (few here; see the memory table for 50 sessions).
    targets: [
      { target: 'memory: attached atsr session ≤ 11 MiB Pss_Anon idle', measured: `${m(anon(atsr.idle))} MiB`, met: anon(atsr.idle) <= 11 * MIB_KIB },
      {
        target: `memory: attached atsr session ≤ 12 MiB Pss_Anon ${QUIET_MS / 1000} s after a ${mib(size)} MiB burst`,
        measured: `${m(anon(atsr.quietAgain))} MiB`,
        met: anon(atsr.quietAgain) <= 12 * MIB_KIB,
      },
      {
        target: `memory: a host back within 1 MiB of its idle Pss_Anon ${QUIET_MS / 1000} s after its output went quiet`,
        measured: `${hostGrowth >= 0 ? '+' : ''}${m(hostGrowth)} MiB`,
        met: hostGrowth <= MIB_KIB,
      },
    ],
    data: { sessions, bytesPerSession: size, peers: peers.map((p) => ({ peer: p.id, label: p.label, ...results.get(p) })) },
  };
}
