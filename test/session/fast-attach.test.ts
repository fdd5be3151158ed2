// The fast attach (src/relay/fast-attach.c): `atsr -a NAME` reaches the
// user's own running session with no Node process, and hands every other
// command line, unchanged, to the Node executable. Each case runs the built
// entry from an installed-like bin/ whose atsr-node is a wrapper that counts
// its runs before it execs the built one, so "no Node process ran" is a
// count that can fail.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { shQuote } from '../../src/shell-quote.js';
import { ROOT } from '../support/atsr-bin.js';
import { killListedHosts, killUnlistedHosts, waitUntil } from '../support/atsr-sandbox.js';
import { traversableTempDir } from '../support/fake-hosts.js';
import { PtyRun } from '../support/pty-harness.js';
import { ThrowawayUser, removeUsers } from '../support/throwaway-user.js';

const ME = process.getuid!();
/** A line-echoing command, which shows what reached it. */
const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read -r l; do printf "got:%s\\n" "$l"; done'];

/** bin/atsr the built entry (a copy: it finds atsr-node beside its real path), bin/atsr-node the counting wrapper. */
class EntryPrefix {
  private readonly temp = traversableTempDir('fa');
  readonly prefix = this.temp.dir;
  readonly atsr = join(this.prefix, 'bin/atsr');
  readonly home = join(this.prefix, 'home');
  /** A -u directory. */
  readonly dir = join(this.prefix, 'u');
  private readonly runsFile = join(this.prefix, 'node-runs');
  private readonly runs: PtyRun[] = [];

