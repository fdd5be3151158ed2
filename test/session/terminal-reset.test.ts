// Leaving a command that runs on (a detach, a -f takeover) puts the user's
// terminal back: the command's modes (alternate screen, hidden cursor,
// keypad, mouse, bracketed paste, colours) are reset before `[detached`,
// for the VT family only; a command that exits restores them itself.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import type { PtyRun } from '../support/pty-harness.js';
import { useSandbox } from '../support/use-sandbox.js';

/** Exactly what the front writes for a VT-family TERM (src/front/terminal-reset.ts). */
const RESET =
  '\x1b[?1049l\x1b[?25h\x1b>\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[0m';

/** What a full-screen program sets, as vim and top do, ending with a marker. */
const SET_MODES = String.raw`printf '\033[?1049h\033[?25l\033=\033[?1h\033[?1000h\033[?1006h\033[?2004h\033[1;31mMODES-SET'`;
const MARK = 'MODES-SET';
const FULL_SCREEN = ['sh', '-c', `${SET_MODES}; exec sleep 600`];

/** The bytes the front wrote between the program's marker and `[detached`. */
async function betweenMarkAndDetached(run: PtyRun): Promise<string> {
  const mark = (await run.waitFor(MARK)) + MARK.length;
  const detached = await run.waitFor('[detached', 15_000, mark);
  return run.text().slice(mark, detached);
}

const box = useSandbox('termreset');

describe('terminal reset when leaving a running command', () => {
  it('the -e key resets the modes before [detached] (TERM=xterm)', async () => {
    const a = box().attach(['-e', '^\\', '-c', 'r1', ...FULL_SCREEN]);
    await a.waitFor(MARK);
    a.write(Buffer.from([0x1c]));
    expect(await betweenMarkAndDetached(a)).toBe(RESET);
    expect((await a.exit()).exitCode).toBe(0);
    expect((await box().session('r1')).exited).toBe(false);
  });

  it('Enter ~ . of -a resets the modes before [detached] (TERM=xterm)', async () => {
    expect((await box().atsr(['-n', 'r2', 'sh', '-c', `read l; ${SET_MODES}; exec sleep 600`])).code).toBe(0);
    const a = box().attach(['-a', 'r2']);
    await waitUntil('attached', async () => (await box().session('r2')).attached);
    a.write('go\r');
    await a.waitFor(MARK);
    a.write('~.');
    expect(await betweenMarkAndDetached(a)).toBe(RESET);
    expect((await a.exit()).exitCode).toBe(0);
  });

  it('a -f takeover resets the old terminal before [detached: session taken over] (TERM=xterm)', async () => {
    const first = box().attach(['-c', 'r3', ...FULL_SCREEN]);
    await first.waitFor(MARK);
    const taker = box().attach(['-a', '-f', 'r3']);
    const between = await betweenMarkAndDetached(first);
    await first.waitFor('[detached: session taken over');
    expect(between).toBe(RESET);
    expect((await first.exit()).exitCode).toBe(0);
    taker.kill('SIGKILL');
  });

  it('a host that is gone leaves the program no way to restore: the modes are reset before the error (TERM=xterm)', async () => {
    const a = box().attach(['-c', 'r6', ...FULL_SCREEN]);
    const mark = (await a.waitFor(MARK)) + MARK.length;
    process.kill((await box().session('r6')).pid, 'SIGKILL');
    const lost = await a.waitFor('atsr: lost the connection to the session host', 15_000, mark);
    expect(a.text().slice(mark, lost)).toBe(RESET);
    expect((await a.exit()).exitCode).toBe(9);
  });

  it('writes nothing extra for a type whose sequences are not known (TERM=wyse60)', async () => {
    const env = box().env({ TERM: 'wyse60' });
    // Sets the modes again for each line, so that each front sees them.
    const onEachLine = ['sh', '-c', `stty -echo; while read l; do ${SET_MODES}; done`];
    const a = box().attach(['-e', '^\\', '-c', 'r4', ...onEachLine], { env });
    a.write('\r');
    await a.waitFor(MARK);
    a.write(Buffer.from([0x1c]));
    expect(await betweenMarkAndDetached(a)).toBe('');
    expect((await a.exit()).exitCode).toBe(0);

    const first = box().attach(['-a', 'r4'], { env });
    await waitUntil('attached', async () => (await box().session('r4')).attached);
    first.write('\r');
    await first.waitFor(MARK);
    const taker = box().attach(['-a', '-f', 'r4'], { env });
    expect(await betweenMarkAndDetached(first)).toBe('');
    expect((await first.exit()).exitCode).toBe(0);
    taker.kill('SIGKILL');
  });

  it('writes nothing after a command that exits: it restored the terminal itself (TERM=xterm)', async () => {
    const a = box().attach(['-c', 'r5', 'sh', '-c', `${SET_MODES}; exit 3`]);
    expect((await a.exit()).exitCode).toBe(3);
    const out = a.text();
    expect(out.slice(out.indexOf(MARK) + MARK.length)).toBe('');
  });
});
