// 6. Scale: many sessions attached through fronts, all writing at once.
// One harness process holds every front's outer pty. Measures the CPU the
// peer's processes spend (from /proc, startup excluded), their peak memory,
// and that every session's bytes arrived (sha256 against the expected).
import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { writeOutputFile, type OutputFile } from '../data.js';
import { fixed, mib, ratio } from '../format.js';
import { OuterPty } from '../outer-pty.js';
import { atsrPeer, dtachPeer, type Peer } from '../peers.js';
import { anonKiB, cpuSeconds, pssKiB } from '../proc.js';
import { inParallel, within } from '../run-command.js';
import { nowMs, sleep, sum } from '../stats.js';
import { progress, type BenchConfig, type SuiteResult } from '../suite.js';

const BYTES_PER_SESSION = 1 << 20;
const SAMPLE_MS = 250;
/** CPU seconds per second under which the sessions count as idle. */
const QUIET_CPU_SECONDS = 0.05;

interface ScaleRun {
  sessions: number;
  /** The go key to the last byte of the last session. */
  wallMs: number;
  /** User + system CPU of the peer's processes (servers and fronts) over that time. */
  cpuSeconds: number;
  /** Their Pss before the output began. */
  idlePssKiB: number;
  /** That plus the highest growth of their anonymous memory, sampled every SAMPLE_MS. */
  peakPssKiB: number;
  verified: number;
}

interface Receiver {
  file: OutputFile;
  hash: Hash;
  bytes: number;
  /** The hash of what arrived, once taken; later bytes are not counted. */
  sha256: string | undefined;
  done: () => void;
}

/** Waits until the processes' CPU use stops growing: every front has started and attached. */
async function settle(pids: readonly number[]): Promise<void> {
  let last = sum(pids.map(cpuSeconds));
  let quiet = 0;
  for (let waited = 0; waited < 120_000 && quiet < 2; waited += 1000) {
    await sleep(1000);
    const now = sum(pids.map(cpuSeconds));
    quiet = now - last < QUIET_CPU_SECONDS ? quiet + 1 : 0;
    last = now;
  }
}

/** Attaches a front to session `name` that hashes what arrives for `file`. */
function attachReceiver(peer: Peer, name: string, file: OutputFile, receivers: Receiver[], finished: Promise<void>[]): OuterPty {
  const r: Receiver = { file, hash: createHash('sha256'), bytes: 0, sha256: undefined, done: () => {} };
  finished.push(new Promise((resolve) => (r.done = resolve)));
  receivers.push(r);
  return new OuterPty(peer.attach(name), {
    onChunk: (chunk) => {
      if (r.sha256 !== undefined) return;
      r.hash.update(chunk);
      r.bytes += chunk.length;
      if (r.bytes >= r.file.expectedBytes) r.done();
    },
  });
}

