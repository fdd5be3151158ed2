// rezume-connect, the ProxyCommand that opens ssh's connection with
// TCP_NODELAY and passes it over (src/client/rezume-connect.c): with the real
// ssh and sshd, its errors, and rezume using it (or not) for its attempts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Socket, createServer } from 'node:net';
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
    const usage = 'rezume-connect: usage: rezume-connect HOST PORT TIMEOUT_SECONDS any|inet|inet6 [wait|probe] (ssh\'s ProxyCommand with ProxyUseFdpass=yes)\n';
    expect(helper([])).toMatchObject({ status: 255, stdout: '', stderr: usage });
    expect(helper(['127.0.0.1', '22', '5'])).toMatchObject({ status: 255, stderr: usage });
    expect(helper(['127.0.0.1', '22', '0', 'any'])).toMatchObject({ status: 255, stderr: 'rezume-connect: timeout must be a whole number of seconds: 0\n' });
    expect(helper(['127.0.0.1', '22', '5s', 'any'])).toMatchObject({ status: 255, stderr: 'rezume-connect: timeout must be a whole number of seconds: 5s\n' });
    expect(helper(['127.0.0.1', '22', '5', 'ipx'])).toMatchObject({ status: 255, stderr: 'rezume-connect: address family must be any, inet or inet6: ipx\n' });
    expect(helper(['127.0.0.1', '22', '5', 'any', 'later'])).toMatchObject({ status: 255, stderr: 'rezume-connect: the last word must be wait or probe: later\n' });
    expect(helper(['127.0.0.1', '22', '5', 'any', 'wait', 'x'])).toMatchObject({ status: 255, stderr: usage });
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

/** The exit code and stderr of a child started with stderr 'pipe'. */
async function exited(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('rezume-connect waiting for the server (a reconnect during an outage)', () => {
  it('keeps trying while the network holds its connections, and hands ssh the first that brings the banner', async () => {
    const { sshd, proxy } = rig();
    proxy.setMode('blackhole');
    try {
      const tried = proxy.connections;
      const proxyCommand = `ProxyCommand=${HELPER} %h %p 5 inet wait`;
      const ssh = spawn('ssh', [...sshd.sshArgs(['-p', String(proxy.port), '-o', 'ProxyUseFdpass=yes', '-o', proxyCommand]), sshd.destination, 'printf via-wait'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      ssh.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      const result = exited(ssh);
      await proxy.waitForConnections(tried + 3); // each try held silent, as by a dead network
      proxy.setMode('pass');
      expect(await result).toEqual({ code: 0, stderr: '' });
      expect(stdout).toBe('via-wait');
    } finally {
      proxy.setMode('pass');
    }
  });

  it('gives up quietly once ssh, its stdout, is gone', async () => {
    const { proxy } = rig();
    proxy.setMode('blackhole');
    try {
      const tried = proxy.connections;
      const child = spawn(HELPER, ['127.0.0.1', String(proxy.port), '5', 'any', 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const result = exited(child);
      await proxy.waitForConnections(tried + 2);
      child.stdout!.destroy(); // ssh's end of the socket pair closes
      expect(await result).toEqual({ code: 255, stderr: '' });
    } finally {
      proxy.setMode('pass');
    }
  });

  it('waits out a banner that takes 600 ms (a long round trip), which the old 400 ms probe never saw', async () => {
    const held = new Set<Socket>();
    const slow = createServer((s) => {
      held.add(s);
      s.on('error', () => {});
      const timer = setTimeout(() => s.end('SSH-2.0-far-away\r\n'), 600);
      s.on('close', () => {
        clearTimeout(timer);
        held.delete(s);
      });
    }).listen(0, '127.0.0.1');
    await once(slow, 'listening');
    try {
      const port = String((slow.address() as AddressInfo).port);
      const child = spawn(HELPER, ['127.0.0.1', port, '5', 'any', 'probe'], { stdio: ['ignore', 'pipe', 'pipe'] });
      expect(await exited(child)).toEqual({ code: 0, stderr: '' });
    } finally {
      for (const s of held) s.destroy();
      slow.close();
    }
  });

  it('as `probe`, exits 0 once the server answers, for an ssh that connects by itself', async () => {
    const { proxy } = rig();
    proxy.setMode('reset'); // each connection accepted, then reset before a word
    try {
      const tried = proxy.connections;
      const child = spawn(HELPER, ['127.0.0.1', String(proxy.port), '5', 'any', 'probe'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const result = exited(child);
      await proxy.waitForConnections(tried + 3);
      proxy.setMode('pass');
      expect(await result).toEqual({ code: 0, stderr: '' });
    } finally {
      proxy.setMode('pass');
    }
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
      // The first connection fails as ssh would; the resume's waits for the server.
      expect(args.filter((a) => a.startsWith('ProxyCommand='))).toEqual([proxyCommand, `${proxyCommand} 'wait'`]);
      expect(args.filter((a) => a === 'ProxyUseFdpass=yes')).toHaveLength(2);
    } finally {
      ssh.remove();
    }
  });

  it("runs it through the user's bash without its ~/.bashrc, also where rezume was not started from a shell (SHLVL unset)", async () => {
    // ssh starts a ProxyCommand with $SHELL -c; a bash on ssh's socket reads ~/.bashrc at shell level 1 (0.5 s here: pyenv init).
    const home = privateTempDir('user-home');
    try {
      const ran = join(home.dir, 'bashrc-ran');
      writeFileSync(join(home.dir, '.bashrc'), `printf '%s\\n' "$0 $*" >>'${ran}'\n`);
      const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo connected']), { env: { SHELL: '/bin/bash', HOME: home.dir, SHLVL: '' } });
      await r.waitFor('connected\r\n');
      expect((await r.exit()).exitCode).toBe(0);
      expect(existsSync(ran) ? readFileSync(ran, 'utf8') : '').toBe('');
    } finally {
      home.remove();
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

  it('leaves the connection to ssh where ssh binds its end itself, and has the helper only tell when the server is back', async () => {
    const ssh = recordingSsh();
    const { proxy } = rig();
    try {
      const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo bound; read a; echo "a:$a"; exit 3']), {
        rezumeOptions: ['--ssh', ssh.path, '-o', 'BindAddress=127.0.0.1'],
      });
      await r.waitFor('bound\r\n');
      const tried = proxy.connections;
      proxy.setMode('reset');
      await r.waitFor('\x1b]2;rezume: connection lost');
      await proxy.waitForConnections(tried + 4); // the helper's tries, each reset
      const runs = (): number => ssh.args().filter((a) => a === 'SendEnv=ATSR_ID').length;
      expect(runs()).toBe(1); // no ssh started into the outage
      proxy.setMode('pass');
      await r.waitFor('\x1b[23;0t'); // resumed
      r.write('back\r');
      await r.waitFor('a:back\r\n');
      expect((await r.exit()).exitCode).toBe(3);
      expect(runs()).toBe(2);
      expect(ssh.args().some((a) => a.startsWith('ProxyCommand=') || a.startsWith('ProxyUseFdpass='))).toBe(false);
    } finally {
      proxy.setMode('pass');
      ssh.remove();
    }
  });
});
