// Proves the sshd fixture and the fault proxy with the real ssh client.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type Sshd, startSshd } from './sshd-fixture.js';

interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real ssh client whose output is collected as it arrives. */
class SshClient {
  private stdout = '';
  private stderr = '';
  private readonly child: ChildProcessWithoutNullStreams;
  readonly result: Promise<SshResult>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn('ssh', args, { env });
    this.child.stdout.setEncoding('utf8').on('data', (text: string) => (this.stdout += text));
    this.child.stderr.setEncoding('utf8').on('data', (text: string) => (this.stderr += text));
    this.result = once(this.child, 'close').then(([code]: unknown[]) => ({
      code: code as number | null,
      stdout: this.stdout,
      stderr: this.stderr,
    }));
  }

  /** Resolves once stdout holds exactly `text`. */
  async waitForStdout(text: string): Promise<void> {
    while (this.stdout !== text) {
      if (this.child.exitCode !== null) throw new Error(`ssh exited: ${this.stderr}`);
      await once(this.child.stdout, 'data');
    }
  }
}

let sshd: Sshd;

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
});

/** `ssh <fixture options> [extra] user@127.0.0.1 command`, stdin left open. */
const ssh = (command: string, extra: readonly string[] = [], env?: NodeJS.ProcessEnv): SshClient =>
  new SshClient([...sshd.sshArgs(extra), sshd.destination, command], env);

describe('sshd fixture', () => {
  it('runs a command for the real ssh client', async () => {
    expect(await ssh('echo hi', ['-n']).result).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(await readFile(sshd.logFile, 'utf8')).toContain(`Accepted publickey for ${sshd.user} from 127.0.0.1`);
  });

  it('passes ATSR_ID from SendEnv and from SetEnv', async () => {
    const sent = ssh('echo "$ATSR_ID"', ['-n', '-o', 'SendEnv=ATSR_ID'], { ...process.env, ATSR_ID: 'sent-1' });
    expect((await sent.result).stdout).toBe('sent-1\n');
    const set = ssh('echo "$ATSR_ID"', ['-n', '-o', 'SetEnv=ATSR_ID=set-2']);
    expect((await set.result).stdout).toBe('set-2\n');
  });
});

describe('fault proxy', () => {
  let proxy: FaultProxy;
  const throughProxy = (): string[] => ['-p', String(proxy.port)];

  beforeEach(async () => {
    proxy = await startFaultProxy({ targetPort: sshd.port });
  });

  afterEach(async () => {
    await proxy.close();
  });

  /** An ssh session through the proxy that notices a dead link within ~3 s. */
  async function openSession(): Promise<SshClient> {
    const keepalive = ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2'];
    const client = ssh('echo ready; exec cat', [...throughProxy(), ...keepalive]);
    await client.waitForStdout('ready\n');
    return client;
  }

  const echoHi = (extra: readonly string[] = []): Promise<SshResult> =>
    ssh('echo hi', ['-n', ...throughProxy(), ...extra]).result;

  it('passes bytes both ways and counts connections', async () => {
    expect(await echoHi()).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(proxy.connections).toBe(1);
  });

  it('blackhole: the open session dies by ServerAlive, new ones hang, pass lets new ones through', async () => {
    const session = await openSession();
    proxy.setMode('blackhole');
    expect((await session.result).code).toBe(255);

    const hanging = await echoHi(['-o', 'ConnectTimeout=1']);
    expect(hanging.code).toBe(255);
    expect(hanging.stderr).toContain('timed out during banner exchange');

    proxy.setMode('pass');
    expect(await echoHi()).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(proxy.connections).toBe(3);
  });

  it('reset: the open session and new ones are reset, pass lets new ones through', async () => {
    const session = await openSession();
    proxy.setMode('reset');
    // ssh words it as a reset or a broken pipe, as its read or write sees it first.
    expect((await session.result).code).toBe(255);
    expect((await echoHi()).code).toBe(255);

    proxy.setMode('pass');
    expect(await echoHi()).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
  });

  it('waitForConnections resolves when a client reconnects', async () => {
    const waiting = proxy.waitForConnections(2);
    await echoHi();
    expect(proxy.connections).toBe(1);
    await Promise.all([waiting, echoHi()]);
    expect(proxy.connections).toBe(2);
  });
});

describe('fault proxy in front of an echo server', () => {
  let echoServer: Server;
  let proxy: FaultProxy;

  beforeAll(async () => {
    echoServer = createServer((socket) => socket.pipe(socket));
    echoServer.listen(0, '127.0.0.1');
    await once(echoServer, 'listening');
    const address = echoServer.address();
    if (address === null || typeof address === 'string') throw new Error('echo server has no port');
    proxy = await startFaultProxy({ targetPort: address.port });
  });

  afterAll(async () => {
    await proxy.close();
    echoServer.close();
  });

  /** A raw client through the proxy that records every byte it gets back. */
  async function dial(): Promise<{ socket: Socket; received: () => string; echo: (text: string) => Promise<void> }> {
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    await once(socket, 'connect');
    let received = '';
    socket.setEncoding('utf8').on('data', (text: string) => (received += text));
    const echo = async (text: string): Promise<void> => {
      const expected = received + text;
      socket.write(text);
      while (received !== expected) await once(socket, 'data');
    };
    return { socket, received: () => received, echo };
  }

  it('keeps a blackholed connection dead after pass, without closing it', async () => {
    const old = await dial();
    await old.echo('a1');
    proxy.setMode('blackhole');
    old.socket.write('a2');
    proxy.setMode('pass');
    old.socket.write('a3');

    const fresh = await dial();
    await fresh.echo('b1');
    await fresh.echo('b2');
    expect(old.received()).toBe('a1');
    expect(old.socket.destroyed).toBe(false);
    old.socket.destroy();
    fresh.socket.destroy();
  });
});
