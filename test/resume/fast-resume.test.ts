// The relay's fast resume (src/relay/fast-resume.c): rezumable's login
// reaches a running session of the user's with no Node process on the way,
// and hands every other case, unchanged, to the full atsr command line. Each
// login runs the real rezumable (templates/rezumable.sh, rendered as the
// installer does) on a real pty, with the built atsr-relay; PREFIX/bin/atsr
// is a wrapper that counts its runs before it execs the built atsr, so "no
// Node process ran" is a count that can fail.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultTunables, renderRezumable } from '../../installer/rezumable.js';
import { shQuote } from '../../src/shell-quote.js';
import { ROOT, atsrCommand } from '../support/atsr-bin.js';
import { killListedHosts, killUnlistedHosts, waitUntil } from '../support/atsr-sandbox.js';
import { traversableTempDir } from '../support/fake-hosts.js';
import { PtyRun } from '../support/pty-harness.js';
import { ThrowawayUser, removeUsers } from '../support/throwaway-user.js';

const RELAY = join(ROOT, 'dist/atsr-relay');
const HELLO = /\x1b_atsr:1;hello;id=([\w.@+-]+);resumed=([01]);out=(\d+);in=(\d+);buf=\d+;n=([0-9a-f]{16})\x1b\\/;
/** A line-echoing command, which shows what reached it. */
const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read -r l; do printf "got:%s\\n" "$l"; done'];
const ME = process.getuid!();

interface Hello {
  resumed: boolean;
  out: number;
  /** Where the stream's bytes begin in the terminal. */
  end: number;
}

/** Waits for the host's hello on `run` and answers it as a client holding `rx` bytes (default: all of them). */
async function answerHello(run: PtyRun, rx?: number): Promise<Hello> {
  await run.waitFor(HELLO);
  const m = HELLO.exec(run.text())!;
  const out = Number(m[3]);
  run.write(`\x1b_atsr:1;sync;rx=${rx ?? out};n=${m[5]}\x1b\\`);
  return { resumed: m[2] === '1', out, end: m.index + m[0].length };
}

/**
 * An installed-like prefix: bin/rezumable rendered from the template,
 * bin/atsr-relay the built relay, bin/atsr a wrapper that appends a line to
 * a file for each run and execs the built atsr; session/ the shared root (1777).
 */
class RezumablePrefix {
  private readonly temp = traversableTempDir('fp');
  readonly prefix = this.temp.dir;
  readonly root = join(this.prefix, 'session');
  readonly home = join(this.prefix, 'home');
  private readonly runsFile = join(this.prefix, 'atsr-runs');
  private readonly logins: PtyRun[] = [];

  constructor() {
    mkdirSync(join(this.prefix, 'bin'));
    mkdirSync(this.root);
    chmodSync(this.root, 0o1777);
    mkdirSync(this.home, { mode: 0o700 });
    const atsr = join(this.prefix, 'bin/atsr');
    writeFileSync(atsr, `#!/bin/sh\necho run >> ${shQuote(this.runsFile)}\nexec ${atsrCommand().map(shQuote).join(' ')} "$@"\n`, { mode: 0o755 });
    symlinkSync(RELAY, join(this.prefix, 'bin/atsr-relay'));
    const template = readFileSync(join(ROOT, 'templates/rezumable.sh'), 'utf8');
    writeFileSync(join(this.prefix, 'bin/rezumable'), renderRezumable(template, this.prefix, 'test', defaultTunables(this.prefix, 60)), { mode: 0o755 });
  }

  /** The socket of session `name` in the user's directory of the shared root. */
  socket(name: string): string {
    return join(this.root, String(ME), name);
  }