async function run(peer: Peer, files: OutputFile[]): Promise<ScaleRun> {
  const names = files.map((_, i) => `s${i}`);
  const receivers: Receiver[] = [];
  const finished: Promise<void>[] = [];
  const fronts: OuterPty[] = [];
  try {
    progress(`scale: ${peer.id}: creating ${files.length} sessions`);
    // Each session waits for a return key, so that all start writing at once.
    await inParallel(files, 4, (file, i) => peer.createDetached(names[i]!, `stty -echo; read go; cat ${file.path}; exec sleep 3600`));
    progress(`scale: ${peer.id}: attaching ${files.length} fronts`);
    names.forEach((name, i) => fronts.push(attachReceiver(peer, name, files[i]!, receivers, finished)));
    const frontPids = fronts.map((f) => f.pid);
    await settle([...(await peer.serverPids()), ...frontPids]);
    // Asked once more, now that every front has attached.
    const watched = [...(await peer.serverPids()), ...frontPids];
    await settle(watched);
    const cpuBefore = sum(watched.map(cpuSeconds));
    const idlePssKiB = sum(watched.map(pssKiB));
    const anonBefore = sum(watched.map(anonKiB));
    let anonPeak = anonBefore;
    const sample = (): void => {
      anonPeak = Math.max(anonPeak, sum(watched.map(anonKiB)));
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    // What a front shows on attaching (dtach clears the screen) is not session output.
    for (const r of receivers) {
      r.hash = createHash('sha256');
      r.bytes = 0;
    }
    progress(`scale: ${peer.id}: all sessions writing`);
    const began = nowMs();
    for (const f of fronts) f.write('\r');
    try {
      await within(Promise.all(finished), 300_000, `${peer.id}: ${files.length} sessions writing`);
    } finally {
      clearInterval(sampler);
    }
    const wallMs = nowMs() - began;
    const cpu = sum(watched.map(cpuSeconds)) - cpuBefore;
    sample();
    for (const r of receivers) r.sha256 = r.hash.digest('hex');
    const verified = receivers.filter((r) => r.bytes === r.file.expectedBytes && r.sha256 === r.file.expectedSha256).length;
    return { sessions: files.length, wallMs, cpuSeconds: cpu, idlePssKiB, peakPssKiB: idlePssKiB + anonPeak - anonBefore, verified };
  } finally {
    for (const f of fronts) f.kill('SIGHUP');
    await peer.cleanup();
  }
}

export async function scale(config: BenchConfig): Promise<SuiteResult> {
  const n = config.sessions;
  const files = Array.from({ length: n }, (_, i) => writeOutputFile(join(config.workDir, `scale-${i}.txt`), 1000 + i, BYTES_PER_SESSION));
  const peers = [dtachPeer(config.workDir), atsrPeer(config.atsr[0]!, config.workDir)];
  const runs = new Map<Peer, ScaleRun>();
  for (const peer of peers) runs.set(peer, await run(peer, files));
  const dtach = runs.get(peers[0]!)!;
  const atsr = runs.get(peers[1]!)!;
  const total = mib(n * BYTES_PER_SESSION);
  const rows = peers.map((peer) => {
    const r = runs.get(peer)!;
    return [
      peer.label,
      fixed(r.wallMs / 1000, 2),
      fixed(total / (r.wallMs / 1000), 0),
      fixed(r.cpuSeconds, 2),
      ratio(r.cpuSeconds, dtach.cpuSeconds),
      fixed(r.idlePssKiB / 1024, 0),
      fixed(r.peakPssKiB / 1024, 0),
      `${r.verified}/${r.sessions}`,
    ];
  });
  return {
    id: 'scale',
    title: `Scale: ${n} attached sessions each writing ${mib(BYTES_PER_SESSION)} MiB at once`,
    columns: ['peer', 'wall s', 'MiB/s in all', 'CPU s (servers + fronts)', 'CPU vs dtach', 'idle Pss MiB', 'peak Pss MiB', 'sha256 ok'],
    rows,
    notes: [
      'The sessions are started detached and attached first; the measurement runs from the key that starts them all to the last byte.',
      'CPU: run time of every thread of every host/master and front over that time (/proc/PID/task/*/schedstat: a Node process also runs on threads of its own).',
      'Memory of the same processes: idle = summed Pss just before the output began; peak = that plus the highest growth of their resident anonymous memory (/proc/PID/statm, sampled every 250 ms; smaps_rollup is too slow to sample hundreds of processes without stalling the harness).',
      'tmux is left out here: it redraws a screen instead of passing the bytes, so they cannot be verified.',
    ],
    targets: [
      { target: `scale: every byte of ${n} sessions arrives (sha256)`, measured: `${atsr.verified}/${n}`, met: atsr.verified === n },
      { target: `scale: CPU of ${n} busy sessions ≤ 1.5x dtach's`, measured: ratio(atsr.cpuSeconds, dtach.cpuSeconds), met: atsr.cpuSeconds <= 1.5 * dtach.cpuSeconds },
    ],
    data: { bytesPerSession: BYTES_PER_SESSION, peers: peers.map((p) => ({ peer: p.id, label: p.label, ...runs.get(p) })) },
  };
}
