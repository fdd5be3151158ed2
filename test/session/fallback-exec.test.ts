// The never-lock-out fallback becomes the command (execve): the terminal's
// signals reach the program as they would without atsr, its status is the
// login's, and no atsr process stays in between.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { atsrCommand } from '../support/atsr-bin.js';
import { PtyRun } from '../support/pty-harness.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('fallback');

/** `atsr -i ATSR_ID -t` with an ATSR_ID that is refused, as rezumable runs it. */
function fallback(command: string[]): PtyRun {
  const env = box().env({ ATSR_ID: 'bad/id' });
  return new PtyRun([...atsrCommand(), '-u', box().sockets, '-i', 'ATSR_ID', '-t', '-f', '-s', ...command], { env });
}

const WARNING = "atsr: the session name contains '/' (from $ATSR_ID); running";

describe('the fallback becomes the command', () => {
  it('Ctrl-C reaches the program, which survives it; its status is atsr\'s, and atsr\'s PID is the program\'s', async () => {
    // Traps SIGINT, reports it, and ends with its own status after it.
    const program = 'trap "echo got-int; n=1" INT; echo "ready $$"; while [ -z "$n" ]; do sleep 0.05; done; echo "after-int"; exit 42';
    const t = fallback(['sh', '-c', program]);
    await t.waitFor(/ready \d+\r\n/);
    const pid = Number(/ready (\d+)/.exec(t.text())![1]);
    expect(pid).toBe(t.pid); // the program replaced atsr: same process
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8')).toBe('sh\n');
    t.write('\x03');
    expect(await t.exit()).toEqual({ exitCode: 42, signal: 0 });
    expect(t.text()).toBe(`${WARNING} sh directly\r\nready ${pid}\r\n^Cgot-int\r\nafter-int\r\n`);
  });

  it('the program gets the terminal as a shell would give it: no signal ignored, stdio blocking', async () => {
    const t = fallback(['sh', '-c', 'grep SigIgn /proc/self/status; for fd in 0 1 2; do grep flags /proc/self/fdinfo/$fd; done']);
    expect((await t.exit()).exitCode).toBe(0);
    expect(t.text()).toContain('SigIgn:\t0000000000000000\r\n');
    const flags = [...t.text().matchAll(/flags:\t(\d+)/g)].map((m) => Number.parseInt(m[1]!, 8));
    expect(flags.map((f) => f & 0o4000)).toEqual([0, 0, 0]); // no O_NONBLOCK on fd 0, 1, 2
  });

  it('a command that is not found: one clear line, exit 127', async () => {
    const t = fallback(['no-such-command-atsr']);
    expect((await t.exit()).exitCode).toBe(127);
    expect(t.text()).toBe(`${WARNING} no-such-command-atsr directly\r\natsr: no-such-command-atsr: command not found\r\n`);
  });

  it('a script whose interpreter is missing: one clear line, exit 126 (as sh says it)', async () => {
    const script = `${box().dir}/bad-interp`;
    writeFileSync(script, '#!/no/such/interpreter\necho never\n', { mode: 0o755 });
    const t = fallback([script]);
    expect((await t.exit()).exitCode).toBe(126);
    expect(t.text()).toBe(`${WARNING} ${script} directly\r\natsr: ${script}: bad interpreter /no/such/interpreter\r\n`);
  });

  it('a script without #! runs with /bin/sh, as execvp(3) does', async () => {
    const script = `${box().dir}/no-shebang`;
    writeFileSync(script, 'echo "plain script $1"\nexit 3\n', { mode: 0o755 });
    const t = fallback([script, 'arg1']);
    expect((await t.exit()).exitCode).toBe(3);
    expect(t.text()).toBe(`${WARNING} ${script} directly\r\nplain script arg1\r\n`);
  });
});