  /** How many times bin/atsr (Node) ran. */
  atsrRuns(): number {
    return existsSync(this.runsFile) ? readFileSync(this.runsFile, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  /** A login as sshd starts it for a client that sent ATSR_ID=`id`: `rezumable CMD` on a terminal. */
  login(id: string, cmd: string[], extra: NodeJS.ProcessEnv = {}, shPrefix = ''): PtyRun {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: this.home, TERM: 'xterm', ATSR_ID: id, ...extra };
    const rezumable = join(this.prefix, 'bin/rezumable');
    // shPrefix: environment only a shell can set (bytes that are not UTF-8).
    const argv = shPrefix ? ['sh', '-c', `${shPrefix}; exec "$0" "$@"`, rezumable, ...cmd] : [rezumable, ...cmd];
    const run = new PtyRun(argv, { env, cwd: '/' });
    this.logins.push(run);
    return run;
  }

  /** Ends the logins and every session host in the shared root and in the home's ~/.atsr. */
  cleanup(): void {
    for (const r of this.logins) r.kill('SIGKILL');
    const listed = killListedHosts([['-g', this.root], ['-u', join(this.home, '.atsr')]], { PATH: process.env.PATH, HOME: this.home });
    killUnlistedHosts(this.prefix, listed, 'fast-resume cleanup');
    this.temp.remove();
  }
}

/** A session `name` running ECHO, created by a first login through rezumable and then left (the network dropped). */
async function runningSession(p: RezumablePrefix, name: string): Promise<void> {
  const first = p.login(name, ECHO);
  const h = await answerHello(first, 0);
  expect(h.resumed).toBe(false);
  await first.waitFor('ready\r\n', 15_000, h.end);
  first.kill('SIGKILL');
  await first.exit();
}

let prefix: RezumablePrefix | undefined;
afterEach(() => {
  prefix?.cleanup();
  prefix = undefined;
});

describe('the fast resume', () => {
  it('resumes a running session with no Node process: the relay is the login, and every byte still arrives', async () => {
    const p = (prefix = new RezumablePrefix());
    await runningSession(p, 'fp1');
    expect(p.atsrRuns()).toBe(1); // the creation took the full path

    const again = p.login('fp1', ECHO);
    const h = await answerHello(again);
    expect(h.resumed).toBe(true);
    expect(realpathSync(`/proc/${again.pid}/exe`)).toBe(realpathSync(RELAY));
    again.write('abc\r');
    await again.waitFor('got:abc\r\n', 15_000, h.end);
    expect(again.text().slice(h.end)).toBe('got:abc\r\n');
    expect(p.atsrRuns()).toBe(1);
  });

  it('takes the full path when there is no session yet: atsr creates it as before', async () => {
    const p = (prefix = new RezumablePrefix());
    const run = p.login('fp2', ECHO);
    const h = await answerHello(run, 0);
    expect(h.resumed).toBe(false);
    await run.waitFor('ready\r\n', 15_000, h.end);
    expect(run.text().indexOf('\x1b_atsr:1;hello')).toBe(0); // nothing before the host's stream
    expect(p.atsrRuns()).toBe(1);
  });

  it('takes the full path for a login inside that very session (ATSR_SESSION): the command runs directly', async () => {
    const p = (prefix = new RezumablePrefix());
    await runningSession(p, 'fp3');
    const nested = p.login('fp3', ['sh', '-c', 'echo direct-ran'], { ATSR_SESSION: p.socket('fp3') });
    await nested.waitFor('direct-ran\r\n');
    expect(nested.text()).toBe('atsr: this terminal is inside session fp3 already ($ATSR_SESSION); running sh directly\r\ndirect-ran\r\n');
    expect(p.atsrRuns()).toBe(2);
  });

  it('takes the full path for a name the server refuses, even one that would reach a running session', async () => {
    const p = (prefix = new RezumablePrefix());
    await runningSession(p, 'fp4');
    // "./fp4" is the path of fp4 in the user's directory, but not a session name.
    const bad = p.login('./fp4', ['sh', '-c', 'echo direct-ran']);
    await bad.waitFor('direct-ran\r\n');
    expect(bad.text()).toBe(
      "atsr: the session name contains '/' (from $ATSR_ID); running sh directly\r\ndirect-ran\r\n",
    );
    expect(p.atsrRuns()).toBe(2);
  });
});

/** What the fake host at a socket got on each connection, in order of connection. */
class FakeHostLog {
  readonly connections: Buffer[][] = [];
  frames(i: number): Buffer {
    return Buffer.concat(this.connections[i] ?? []);
  }
}

/** The attach frame's JSON, once a whole frame has arrived on `c`. */
function attachJson(data: Buffer): Record<string, unknown> | undefined {
  if (data.length < 5) return undefined;
  const len = data.readUInt32BE(1);
  if (data.length < 5 + len) return undefined;
  expect(data[0]).toBe(0x01);
  expect(data.length).toBe(5 + len);
  return JSON.parse(data.subarray(5).toString('utf8')) as Record<string, unknown>;
}

const frame = (type: number, payload: Buffer): Buffer => {
  const h = Buffer.from([type, 0, 0, 0, 0]);
  h.writeUInt32BE(payload.length, 1);
  return Buffer.concat([h, payload]);
};

type Answer = 'end' | 'refused' | 'close' | 'silence';
/** The host's answers before any output: a v2 host's refusal, an older (v1) host's refusal of a v2 attach, a host that goes, a wedged one. */
const ANSWERS: Record<Answer, (c: Socket) => void> = {
  end: (c) => c.end(frame(0x48, Buffer.concat([Buffer.from([9]), Buffer.from('atsr: the session is ending')]))),
  refused: (c) => c.end(frame(0x45, Buffer.from(JSON.stringify({ reason: 'protocol', message: "frame 0x1: field 'sync' is missing or not boolean" })))),
  close: (c) => c.destroy(),
  silence: () => {}, // the relay gives up after 5 s
};

describe('the fast resume before the host took the attach', () => {
  const CASES: Array<{ answer: Answer; env: NodeJS.ProcessEnv; shPrefix?: string; fields: Record<string, string> }> = [
    {
      answer: 'end',
      env: { SSH_CLIENT: 'a"b\\c\x01\x1f\x7fé\u{1F600} 5222 22' },
      shPrefix: 'SSH_AUTH_SOCK=$(printf "/tmp/agent\\377x"); export SSH_AUTH_SOCK',
      fields: { clientAddr: 'a"b\\c\x01\x1f\x7fé\u{1F600}', agentSocket: '' },
    },
    { answer: 'refused', env: { SSH_CLIENT: `${'x'.repeat(4097)} 5222 22`, SSH_AUTH_SOCK: '/tmp/agent.sock' }, fields: { clientAddr: '', agentSocket: '/tmp/agent.sock' } },
    { answer: 'close', env: {}, fields: { clientAddr: '', agentSocket: '' } },
    { answer: 'silence', env: {}, fields: { clientAddr: '', agentSocket: '' } },
  ];
  for (const { answer, env, shPrefix, fields } of CASES) {
    it(`hands a host's ${answer} first to the full path, with nothing written to the terminal, after an exact attach`, async () => {
      const p = (prefix = new RezumablePrefix());
      mkdirSync(join(p.root, String(ME)), { mode: 0o700 });
      const path = p.socket('fk');
      const log = new FakeHostLog();
      // The fake host of a session that is going: it answers once, then its socket is gone.
      const server = createServer((c) => {
        const mine: Buffer[] = [];
        log.connections.push(mine);
        rmSync(path, { force: true });
        server.close();
        c.on('data', (d: Buffer) => {
          mine.push(d);
          if (attachJson(Buffer.concat(mine))) ANSWERS[answer](c);
        });
      });
      await new Promise<void>((resolve) => server.listen(path, resolve));

      const run = p.login('fk', ECHO, env, shPrefix);
      const h = await answerHello(run, 0);
      expect(h.resumed).toBe(false); // the full path created the session anew
      expect(run.text().indexOf('\x1b_atsr:1;hello')).toBe(0);
      expect(p.atsrRuns()).toBe(1);
      expect(log.connections.length).toBe(1);
      expect(attachJson(log.frames(0))).toEqual({
        v: 2, readOnly: false, force: true, rows: 24, cols: 80, ...fields,
        updateUtmp: true, inband: true, term: 'xterm', detach: { kind: 'none' },
      });
    });
  }
});

/** A listener of another user's: prints `I:HEX` for connection I (in order of arrival) once it ends. */
const LISTENER_JS = `
const net = require('net');
let n = 0;
net.createServer((c) => {
  const i = n++, got = [];
  c.on('data', (d) => got.push(d));
  c.on('error', () => {});
  c.on('close', () => process.stdout.write(i + ':' + Buffer.concat(got).toString('hex') + '\\n'));
}).listen(process.argv[1], () => process.stdout.write('up\\n'));
`;

class OtherUsersListener {
  private out = '';
  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
  }

