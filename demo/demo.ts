// `npm run demo`: a one-minute tour of a resume, all on this machine: a
// throwaway loopback sshd with its own keys, a proxy in front of it that can
// cut the network, and the real rezume and atsr from dist/. It needs no tty
// on stdin; everything it started is removed at the end, also on Ctrl-C.
import { ResumeRig } from '../test/support/resume-rig.js';
import { runTour } from './tour.js';

const INTERRUPTS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

class Interrupted extends Error {}

const bold = (text: string): string => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const say = (text: string): void => {
  process.stdout.write(`${bold(`demo: ${text}`)}\n`);
};

/** Rejects when the user interrupts, so that each step ends and the cleanup runs. */
function interruption(): Promise<never> {
  return new Promise((_, reject) => {
    // Kept installed: a second Ctrl-C must not kill the demo halfway through its cleanup.
    for (const signal of INTERRUPTS) process.on(signal, () => reject(new Interrupted(signal)));
  });
}

async function main(): Promise<number> {
  const interrupted = interruption();
  interrupted.catch(() => undefined); // only the steps racing it report it
  const step = <T>(pending: Promise<T>): Promise<T> => Promise.race([pending, interrupted]);

  say('starting a throwaway sshd on 127.0.0.1 (its own keys and config), and a proxy in front of it');
  const starting = ResumeRig.start('demo');
  try {
    const rig = await step(starting);
    const { missed, problems } = await runTour(rig, { say, step });
    for (const problem of problems) say(`unexpected: ${problem}`);
    if (problems.length > 0) return 1;
    say(`resumed; ${missed} lines missed during the outage arrived after it`);
    return 0;
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
    say(`interrupted (${err.message}): cleaning up`);
    return 130;
  } finally {
    // Also when interrupted while it was still starting.
    await starting.then((rig) => rig.stop(), () => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