  constructor() {
    mkdirSync(join(this.prefix, 'bin'));
    mkdirSync(this.home, { mode: 0o700 });
    mkdirSync(this.dir, { mode: 0o700 });
    copyFileSync(join(ROOT, 'dist/atsr'), this.atsr);
    chmodSync(this.atsr, 0o755);
    const node = join(ROOT, 'dist/atsr-node');
    writeFileSync(join(this.prefix, 'bin/atsr-node'), `#!/bin/sh\necho run >> ${shQuote(this.runsFile)}\nexec ${shQuote(node)} "$@"\n`, { mode: 0o755 });
  }

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH, HOME: this.home, TERM: 'wy60', ...extra };
  }

  /** How many times bin/atsr-node ran. */
  nodeRuns(): number {
    return existsSync(this.runsFile) ? readFileSync(this.runsFile, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  /** A detached session running ECHO (made through the Node executable: one run). */
  create(args: string[]): void {
    const made = spawnSync(this.atsr, [...args, ...ECHO], { env: this.env(), encoding: 'utf8' });
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
  }

  attach(args: string[], env: NodeJS.ProcessEnv = this.env(), cwd = '/'): PtyRun {
    const run = new PtyRun([this.atsr, ...args], { env, cwd });
    this.runs.push(run);
    return run;
  }

  cleanup(): void {
    for (const r of this.runs) r.kill('SIGKILL');
    const listed = killListedHosts([['-u', this.dir], ['-u', join(this.home, '.atsr')]], this.env());
    killUnlistedHosts(this.prefix, listed, 'fast-attach cleanup');
    this.temp.remove();
  }
}

let prefix: EntryPrefix | undefined;
afterEach(() => {
  prefix?.cleanup();
  prefix = undefined;
});

describe('the fast attach', () => {
  it('attaches with no Node process: the entry is the front, keys and output pass exactly, and Enter ~ . detaches', async () => {
    const p = (prefix = new EntryPrefix());
    p.create(['-n', 'fa1']); // in $HOME/.atsr, the first place the full path looks
    expect(p.nodeRuns()).toBe(1);

    const run = p.attach(['-a', 'fa1']);
    await run.waitFor('ready\r\n');
    expect(realpathSync(`/proc/${run.pid}/exe`)).toBe(realpathSync(p.atsr));
    run.write('abc\r');
    await run.waitFor('got:abc\r\n');
    run.write('~.'); // at the start of a line
    expect((await run.exited).exitCode).toBe(0);
    expect(run.text()).toBe('ready\r\ngot:abc\r\n[detached]\r\n');
    expect(p.nodeRuns()).toBe(1);

    // The session ran on, and a second fast attach takes it up where the first left.
    const again = p.attach(['-a', '-R', 'none', '-u', join(p.home, '.atsr'), 'fa1']);
    // Nothing is replayed: the attach shows in the terminal's mode (keys typed before it would be echoed).
    await waitUntil('the entry attached and made the terminal raw', () => again.isRaw());
    again.write('def\r');
    await again.waitFor('got:def\r\n');
    expect(again.text()).toBe('got:def\r\n');
    expect(p.nodeRuns()).toBe(1);
  });

  // Each runs the Node executable once, with the command line unchanged, and ends as the full path ends.
  const ATTACHED: Array<{ why: string; args: (p: EntryPrefix) => string[]; env?: NodeJS.ProcessEnv; cwd?: string }> = [
    { why: 'a VT terminal, whose screen the emulator repaints', args: (p) => ['-a', '-u', p.dir, 'fb'], env: { TERM: 'xterm' } },
    { why: '-R screen', args: (p) => ['-a', '-R', 'screen', '-u', p.dir, 'fb'] },
    { why: 'a detach key to parse', args: (p) => ['-a', '-e', '^]', '-u', p.dir, 'fb'] },
    { why: 'a relative -u directory', args: () => ['-a', '-u', 'u', 'fb'], cwd: 'prefix' },
    { why: 'a -u directory spelt with a trailing /', args: (p) => ['-a', '-u', `${p.dir}/`, 'fb'] },
    { why: 'a -u directory spelt with ..', args: (p) => ['-a', '-u', `${p.prefix}/bin/../u`, 'fb'] },
    { why: 'options given together', args: (p) => ['-af', '-u', p.dir, 'fb'] },
    { why: 'a word after the name', args: (p) => ['-a', '-u', p.dir, 'fb', 'extra'] },
    { why: 'an ATSR_SESSION (a login inside a session)', args: (p) => ['-a', '-u', p.dir, 'fb'], env: { ATSR_SESSION: '/elsewhere/s' } },
  ];
  for (const { why, args, env, cwd } of ATTACHED) {
    it(`leaves ${why} to the Node executable, which attaches`, async () => {
      const p = (prefix = new EntryPrefix());
      p.create(['-u', p.dir, '-n', 'fb']);
      const run = p.attach(args(p), p.env(env), cwd === 'prefix' ? p.prefix : '/');
      await run.waitFor('ready'); // replayed, or repainted
      run.write('abc\r');
      await run.waitFor('got:abc\r\n');
      expect(p.nodeRuns()).toBe(2);
    });
  }

  it('leaves a missing session and a directory open to others to the Node executable, whose errors name them', async () => {
    const p = (prefix = new EntryPrefix());
    const missing = p.attach(['-a', '-u', p.dir, 'nope']);
    expect((await missing.exited).exitCode).toBe(ExitCode.noSession);
    expect(missing.text()).toBe(`atsr: no session named nope (in ${p.dir})\r\n`);
    chmodSync(p.dir, 0o755);
    const open = p.attach(['-a', '-u', p.dir, 'nope']);
    expect((await open.exited).exitCode).toBe(ExitCode.socketDir);
    expect(open.text()).toBe(`atsr: socket directory ${p.dir} has mode 755; it must be 700 (chmod 700 ${p.dir})\r\n`);
    expect(p.nodeRuns()).toBe(2);
  });
});

/** A listener of the test's own (the user's): what each connection brought, in order. */
async function recordingListener(path: string, answer?: (c: Socket) => void): Promise<{ connections: Buffer[][]; close: () => void }> {
  const connections: Buffer[][] = [];
  const server = createServer((c) => {
    const mine: Buffer[] = [];
    connections.push(mine);
    c.on('data', (d: Buffer) => {
      mine.push(d);
      answer?.(c);
    });
    c.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { connections, close: () => server.close() };
}

describe('the fast attach before the host took it', () => {
  it('sends exactly the attach the TypeScript front sends, and hands a refusal to the full path with nothing on the terminal', async () => {
    const p = (prefix = new EntryPrefix());
    const path = join(p.dir, 'fk');
    // The host of a session that is going: it answers its first connection with an end, and its socket is gone.
    let answered = false;
    const host = await recordingListener(path, (c) => {
      const got = Buffer.concat(host.connections[0]!);
      if (answered || got.length < 5 || got.length < 5 + got.readUInt32BE(1)) return;
      answered = true;
      rmSync(path, { force: true });
      const line = Buffer.from('atsr: the session is ending');
      c.end(Buffer.concat([Buffer.from([0x48, 0, 0, 0, line.length + 1, 9]), line]));
    });
    try {
      const run = p.attach(['-a', '-f', '-r', '-w', '-R', 'winch', '-u', p.dir, 'fk'], p.env({ SSH_CLIENT: '10.1.2.3 5222 22', SSH_AUTH_SOCK: '/tmp/agent.sock' }));
      expect((await run.exited).exitCode).toBe(ExitCode.noSession);
      expect(run.text()).toBe(`atsr: no session named fk (in ${p.dir})\r\n`);
      expect(p.nodeRuns()).toBe(1);
      expect(host.connections.length).toBe(1);
      const frame = Buffer.concat(host.connections[0]!);
      expect(frame[0]).toBe(0x01);
      expect(frame.length).toBe(5 + frame.readUInt32BE(1));
      expect(JSON.parse(frame.subarray(5).toString('utf8'))).toEqual({
        v: 2, readOnly: true, force: true, rows: 24, cols: 80, clientAddr: '10.1.2.3', agentSocket: '/tmp/agent.sock',
        updateUtmp: false, inband: false, term: 'wy60', detach: { kind: 'escape' }, redraw: 'winch',
      });
    } finally {
      host.close();
    }
  });
});

describe("the fast attach and other users' entries", () => {
  it("sends nothing to a listener that is not the user (SO_PEERCRED), even in the user's own directory", async () => {
    const p = (prefix = new EntryPrefix());
    const mallory = ThrowawayUser.create();
    const LISTENER_JS = `require('net').createServer((c) => { let n = 0; c.on('data', (d) => (n += d.length)); c.on('error', () => {});
      c.on('close', () => process.stdout.write('bytes:' + n + '\\n')); }).listen(process.argv[1], () => process.stdout.write('up\\n'));`;
    const child = mallory.spawn([process.execPath, '-e', LISTENER_JS, join(mallory.home, 'sock')]);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    try {
      await waitUntil('the listener is up', () => out.includes('up\n'));
      // Only root could put it there: the kernel's word on the listener is what is checked, not the directory.
      renameSync(join(mallory.home, 'sock'), join(p.dir, 'pc'));
      const run = p.attach(['-a', '-u', p.dir, 'pc']);
      await waitUntil('the Node executable ran', () => p.nodeRuns() === 1);
      await waitUntil("the fast path's connection ended", () => out.includes('bytes:'));
      expect(out.split('\n')[1]).toBe('bytes:0'); // the first connection: the entry's, refused with nothing sent
      run.kill('SIGKILL');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      removeUsers(mallory);
    }
  });

  it("does not connect through a shared root another user owns, though the user's own directory in it looks right", async () => {
    const p = (prefix = new EntryPrefix());
    const mallory = ThrowawayUser.create();
    try {
      const root = join(p.prefix, 'shared');
      mkdirSync(join(root, String(ME)), { recursive: true, mode: 0o700 });
      chmodSync(root, 0o1777);
      spawnSync('chown', [String(mallory.uid), root]);
      // Mallory could rename the user's directory away and put another of the user's in its place.
      const listener = await recordingListener(join(root, String(ME), 'sr'));
      try {
        const run = p.attach(['-a', '-g', root, 'sr']);
        expect((await run.exited).exitCode).toBe(ExitCode.noSession);
        expect(run.text()).toContain(`atsr: shared socket root ${root} is owned by uid ${mallory.uid}, neither root nor you; using ${join(p.home, '.atsr')} instead`);
        expect(listener.connections.length).toBe(0);
        expect(p.nodeRuns()).toBe(1);
      } finally {
        listener.close();
      }
    } finally {
      removeUsers(mallory);
    }
  });
});
