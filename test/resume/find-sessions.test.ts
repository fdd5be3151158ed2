// Sessions a user can find and get back (issue 14.4): rezume names the
// session it leaves behind and the command that resumes it, `rezume --list`
// lists the user's sessions on the host, `rezume --session NAME` resumes one
// (replaying what the server's ring holds and stating the loss exactly), and
// a closed terminal (SIGHUP) during an outage leaves the session for that.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atsrCommand, rezumeCommand } from '../support/atsr-bin.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import type { PtyRun } from '../support/pty-harness.js';
import { useResumeRig } from '../support/use-sandbox.js';

const rig = useResumeRig('find');

/** rezume's own notices to the terminal (window title push/set/pop), which are not session bytes. */
const NOTICE = /\x1b\[2[23];0t|\x1b\]2;rezume: [^\x07]*\x07/g;
const withoutNotices = (s: string): string => s.replace(NOTICE, '');
const shellWord = (w: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** The server's atsr for --list: the rig's sessions live under `-u`, not the installed socket root. */
function serverAtsr(): string {
  const path = join(rig().box.dir, 'server-atsr');
  if (!existsSync(path)) {
    writeFileSync(path, `#!/bin/sh\nexec ${[...atsrCommand(), '-u', rig().box.sockets].map(shellWord).join(' ')} "$@"\n`, { mode: 0o755 });
  }
  return path;
}

/** `rezume --list` to the rig's sshd, without a terminal. */
function listSessions(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file, ...pre] = rezumeCommand();
  const child = spawn(file!, [...pre, '--server-atsr', serverAtsr(), '--list', ...rig().sshd.sshArgs(), rig().sshd.destination], {
    env: rig().box.env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** The ssh arguments rig().rezume passes after rezume's own options. */
const rigSshArgs = (remote: string): string[] => [...rig().sshd.sshArgs(['-p', String(rig().proxy.port)]), rig().sshd.destination, remote];

/** Resets the network until rezume notices, then leaves it resetting (every reconnect fails at once). */
async function cutNetwork(r: PtyRun): Promise<void> {
  const from = r.output().length;
  rig().proxy.setMode('reset');
  await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
}

describe('finding and resuming a session', () => {
  it('gives up naming the session and the command that gets it back; --list lists it; --session replays the ring and states the loss exactly', async () => {
    const go = join(rig().box.dir, 'go');
    const lines = Array.from({ length: 2000 }, (_, i) => `L${String(i).padStart(5, '0')}\r\n`).join('');
    const script = `echo ready; while [ ! -e ${go} ]; do sleep 0.05; done; i=0; while [ $i -lt 2000 ]; do printf "L%05d\\n" $i; i=$((i+1)); done; echo DONE; read y; exit 3`;
    const remote = rig().remoteCommand(['sh', '-c', script], ['-b', '4096']);
    const before = new Set((await rig().box.list()).map((s) => s.name));
    const first = rig().rezume(remote);
    await first.waitFor('ready\r\n');
    const name = await rig().newSession(before);
    try {
      await cutNetwork(first);
      first.write('\r~.');
      expect((await first.exit()).exitCode).toBe(255);
    } finally {
      rig().proxy.setMode('pass');
    }
    const command = ['rezume', '--session', name, ...rigSshArgs(remote)].map(shellWord).join(' ');
    expect(first.text()).toContain(`rezume: gave up waiting; the session ${name} is still running on the server; get it back with: ${command}\r\n`);

    // Output the session makes while nobody is attached: more than its 4096-byte ring.
    const stream = `ready\r\n${lines}DONE\r\n`;
    writeFileSync(go, '');
    await waitUntil('the session printed everything', async () => (await rig().box.session(name)).out === stream.length);

    const listed = await listSessions();
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const rows = listed.stdout.split('\n');
    expect(rows[0]).toMatch(/^NAME +STARTED +DETACHED SINCE +COMMAND$/);
    const quotedScript = shellWord(script);
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${name} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ \\([0-9dhms]+\\) +sh -c `)));
    expect(rows.find((r) => r.startsWith(`${name} `))!.endsWith(` sh -c ${quotedScript}`)).toBe(true);
    expect(listed.stdout).toMatch(/\nresume one with: rezume --session NAME .*\n$/);

    const again = rig().rezume(remote, { rezumeOptions: ['--session', name] });
    await again.waitFor('DONE\r\n');
    const from = stream.length - 4096;
    const said = `\r\nrezume: too far behind: ${from} bytes of output were lost; continuing from offset ${from}\r\n`;
    const text = again.text();
    expect(text.startsWith(said)).toBe(true);
    expect(withoutNotices(text.slice(said.length))).toBe(stream.slice(from));
    again.write('\r');
    expect((await again.exit()).exitCode).toBe(3);
  });

  it('--session with a name the server does not have says a new session was started', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo ready; read x']), { rezumeOptions: ['--session', 'nosuchsession'] });
    await r.waitFor('ready\r\n');
    expect(r.text().startsWith('\r\nrezume: there was no session nosuchsession on the server; a new one was started\r\n')).toBe(true);
    r.write('\r');
    expect((await r.exit()).exitCode).toBe(0);
  });

  it('--list says there are no sessions, and why it cannot list where there is no atsr', async () => {
    for (const s of await rig().box.list()) process.kill(s.pid, 'SIGKILL');
    await waitUntil('no session is left', async () => (await rig().box.list()).length === 0);
    const empty = await listSessions();
    expect(empty).toEqual({ code: 0, stdout: 'no sessions\n', stderr: '' });

    const [file, ...pre] = rezumeCommand();
    const child = spawn(file!, [...pre, '--server-atsr', '/nonexistent/atsr', '--list', ...rig().sshd.sshArgs(), rig().sshd.destination], {
      env: rig().box.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(127);
    expect(stderr).toMatch(/^rezume: there is no atsr at \/nonexistent\/atsr on the server \(see --server-atsr\):\n.*(not found|No such file or directory)\n$/);
  });

  it('a SIGHUP during an outage exits at once, naming the session, which stays on the server', async () => {
    const before = new Set((await rig().box.list()).map((s) => s.name));
    const remote = rig().remoteCommand(['sh', '-c', 'echo ready; read x; exit 4']);
    const r = rig().rezume(remote);
    await r.waitFor('ready\r\n');
    const name = await rig().newSession(before);
    try {
      await cutNetwork(r);
      r.kill('SIGHUP');
      expect((await r.exit(2000)).exitCode).toBe(129);
    } finally {
      rig().proxy.setMode('pass');
    }
    const command = ['rezume', '--session', name, ...rigSshArgs(remote)].map(shellWord).join(' ');
    expect(r.text()).toContain(`rezume: the session ${name} is still running on the server; get it back with: ${command}\r\n`);
    expect((await rig().box.session(name)).exited).toBe(false);
  });
});
