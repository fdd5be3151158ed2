// atsr's own files beside the sockets (agent links, stale-socket locks) live
// in a namespace no session name can take (a leading '.'), so a session
// named like one of them never meets it.
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SessionSocket } from '../../src/host/session-socket.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('names');

/** An ssh-agent stand-in: accepts and hangs up (what a session's front must never be attached to). */
function fakeAgent(path: string): Promise<Server> {
  const server = createServer((s) => s.destroy());
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

/** Prints its SSH_AUTH_SOCK, then, on each line typed, where that link points. */
const SHOWS_AGENT = ['sh', '-c', 'echo "sock=$SSH_AUTH_SOCK"; while read l; do echo "to=$(readlink "$SSH_AUTH_SOCK")"; done'];

describe('internal names', () => {
  it('sessions w1 and w1.agent, both with SSH_AUTH_SOCK, work and stay distinct', async () => {
    const S = box().sockets;
    const agentSock = `${box().dir}/agent.sock`;
    const agent = await fakeAgent(agentSock);
    try {
      const env = box().env({ SSH_AUTH_SOCK: agentSock });
      const w1 = box().attach(['-t', 'w1', ...SHOWS_AGENT], { env });
      await w1.waitFor(`sock=${S}/.w1.agent\r\n`);
      w1.write('\r');
      await w1.waitFor(`to=${agentSock}\r\n`);

      expect(await box().atsr(['-n', 'w1.agent', ...SHOWS_AGENT], { env })).toEqual({ code: 0, stdout: '', stderr: '' });
      const w1a = box().attach(['-a', 'w1.agent'], { env });
      await w1a.waitFor(`sock=${S}/.w1.agent.agent\r\n`);
      w1a.write('\r');
      await w1a.waitFor(`to=${agentSock}\r\n`);
      expect((await box().list()).map((s) => s.name).sort()).toEqual(['w1', 'w1.agent']);
    } finally {
      agent.close();
    }
  });

  it("a session's agent link never replaces the socket of a session named <name>.agent", async () => {
    const agentSock = `${box().dir}/agent.sock`;
    const agent = await fakeAgent(agentSock);
    try {
      expect((await box().atsr(['-n', 'w2.agent', 'sh', '-c', 'read l; echo w2-agent-alive; read l'])).code).toBe(0);
      const w2 = box().attach(['-t', 'w2', ...SHOWS_AGENT], { env: box().env({ SSH_AUTH_SOCK: agentSock }) });
      w2.write('\r');
      await w2.waitFor(`to=${agentSock}\r\n`); // w2's link is in place
      const other = box().attach(['-a', 'w2.agent']);
      other.write('\r');
      await other.waitFor('w2-agent-alive\r\n');
    } finally {
      agent.close();
    }
  });

  it('the lock that guards a stale socket is not the socket of a session named <name>.lock', async () => {
    expect((await box().atsr(['-n', 's1.lock', 'sleep', '60'])).code).toBe(0);
    // A stale socket s1: its listener was killed without removing it.
    const stale = `${box().sockets}/s1`;
    const made = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(made.signal).toBe('SIGKILL');
    const host = new SessionSocket(stale, () => undefined); // nothing connects to it
    try {
      expect(await host.claim()).toBe('listening');
    } finally {
      host.close();
    }
    await waitUntil('s1.lock is still a live session', async () => (await box().session('s1.lock')).command[0] === 'sleep');
  });
});
