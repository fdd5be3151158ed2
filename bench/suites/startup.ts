// 4. Startup: a front attaching to an existing session until the session's
// first output arrives. Each attach brings a new window width, so the
// command gets SIGWINCH and prints that width: a byte the command produced
// because of this attach, not an old one replayed. The C reader starts
// each front and times it: forked by a large interpreter process, even a C
// program that prints its width took 10 ms to its output here, and the
// harness set every row (docs/benchmarks.md, "The ProxyCommand's shell,
// and the harness's own start").
import { FastOuter } from '../fast-outer.js';
import { fixed, ratio } from '../format.js';
import { RECORD_DELAY_MS } from '../../src/host/utmp-recorder.js';
import { atsrPeer, dtachPeer, tmuxPeer, type Peer } from '../peers.js';
import { within } from '../run-command.js';
import { cpuSeconds, withDescendants } from '../proc.js';
import { median, percentile, sleep, sum } from '../stats.js';
import type { BenchConfig, SuiteResult } from '../suite.js';

// Perl answers SIGWINCH with "W<cols>;" (TIOCGWINSZ is 0x5413 on Linux).
const WIDTH_REPORTER =
  `exec perl -e '$SIG{WINCH} = sub { my $ws = "\\0" x 8; ioctl(STDIN, 0x5413, $ws); ` +
  `my (undef, $cols) = unpack("S2", $ws); syswrite(STDOUT, "W$cols;") }; sleep 1 while 1'`;
const WARMUP = 2;
/** Quiet: the servers and what they started ran less than this much CPU... */
const QUIET_CPU_SECONDS = 0.0005;
/** ...in a window this long: longer than atsr's host waits before its logon record, which would otherwise come after it. */
const QUIET_WINDOW_MS = RECORD_DELAY_MS + 50;
/** ...waited for at most this long. */
const QUIET_LIMIT_MS = 3000;

/**
 * Waits until the peers' servers, and the processes they started, are
 * quiet: each attach starts on an idle machine, and what one peer does
 * after its attach (atsr's host writes a logon record 100 ms later) falls
 * into no other peer's time.
 */
async function quiet(servers: readonly number[]): Promise<void> {
  const cpu = (): number => sum(servers.flatMap(withDescendants).map(cpuSeconds));
  for (const deadline = Date.now() + QUIET_LIMIT_MS; Date.now() < deadline; ) {
    const before = cpu();
    await sleep(QUIET_WINDOW_MS);
    if (cpu() - before < QUIET_CPU_SECONDS) return;
  }
}

/**
 * Runs `argv` on an outer pty `cols` wide until `answer` arrives; the time
 * from the fork to it, by the reader's clock.
 */
async function timeToAnswer(reader: string, argv: readonly string[], cols: number, answer: string, what: string): Promise<number> {
  const front = new FastOuter(reader, argv, { cols, notify: answer });
  try {
    return await within(front.seen(1), 10_000, what);
  } finally {
    // A hangup, as when the connection drops; the session stays.
    await front.hangUp();
    await within(front.done, 5_000, `${what}: front ending`).catch(() => undefined);
  }
}

/** One attach with a window `cols` wide; the time to the command's answer. */
function attachOnce(reader: string, peer: Peer, cols: number): Promise<number> {
  return timeToAnswer(reader, peer.attach('startup'), cols, `W${cols};`, `${peer.id}: attach`);
}

/** The harness's floor: a small C program started the same way, printing the window size. */
function floorOnce(reader: string, cols: number): Promise<number> {
  return timeToAnswer(reader, ['stty', 'size'], cols, `24 ${cols}`, 'stty size');
}

export async function startup(config: BenchConfig): Promise<SuiteResult> {
  const count = config.quick ? 6 : 20;
  const first = config.atsr[0]!;
  // As dtach's attach here (-r winch): no screen to rebuild, so the native entry attaches with no Node process.
  const fast = atsrPeer(first, config.workDir, { id: 'atsr-winch', label: `${first.label}: -a -R winch, the native entry's fast attach`, options: ['-R', 'winch'] });
  const peers = [dtachPeer(config.workDir), tmuxPeer(config.workDir), fast, ...config.atsr.map((b) => atsrPeer(b, config.workDir))];
  const samples = new Map<Peer, number[]>(peers.map((p) => [p, []]));
  const floor: number[] = [];
  try {
    for (const peer of peers) await peer.createDetached('startup', WIDTH_REPORTER);
    const servers = (await Promise.all(peers.map((p) => p.serverPids()))).flat();
    // Peer after peer in each round, so that load from elsewhere falls on all alike.
    for (let i = 0; i < WARMUP + count; i++) {
      const cols = i % 2 === 0 ? 81 : 80;
      await quiet(servers);
      const floorMs = await floorOnce(config.outerReader, cols);
      if (i >= WARMUP) floor.push(floorMs);
      for (const peer of peers) {
        await quiet(servers); // also: each host has seen its last front go before the next one comes
        const ms = await attachOnce(config.outerReader, peer, cols);
        if (i >= WARMUP) samples.get(peer)!.push(ms);
      }
    }
  } finally {
    for (const peer of peers) await peer.cleanup();
  }
  const med = (peer: Peer): number => median(samples.get(peer)!);
  const dtach = peers[0]!;
  const atsr = fast;
  const rows = [
    ['`stty size` started the same way (the floor: a C program\'s start on the outer pty)', fixed(median(floor), 1), fixed(percentile(floor, 90), 1), ratio(median(floor), med(dtach))],
    ...peers.map((peer) => [peer.label, fixed(med(peer), 1), fixed(percentile(samples.get(peer)!, 90), 1), ratio(med(peer), med(dtach))]),
  ];
  return {
    id: 'startup',
    title: `Attach to an existing session until its first output, ms (median of ${count})`,
    columns: ['peer', 'median', 'p90', 'vs dtach -a'],
    rows,
    notes: [
      "From the C reader's fork of the front on a new outer pty to the bytes the command printed on the SIGWINCH the attach caused, by the reader's clock.",
      `Each attach starts when every peer's server processes and their children ran under ${QUIET_CPU_SECONDS * 1000} ms of CPU in ${QUIET_WINDOW_MS} ms (at most ${QUIET_LIMIT_MS / 1000} s), so that what one peer does after its attach falls into no other's time.`,
      `tmux redraws its screen on attach; the time is still to the command's own answer.`,
      'atsr -a without -R rebuilds the screen for a VT terminal (the emulator, in Node); -R winch asks the program to redraw, as dtach -r winch does, and needs no Node process.',
    ],
    targets: [{ target: 'attach: ≤ 10 ms (median), atsr -a -R winch', measured: `${fixed(med(atsr), 1)} ms`, met: med(atsr) <= 10 }],
    data: { floor, ...Object.fromEntries(peers.map((p) => [p.id, { label: p.label, samples: samples.get(p) }])) },
  };
}
