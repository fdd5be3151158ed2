// The tour's steps: a resumable session that prints a numbered line every
// 0.5 s, a network outage while it prints, the resume, and the end.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PtyRun } from '../test/support/pty-harness.js';
import type { ResumeRig } from '../test/support/resume-rig.js';
import { OutputRelay } from './output-relay.js';

const OUTAGE_MS = 4000;
const LINES_BEFORE_OUTAGE = 4;
const WAIT_MS = 30_000;
const STOP_MS = 2000;

// The session's command. It also records the last line number in a file,
// so that the demo (all on one machine) can tell what was printed while the
// network was down. A line of input ends it.
const TICKER = [
  'i=0',
  'while :; do i=$((i + 1))',
  `printf 'line %d  (printed at %s)\\n' "$i" "$(date +%T)"`,
  'echo "$i" > "$1"',
  `if read -t 0.5 key; then echo "the command read '$key' and ends"; exit 0; fi`,
  'done',
].join('; ');

export interface TourHooks {
  /** Prints a narration line. */
  say(text: string): void;
  /** Settles as `pending` does, or rejects first when the user interrupts. */
  step<T>(pending: Promise<T>): Promise<T>;
}

export interface TourResult {
  /** Lines printed during the outage that arrived after it. */
  missed: number;
  /** Empty when every line arrived exactly once, in order, and the session ended with status 0. */
  problems: string[];
}

const lineNumbers = (text: string): number[] => [...text.matchAll(/line (\d+) {2}\(printed at/g)].map((m) => Number(m[1]));
const lastLine = (text: string): number => Math.max(0, ...lineNumbers(text));
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runTour(rig: ResumeRig, hooks: TourHooks): Promise<TourResult> {
  const countFile = join(rig.box.dir, 'count');
  const remote = rig.remoteCommand(['bash', '-c', TICKER, 'ticker', countFile]);
  const size = { cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 };
  hooks.say('rezume opens a resumable session over ssh; on the server, atsr runs a command printing a numbered line every 0.5 s:');
  const rezume = rig.rezume(remote, size);
  const relay = new OutputRelay(rezume, (bytes) => process.stdout.write(bytes));
  const say = (text: string): void => {
    relay.flush();
    hooks.say(text);
  };
  try {
    await hooks.step(rezume.waitFor(`line ${LINES_BEFORE_OUTAGE} `, WAIT_MS));
    const missed = await cutAndRestore(rig, rezume, countFile, { say, step: hooks.step });

    say('ending the session: typing q into it');
    rezume.write('q\r');
    const { exitCode } = await hooks.step(rezume.exit(WAIT_MS));
    await relay.done;
    return { missed, problems: problemsIn(rezume.text(), exitCode) };
  } finally {
    // SIGTERM lets rezume remove its scratch directory; its ssh ends with its pty.
    rezume.kill('SIGTERM');
    await rezume.exit(STOP_MS).catch(() => rezume.kill('SIGKILL'));
  }
}

async function cutAndRestore(rig: ResumeRig, rezume: PtyRun, countFile: string, hooks: TourHooks): Promise<number> {
  hooks.say(`cutting the network for ${OUTAGE_MS / 1000} s: the proxy between ssh and sshd drops everything, and tells neither side`);
  rig.proxy.setMode('blackhole');
  const restoreAt = Date.now() + OUTAGE_MS;
  const noticed = await hooks.step(
    rezume.waitFor('\x1b]2;rezume: connection lost', OUTAGE_MS).then(
      () => true,
      () => false,
    ),
  );
  if (noticed) hooks.say('rezume noticed (its ssh keepalives went unanswered): "connection lost" in the terminal title; it keeps trying');
  await hooks.step(pause(restoreAt - Date.now()));

  const seen = lastLine(rezume.text());
  const printed = Number(readFileSync(countFile, 'utf8'));
  hooks.say(`restoring the network. You have seen up to line ${seen}; meanwhile the command printed up to line ${printed}`);
  rig.proxy.setMode('pass');
  await hooks.step(rezume.waitFor(`line ${printed + 2} `, WAIT_MS));
  hooks.say(`resumed: lines ${seen + 1} to ${printed} came after the outage, then new lines as before`);
  return printed - seen;
}

function problemsIn(text: string, exitCode: number): string[] {
  const problems: string[] = [];
  const numbers = lineNumbers(text);
  const expected = Array.from({ length: numbers.length }, (_, i) => i + 1);
  if (numbers.join(',') !== expected.join(',')) problems.push(`lines arrived as ${numbers.join(',')}, not each once in order`);
  if (exitCode !== 0) problems.push(`rezume exited with ${exitCode}, not the session's 0`);
  return problems;
}
