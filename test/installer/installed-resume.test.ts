// The installed product end to end: the real installer into a temporary
// prefix, a real loopback sshd whose login shell runs the installed
// `rezumable` from .profile, and the installed `rezume` resuming a session
// through a network outage. A plain ssh to the same sshd runs the command
// directly.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstallSandbox, installerBin } from './installer-harness.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { PtyRun } from '../support/pty-harness.js';
import { type Sshd, startSshd } from '../support/sshd-fixture.js';

// Prints tick-1, tick-2, ... every 0.5 s and records the last number in a
// file, so the test knows what was produced while the network was down; a
// line of input ends it with that line as its exit status. The file is
// replaced by a rename: a read must never find it truncated and empty.
const TICKER = `i=0
while :; do
  i=$((i + 1))
  echo "tick-$i"
  echo "$i" > "$1.new" && mv "$1.new" "$1"
  if read -t 0.5 status; then echo "bye:$status"; exit "$status"; fi
done
`;

let sandbox: InstallSandbox;
let sshd: Sshd;
let proxy: FaultProxy;
let countFile: string;

beforeAll(async () => {
  await installerBin();
  sandbox = new InstallSandbox('');
  const install = await sandbox.run(sandbox.installArgs('--no-accept-env'));
  if (install.status !== 0) throw new Error(`install failed (${install.status}): ${install.stderr}`);
  const home = join(sandbox.dir, 'home');
  mkdirSync(home);
  countFile = join(home, 'count');
  writeFileSync(join(home, 'ticker.sh'), TICKER);
  // What an admin writes: the login command behind rezumable.
  writeFileSync(join(home, '.profile'), `exec ${sandbox.prefix}/bin/rezumable bash ${home}/ticker.sh ${countFile}\n`);
  sshd = await startSshd({ setEnv: { HOME: home } });
  proxy = await startFaultProxy({ targetPort: sshd.port });
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await sshd?.stop();
  if (sandbox) {
    for (const { pid } of installedSessions()) process.kill(pid, 'SIGKILL');
    sandbox.remove();
  }
});

/**
 * The sessions under the installed prefix's socket root, as a plain `atsr -l`
 * of the installed executable lists them (it adds PREFIX/session to its
 * default chain); the other places of the chain may hold other tests' sessions.
 */
function installedSessions(): { name: string; pid: number }[] {
  const list = spawnSync(join(sandbox.prefix, 'bin/atsr'), ['-l', '--json'], { encoding: 'utf8', env: { ...plainEnv(), HOME: sandbox.dir } });
  if (list.status !== 0) throw new Error(`atsr -l failed (${list.status}): ${list.stderr}`);
  const root = `${join(sandbox.prefix, 'session')}/`;
  return (JSON.parse(list.stdout) as { name: string; pid: number; socket: string }[]).filter((s) => s.socket.startsWith(root));
}

/** `cd PREFIX; bin/atsr -l session`, as the docs say: the text listing's lines after its header. */
function documentedListing(): string[] {
  const list = spawnSync('bin/atsr', ['-l', 'session'], { encoding: 'utf8', cwd: sandbox.prefix, env: plainEnv() });
  if (list.status !== 0) throw new Error(`bin/atsr -l session failed (${list.status}): ${list.stderr}`);
  const [header, ...rows] = list.stdout.split('\n').filter(Boolean);
  expect(header).toMatch(/^ {2}NAME +PID +OWNER +CREATED +DETACHED +FROM +COMMAND$/);
  return rows;
}

const lastTick = (text: string): number => Math.max(0, ...[...text.matchAll(/tick-(\d+)\r\n/g)].map((m) => Number(m[1])));
const plainEnv = (): NodeJS.ProcessEnv => {
  const { ATSR_ID: _unset, SSH_AUTH_SOCK: _agent, ...env } = process.env;
  return { ...env, TERM: 'xterm' };
};

/**
 * Runs the installed rezume into a session, calls `meanwhile` once it runs,
 * cuts the network while the command prints, and checks that the missed
 * output arrives exactly once and the exit status comes back.
 */
async function resumeThroughOutage(meanwhile: () => Promise<void>): Promise<void> {
  const rezume = new PtyRun(
    [join(sandbox.prefix, 'bin/rezume'), '--alive-interval', '1', '--alive-count', '2', ...sshd.sshArgs(['-p', String(proxy.port)]), sshd.destination],
    { env: plainEnv() },
  );
  try {
    await rezume.waitFor('tick-2\r\n');
    const [session] = installedSessions();
    expect(session?.name).toMatch(/^rz/);
    expect(documentedListing()).toEqual([expect.stringMatching(new RegExp(`^\\* ${session!.name} +${session!.pid} +root +.* bash ${join(sandbox.dir, 'home')}/ticker\\.sh `))]);
    await meanwhile();
    proxy.setMode('blackhole');
    await rezume.waitFor('\x1b]2;rezume: connection lost');
    const received = lastTick(rezume.text());
    const produced = Number(readFileSync(countFile, 'utf8'));
    expect(produced).toBeGreaterThan(received); // the command printed during the outage
    proxy.setMode('pass');
    await rezume.waitFor(`tick-${produced + 1}\r\n`);
    rezume.write('7\r');
    await rezume.waitFor('bye:7\r\n');
    expect((await rezume.exit()).exitCode).toBe(7);

    const text = rezume.text();
    const last = lastTick(text);
    expect(text.match(/tick-\d+\r\n/g)).toEqual(Array.from({ length: last }, (_, i) => `tick-${i + 1}\r\n`));
    expect(text).not.toContain('\x1b_atsr');
    await waitUntil('the session host is gone', () => installedSessions().length === 0);
  } finally {
    rezume.kill('SIGKILL');
    proxy.setMode('pass');
  }
}

describe('installed rezumable behind a real sshd', () => {
  it('resumes through an outage: the missed output arrives once, the exit status comes back', async () => {
    await resumeThroughOutage(async () => {});
  });

  it('a session started before an upgrade resumes after it, through the new executable', async () => {
    await resumeThroughOutage(async () => {
      const hosts = (): string[] => installedSessions().map((x) => `${x.name}:${x.pid}`);
      const before = hosts();
      const upgrade = await sandbox.run(sandbox.installArgs('--no-accept-env'));
      expect(upgrade.status).toBe(0);
      expect(hosts()).toEqual(before); // same session, same host
    });
  });

  it('a plain ssh login runs the command directly: no session, no protocol bytes', async () => {
    const ssh = new PtyRun(['ssh', ...sshd.sshArgs(['-t']), sshd.destination], { env: plainEnv() });
    try {
      await ssh.waitFor('tick-1\r\n');
      expect(installedSessions()).toEqual([]);
      ssh.write('3\r');
      await ssh.waitFor('bye:3\r\n');
      expect((await ssh.exit()).exitCode).toBe(3);
      expect(ssh.text()).not.toContain('\x1b_atsr');
      expect(ssh.text()).toMatch(/^tick-1\r\n/);
    } finally {
      ssh.kill('SIGKILL');
    }
  });
});
