// Every bad input gets one clear line and a documented exit code, and no
// session is harmed; where a login is at stake, the command still runs.
import { chmodSync, chownSync, mkdirSync, symlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { rawAttachFrame } from '../support/raw-attach.js';
import { useSandbox } from '../support/use-sandbox.js';
import { PtyRun } from '../support/pty-harness.js';
import { atsrCommand } from '../support/atsr-bin.js';

const box = useSandbox('bad');

describe('command line', () => {
  it.each([
    [['-a', '-t', 's', 'sh'], 'only one action at a time (got -a -t)'],
    [['s', 'sh'], 'no action: give one of -a, -t, -c, -n or -l'],
    [['-q', '-t', 's', 'sh'], "unknown option '-q'"],
    [['-b', '600000', '-n', 's', 'sh'], "-b takes a whole number from 0 to 524288, not '600000'"],
    [['-b', 'abc', '-n', 's', 'sh'], "-b takes a whole number from 0 to 524288, not 'abc'"],
    [['-x', '-1', '-n', 's', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not '-1'"],
    [['-x', 'soon', '-n', 's', 'sh'], "-x takes minutes, a number from 0 to 527040 (a year), not 'soon'"],
    [['-d', '9', '-n', 's', 'sh'], "-d takes a whole number from 0 to 3, not '9'"],
    [['-n', 's'], 'missing the command to run in the session'],
    [['-t'], 'missing the session name'],
  ])('atsr %j fails with exit 2', async (args, message) => {
    const r = await box().atsr(args);
    expect(r.stderr).toBe(`atsr: ${message}\n`);
    expect(r.code).toBe(2);
    expect(await box().list()).toEqual([]);
  });

  it('stops option parsing at the first non-option argument', async () => {
    const a = box().attach(['-c', 'p1', 'sh', '-c', 'echo "args:$*"', 'sh', '-l', '.', '-x']);
    await a.waitFor('args:-l . -x');
    expect((await a.exit()).exitCode).toBe(0);
  });

  it('--help and --version print and exit 0', async () => {
    const h = await box().run(['--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: atsr [options] <session_name> <command...>');
    const v = await box().run(['--version']);
    expect(v).toMatchObject({ code: 0, stdout: expect.stringMatching(/^atsr \d+\.\d+\.\d+\n$/) });
  });
});

describe('session names from the network (-i ATSR_ID)', () => {
  it.each([
    ['a/b', "the session name contains '/'"],
    ['..x', "the session name contains '..'"],
    ['a\x01b', 'the session name contains a control character'],
    ['x'.repeat(65), 'the session name is over 64 characters'],
    ['', 'the session name is empty'],
  ])('refuses %j: -a fails with exit 7, -t runs the command directly', async (id, why) => {
    const env = box().env({ ATSR_ID: id });
    const a = new PtyRun([...atsrCommand(), '-u', box().sockets, '-i', 'ATSR_ID', '-a'], { env });
    expect((await a.exit()).exitCode).toBe(7);
    expect(a.text()).toBe(`atsr: ${why} (from $ATSR_ID)\r\n`);

    const t = new PtyRun([...atsrCommand(), '-u', box().sockets, '-i', 'ATSR_ID', '-t', 'sh', '-c', 'echo ran-directly; exit 5'], { env });
    expect((await t.exit()).exitCode).toBe(5);
    expect(t.text()).toBe(`atsr: ${why} (from $ATSR_ID); running sh directly\r\nran-directly\r\n`);
    expect(await box().list()).toEqual([]);
  });
});

describe('no terminal', () => {
  it('-t and -c without a tty run the command directly; the documented exit codes hold without one', async () => {
    const t = await box().atsr(['-t', 'n1', 'sh', '-c', 'echo direct; exit 4']);
    expect(t).toEqual({ code: 4, stdout: 'direct\n', stderr: 'atsr: standard input is not a terminal; running sh directly\n' });
    const c = await box().atsr(['-c', 'n1', 'sh', '-c', 'echo direct; exit 0']);
    expect(c).toEqual({ code: 0, stdout: 'direct\n', stderr: 'atsr: standard input is not a terminal; running sh directly\n' });
    // No session: 3, not "not a terminal".
    expect(await box().atsr(['-a', 'n1'])).toMatchObject({ code: 3, stderr: `atsr: no session named n1 (in ${box().sockets})\n` });
    expect((await box().atsr(['-n', 'n2', 'sleep', '100'])).code).toBe(0);
    // It exists: -c is 4, never a silent direct run; -a needs the terminal it lacks: 8.
    expect(await box().atsr(['-c', 'n2', 'sh', '-c', 'echo ran'])).toEqual({ code: 4, stdout: '', stderr: 'atsr: session n2 exists already\n' });
    expect(await box().atsr(['-a', 'n2'])).toMatchObject({ code: 8, stderr: 'atsr: standard input is not a terminal\n' });
  });
});

describe('socket directories', () => {
  it('refuses a symlinked directory', async () => {
    mkdirSync(`${box().dir}/real`, { mode: 0o700 });
    symlinkSync(`${box().dir}/real`, `${box().dir}/link`);
    const r = await box().run(['-u', `${box().dir}/link`, '-n', 'd1', 'sleep', '5']);
    expect(r).toMatchObject({ code: 6, stderr: `atsr: socket directory ${box().dir}/link is a symlink (refused)\n` });
  });

  it('refuses a group/world-accessible directory, naming the fix', async () => {
    mkdirSync(`${box().dir}/open`, { mode: 0o755 });
    chmodSync(`${box().dir}/open`, 0o755);
    const r = await box().run(['-u', `${box().dir}/open`, '-n', 'd2', 'sleep', '5']);
    expect(r).toMatchObject({
      code: 6,
      stderr: `atsr: socket directory ${box().dir}/open has mode 755; it must be 700 (chmod 700 ${box().dir}/open)\n`,
    });
  });

  it("a directory owned by someone else sends you to your own ~/.atsr with one warning, for -n and -t", async () => {
    // Deliberately changed (issue 10 item 8): another user's entry never costs you resilience.
    const theirs = `${box().dir}/theirs`;
    const home = `${box().dir}/home`;
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, 65534, 65534);
    const env = box().env({ HOME: home });
    const warning =
      `atsr: socket directory ${theirs} is owned by uid 65534, not by you (uid ${process.getuid!()}); ` +
      `using ${home}/.atsr instead (to use ${theirs} again, have uid 65534 or root remove it)`;
    const n = await box().run(['-u', theirs, '-n', 'd3', 'sleep', '30'], { env });
    expect(n).toEqual({ code: 0, stdout: '', stderr: `${warning}\n` });
    const listed = await box().run(['-u', theirs, '-l', '--json'], { env });
    const [s] = JSON.parse(listed.stdout) as Array<{ name: string; socket: string; pid: number }>;
    expect(s).toMatchObject({ name: 'd3', socket: `${home}/.atsr/d3` });
    process.kill(s!.pid, 'SIGKILL');
    const t = new PtyRun([...atsrCommand(), '-u', theirs, '-t', 'd4', 'sh', '-c', 'echo still-works'], { env });
    expect((await t.exit()).exitCode).toBe(0);
    expect(t.text()).toBe(`${warning}\r\nstill-works\r\n`);
  });

  it('refuses a socket path over the Unix limit', async () => {
    const deep = `${box().dir}/${'d'.repeat(60)}/${'e'.repeat(40)}`;
    const r = await box().run(['-u', deep, '-n', 'long-session-name', 'sleep', '5']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^atsr: socket path \S+ is \d+ bytes, over the 107-byte limit of Unix sockets \(use a shorter -u\/-g directory or session name\)\n$/);
  });

  it('a shared root (-g) gets a private per-user subdirectory', async () => {
    const root = `${box().dir}/shared`;
    const r = await box().run(['-g', root, '-n', 'g1', 'sleep', '30']);
    expect(r.code).toBe(0);
    const l = await box().run(['-g', root, '-l', '--json']);
    const [s] = JSON.parse(l.stdout) as Array<{ name: string; socket: string; pid: number }>;
    expect(s!.socket).toBe(`${root}/${process.getuid!()}/g1`);
    process.kill(s!.pid, 'SIGKILL');
  });
});

describe('the host socket', () => {
  const send = (path: string, bytes: Buffer): Promise<void> =>
    new Promise((resolve) => {
      const s = connect(path, () => s.end(bytes));
      s.resume(); // read (and drop) the host's answer, so that its end is seen
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });

  it('drops garbage and truncated messages and keeps the session', async () => {
    expect((await box().atsr(['-n', 'h1', 'sh', '-c', 'while read l; do echo "echo:$l"; done'])).code).toBe(0);
    const { socket } = await box().session('h1');
    await send(socket, Buffer.from('GET / HTTP/1.0\r\n\r\n'));
    await send(socket, Buffer.from([0x01, 0x00, 0x00, 0x00, 0x64, 0x7b])); // attach, 100 bytes promised, 1 sent
    await send(socket, Buffer.from([0x01, 0x7f, 0xff, 0xff, 0xff])); // a 2 GiB frame
    await send(socket, Buffer.from([0x01, 0x00, 0x00, 0x00, 0x02, 0x7b, 0x7d])); // attach with missing fields
    const a = box().attach(['-a', 'h1']);
    a.write('alive\r');
    await a.waitFor('echo:alive');
  });

  it('a client dying mid-handshake leaves the session attachable', async () => {
    expect((await box().atsr(['-n', 'h2', 'sh', '-c', 'while read l; do echo "echo:$l"; done'])).code).toBe(0);
    const { socket } = await box().session('h2');
    const frame = rawAttachFrame(true);
    await send(socket, frame); // never sends its sync, then goes away
    await waitUntil('the half-attached client is gone', async () => !(await box().session('h2')).attached);
    const a = box().attach(['-a', 'h2']);
    a.write('fine\r');
    await a.waitFor('echo:fine');
  });

  it('two -t with the same new name at once give one session', async () => {
    const cmd = ['sh', '-c', 'echo "pid:$$"; while read l; do echo "echo:$l"; done'];
    const [a, b] = [box().attach(['-t', 'race', ...cmd]), box().attach(['-t', 'race', ...cmd])];
    const outcome = await Promise.race([
      a.exit().then(() => ({ lost: a, won: b })),
      b.exit().then(() => ({ lost: b, won: a })),
    ]);
    expect((await outcome.lost.exit()).exitCode).toBe(5);
    expect(outcome.lost.text()).toContain('atsr: session race is attached (use -f to take it over, -r to watch)');
    expect((await box().list()).map((s) => s.name)).toEqual(['race']);
    outcome.won.write('one\r');
    await outcome.won.waitFor('echo:one');
  });
});
