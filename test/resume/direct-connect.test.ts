// rezume-connect, the ProxyCommand that opens ssh's connection with
// TCP_NODELAY and passes it over (src/client/rezume-connect.c): with the real
// ssh and sshd, its errors, and rezume using it (or not) for its attempts.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, privateTempDir, rezumeCommand } from '../support/atsr-bin.js';
import { PtyRun } from '../support/pty-harness.js';
import { useResumeRig } from '../support/use-sandbox.js';

const HELPER = join(ROOT, 'dist/rezume-connect');
const rig = useResumeRig('direct-connect');

/** Runs the helper; its stdout is a socket pair, as ssh's is ('pipe'), or /dev/null ('ignore'). */
function helper(args: string[], stdout: 'pipe' | 'ignore' = 'pipe'): { status: number | null; stdout: string | null; stderr: string } {
  return spawnSync(HELPER, args, { encoding: 'utf8', stdio: ['ignore', stdout, 'pipe'] });
}

/** A port of 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('rezume-connect', () => {
  it('hands ssh a connection it runs a session over', () => {
    const { sshd } = rig();
    const proxy = `ProxyCommand=${HELPER} %h %p 5 inet`;
    const r = spawnSync('ssh', [...sshd.sshArgs(['-o', 'ProxyUseFdpass=yes', '-o', proxy]), sshd.destination, 'printf via-helper'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('via-helper');
    expect(r.status).toBe(0);
  });

  it('names what is wrong with its arguments and exits 255', () => {
    const usage = 'rezume-connect: usage: rezume-connect HOST PORT TIMEOUT_SECONDS any|inet|inet6 (ssh\'s ProxyCommand with ProxyUseFdpass=yes)\n';
    expect(helper([])).toMatchObject({ status: 255, stdout: '', stderr: usage });
    expect(helper(['127.0.0.1', '22', '5'])).toMatchObject({ status: 255, stderr: usage });
    expect(helper(['127.0.0.1', '22', '0', 'any'])).toMatchObject({ status: 255, stderr: 'rezume-connect: timeout must be a whole number of seconds: 0\n' });
    expect(helper(['127.0.0.1', '22', '5s', 'any'])).toMatchObject({ status: 255, stderr: 'rezume-connect: timeout must be a whole number of seconds: 5s\n' });
    expect(helper(['127.0.0.1', '22', '5', 'ipx'])).toMatchObject({ status: 255, stderr: 'rezume-connect: address family must be any, inet or inet6: ipx\n' });
  });

  it('reports a refused connection, an address of the wrong family, and a stdout that is not ssh\'s socket', async () => {
    const port = String(await closedPort());
    expect(helper(['127.0.0.1', port, '5', 'any'])).toMatchObject({
      status: 255,
      stdout: '',
      stderr: `rezume-connect: connect to host 127.0.0.1 port ${port}: Connection refused\n`, // worded as ssh's, for failureReason
    });
    // An address of the other family: no name lookup leaves the machine.
    expect(helper(['127.0.0.1', port, '5', 'inet6'])).toMatchObject({
      status: 255,
      stderr: 'rezume-connect: Could not resolve hostname 127.0.0.1: Address family for hostname not supported\n',
    });
    const r = helper(['127.0.0.1', String(rig().sshd.port), '5', 'any'], 'ignore');
    expect(r.status).toBe(255);
    expect(r.stderr).toBe('rezume-connect: cannot pass the socket to ssh (is ProxyUseFdpass=yes set?): Socket operation on non-socket\n');
  });
});

describe('rezume with rezume-connect', () => {
  /** An ssh that records its arguments, one per line, then runs the real one. */
  function recordingSsh(): { path: string; args: () => string[]; remove: () => void } {
    const tmp = privateTempDir('ssh-args');
    const path = join(tmp.dir, 'ssh');
    const log = join(tmp.dir, 'args');
    writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" >>'${log}'\nexec ssh "$@"\n`);
    chmodSync(path, 0o700);
    return { path, args: () => readFileSync(log, 'utf8').split('\n'), remove: tmp.remove };
  }

  it('connects every attempt through it, and resumes', async () => {
    const ssh = recordingSsh();
    try {
      const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo first; read a; echo "a:$a"']), { rezumeOptions: ['--ssh', ssh.path] });
      await r.waitFor('first\r\n');
      rig().proxy.setMode('reset');
      await r.waitFor('\x1b]2;rezume: connection lost');
      rig().proxy.setMode('pass');
      await r.waitFor('\x1b[23;0t'); // the resumed hello popped the title
      r.write('typed\r');
      await r.waitFor('a:typed\r\n');
      expect((await r.exit()).exitCode).toBe(0);
      const args = ssh.args();
      const proxyCommand = `ProxyCommand='${HELPER}' '127.0.0.1' '${rig().proxy.port}' '2' 'any'`;
      expect(args.filter((a) => a === proxyCommand)).toHaveLength(2); // the first connection and the resume
      expect(args.filter((a) => a === 'ProxyUseFdpass=yes')).toHaveLength(2);
    } finally {
      ssh.remove();
    }
  });

  it('says why a connection is refused in its own words, without ssh\'s lines about the socket it did not get', async () => {
    const port = await closedPort();
    const r = new PtyRun([...rezumeCommand(), ...rig().sshd.sshArgs(['-p', String(port)]), rig().sshd.destination, 'true'], { env: rig().box.env() });
    expect((await r.exit()).exitCode).toBe(255);
    // Before: rezume-connect's reason, then `mm_receive_fd: recvmsg: expected received 1 got 0` and `proxy dialer did not pass back a connection`.
    expect(r.text()).toBe(`rezume: connect to host 127.0.0.1 port ${port}: Connection refused\r\n`);
  });

  it('refuses an option it does not know instead of passing it to ssh', async () => {
    const ssh = recordingSsh();
    try {
      const r = new PtyRun([...rezumeCommand(), '--ssh', ssh.path, '--frobnicate', rig().sshd.destination], { env: rig().box.env() });
      expect((await r.exit()).exitCode).toBe(2);
      expect(r.text()).toBe("rezume: unknown option '--frobnicate' (see rezume --help)\r\n");
      expect(() => ssh.args()).toThrow(/ENOENT/); // ssh never ran, not even `ssh -G`
    } finally {
      ssh.remove();
    }
  });

  it('leaves the connection to ssh where ssh binds its end itself', async () => {
    const ssh = recordingSsh();
    try {
      const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo bound; exit 3']), {
        rezumeOptions: ['--ssh', ssh.path, '-o', 'BindAddress=127.0.0.1'],
      });
      await r.waitFor('bound\r\n');
      expect((await r.exit()).exitCode).toBe(3);
      expect(ssh.args().some((a) => a.startsWith('ProxyCommand=') || a.startsWith('ProxyUseFdpass='))).toBe(false);
    } finally {
      ssh.remove();
    }
  });
});
