// 3. Memory per session: N idle shells, Pss of the processes that keep them
// (atsr: hosts; dtach: masters; tmux: its one server,
// shared out), detached, then with a front attached to each. And the CPU
// those processes take while every session is idle and detached.
import { spawn } from 'node:child_process';
import { fixed } from '../format.js';
import { OuterPty } from '../outer-pty.js';
import { atsrPeer, dtachPeer, tmuxPeer, type Peer } from '../peers.js';
import { cpuSeconds, killAll, pssKiB } from '../proc.js';
import { inParallel, within } from '../run-command.js';
import { sleep, sum } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

const SETTLE_MS = 2000;
/** Idle CPU is measured from this long after the sessions were made (past a host's start-up work and first socket check)... */
const IDLE_FROM_MS = 30_000;
/** ...for this long (several of the hosts' 5 s socket checks). */
const IDLE_WINDOW_MS = 30_000;
const PROMPT = 'sh> ';
const MIB = 1024;

interface PeerMemory {
  /** KiB per session with nobody attached. */
  detachedKiB: number;
  /** KiB per session, server side plus a front each. */
  attachedKiB: number;
  /** Of that, the front's share. */
  frontKiB: number;
  /** CPU per detached idle session, in ms per second. */
  idleCpuMsPerS: number;
}

async function measure(peer: Peer, sessions: number): Promise<PeerMemory> {
  const names = Array.from({ length: sessions }, (_, i) => `m${i}`);
  const fronts: OuterPty[] = [];
  try {
    // A prompt of our own, the same for root and other users.
    await inParallel(names, 4, (name) => peer.createDetached(name, `PS1='${PROMPT}' exec sh`));
    const made = Date.now();
    await sleep(SETTLE_MS);
    const servers = await peer.serverPids();
    const detachedKiB = sum(servers.map(pssKiB)) / sessions;
    await sleep(made + IDLE_FROM_MS - Date.now());
    const cpuBefore = sum(servers.map(cpuSeconds));
    await sleep(IDLE_WINDOW_MS);
    const idleCpuMsPerS = ((sum(servers.map(cpuSeconds)) - cpuBefore) * 1000) / (IDLE_WINDOW_MS / 1000) / sessions;

    for (const name of names) fronts.push(new OuterPty(peer.attach(name)));
    // A return key makes every shell print a prompt: proof the front is attached.
    await sleep(SETTLE_MS);
    const prompted = Promise.all(fronts.map((f) => f.waitFor(PROMPT)));
    for (const f of fronts) f.write('\r');
    await within(prompted, 30_000, `${peer.id}: prompts through ${sessions} fronts`);
    await sleep(SETTLE_MS);
    const serverKiB = sum((await peer.serverPids()).map(pssKiB)) / sessions;
    const frontKiB = sum(fronts.map((f) => pssKiB(f.pid))) / sessions;
    return { detachedKiB, attachedKiB: serverKiB + frontKiB, frontKiB, idleCpuMsPerS };
  } finally {
    for (const f of fronts) f.kill('SIGHUP');
    await peer.cleanup();
  }
}

/** Pss of idle Node processes, as many as there are sessions: the floor a Node host stands on. */
async function nodeFloorKiB(count: number): Promise<number> {
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' }),
  );
  try {
    await sleep(SETTLE_MS);
    return sum(children.map((c) => pssKiB(c.pid!))) / count;
  } finally {
    killAll(children.map((c) => c.pid!));
  }
}

export async function memory(config: BenchConfig): Promise<SuiteResult> {
  const sessions = config.quick ? 10 : 50;
  const peers = [dtachPeer(config.workDir), tmuxPeer(config.workDir), ...config.atsr.map((b) => atsrPeer(b, config.workDir))];
  const results = new Map<Peer, PeerMemory>();
  for (const peer of peers) results.set(peer, await measure(peer, sessions));
  const floor = await nodeFloorKiB(sessions);

  const mib = (kib: number): string => fixed(kib / MIB, 2);
  const rows = peers.map((peer) => {
    const m = results.get(peer)!;
    return [peer.label, mib(m.detachedKiB), mib(m.attachedKiB), mib(m.frontKiB), fixed(m.idleCpuMsPerS, 3)];
  });
  rows.push([`idle node ${process.version} (\`setInterval\`), for context`, mib(floor), '', '', '']);
  const atsr = results.get(peers[2]!)!;
  return {
    id: 'memory',
    title: `Memory per session: ${sessions} idle \`sh\` sessions, Pss in MiB per session`,
    columns: ['peer', 'detached', 'attached', 'of which the front', 'idle CPU, ms/s'],
    rows,
    notes: [
      'Pss from /proc/PID/smaps_rollup: pages shared between processes are divided among them, so the executable counts once over all sessions.',
      'The shell itself is not counted (it is the same for every peer). tmux: its one server divided by the sessions, plus one client each.',
      'atsr: the host; the utmp helper it runs on an attach exits at once.',
      `Idle CPU: what the processes of the detached sessions ran (user + system, all threads, from /proc/PID/task/*/schedstat) over ${IDLE_WINDOW_MS / 1000} s from ${IDLE_FROM_MS / 1000} s after the sessions were made, in ms per second per session.`,
    ],
    targets: [
      { target: 'memory: ≤ 12 MiB per detached atsr session', measured: `${mib(atsr.detachedKiB)} MiB`, met: atsr.detachedKiB <= 12 * MIB },
      { target: `memory: ≤ 11 MiB Pss per attached atsr session (${sessions} idle sessions)`, measured: `${mib(atsr.attachedKiB)} MiB`, met: atsr.attachedKiB <= 11 * MIB },
    ],
    data: {
      sessions,
      nodeIdleFloorKiB: floor,
      peers: peers.map((p) => ({ peer: p.id, label: p.label, ...results.get(p) })),
    },
  };
}