  static async start(user: ThrowawayUser, path: string): Promise<OtherUsersListener> {
    const l = new OtherUsersListener(user.spawn([process.execPath, '-e', LISTENER_JS, path]));
    await waitUntil('the listener is up', () => l.out.includes('up\n'));
    return l;
  }

  /** The bytes connection `i` brought, once it ended. */
  async connection(i: number): Promise<string> {
    const line = (): string | undefined => this.out.split('\n').find((l) => l.startsWith(`${i}:`));
    await waitUntil(`connection ${i} ended`, () => line() !== undefined);
    return Buffer.from(line()!.slice(`${i}:`.length), 'hex').toString('latin1');
  }

  /** Kills it and waits until it is reaped (userdel refuses while even a zombie of the user's is left). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** Connects to `path`, writes `bytes` and closes: a connection whose place in the listener's order says who came before. */
function probe(path: string, bytes: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = connect(path, () => c.end(bytes, () => resolve()));
    c.on('error', reject);
  });
}

describe("the fast resume and another user's socket", () => {
  it('sends nothing to a listener that is not the user (SO_PEERCRED), even in the user\'s own directory', async () => {
    const p = (prefix = new RezumablePrefix());
    const mallory = ThrowawayUser.create();
    let listener: OtherUsersListener | undefined;
    try {
      // Only root could put it there: the kernel's word on the listener is what is checked, not the directory.
      mkdirSync(join(p.root, String(ME)), { mode: 0o700 });
      listener = await OtherUsersListener.start(mallory, join(mallory.home, 'sock'));
      renameSync(join(mallory.home, 'sock'), p.socket('pc'));
      const run = p.login('pc', ECHO);
      await waitUntil('the full path ran', () => p.atsrRuns() === 1);
      expect(await listener.connection(0)).toBe(''); // the relay's: connected, refused, nothing sent
      run.kill('SIGKILL');
    } finally {
      await listener?.stop();
      removeUsers(mallory);
    }
  });

  it("does not even connect through a directory another user made in the shared root: the full path warns and uses ~/.atsr", async () => {
    const p = (prefix = new RezumablePrefix());
    const mallory = ThrowawayUser.create();
    let listener: OtherUsersListener | undefined;
    try {
      const squatted = join(p.root, String(ME));
      spawnSync('setpriv', [`--reuid=${mallory.uid}`, `--regid=${mallory.gid}`, '--init-groups', 'mkdir', '-m', '755', squatted]);
      listener = await OtherUsersListener.start(mallory, join(squatted, 'sq'));
      const run = p.login('sq', ECHO);
      const h = await answerHello(run, 0);
      expect(h.resumed).toBe(false);
      expect(run.text().slice(0, run.text().indexOf('\x1b_atsr:1;hello'))).toBe(
        `atsr: socket directory ${squatted} is owned by uid ${mallory.uid}, not by you (uid ${ME}); using ${join(p.home, '.atsr')} instead ` +
          `(to use ${squatted} again, have uid ${mallory.uid} or root remove it)\r\n`,
      );
      expect(p.atsrRuns()).toBe(1);
      await probe(join(squatted, 'sq'), 'probe');
      expect(await listener.connection(0)).toBe('probe'); // the first connection it ever saw was the probe
      run.kill('SIGKILL');
    } finally {
      await listener?.stop();
      removeUsers(mallory);
      rmSync(join(p.root, String(ME)), { recursive: true, force: true });
    }
  });
});
