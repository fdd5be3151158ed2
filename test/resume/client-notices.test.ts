// What rezume tells the user while it waits, and what survives a resume
// besides the bytes: the window size.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useResumeRig } from '../support/use-sandbox.js';

const rig = useResumeRig('notices');

const ECHO = ['sh', '-c', 'stty -echo; echo ready; while read l; do echo "got:$l"; done'];

describe('rezume while it waits', () => {
  it('says authentication failed, backs off, and resumes once the key works again', async () => {
    const authorized = join(dirname(rig().sshd.keyFile), 'authorized_keys');
    const key = readFileSync(authorized);
    const r = rig().rezume(rig().remoteCommand(ECHO));
    await r.waitFor('ready\r\n');
    const from = r.output().length;
    rig().proxy.setMode('reset');
    await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    writeFileSync(authorized, '');
    rig().proxy.setMode('pass');
    try {
      await r.waitFor('\x1b]2;rezume: authentication failed; reconnecting', 15_000, from);
    } finally {
      writeFileSync(authorized, key);
    }
    r.write('after\r');
    await r.waitFor('got:after\r\n', 20_000);
  });

  it('says the session was gone when the server had to start a new one', async () => {
    const earlier = new Set((await rig().box.list()).map((s) => s.name));
    const r = rig().rezume(rig().remoteCommand(ECHO));
    await r.waitFor('ready\r\n');
    const ours = async () => (await rig().box.list()).find((s) => !earlier.has(s.name));
    await waitUntil('the session is listed', async () => (await ours()) !== undefined);
    const { pid } = (await ours())!;
    const from = r.output().length;
    rig().proxy.setMode('blackhole');
    await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    r.write('lost keys\r'); // held for the resend; the session they were for is about to end
    process.kill(pid, 'SIGKILL');
    rig().proxy.setMode('pass');
    await r.waitFor('\x1b]2;rezume: the session was gone; a new one was started\x07', 15_000, from);
    // On a line of its own in the terminal, before the new session's first output.
    const line = '\r\nrezume: the session had ended while disconnected; a new one was started, and the 10 bytes typed meanwhile were dropped\r\n';
    const said = await r.waitFor(line, 15_000, from);
    const ready = await r.waitFor('ready\r\n', 15_000, from);
    expect(said).toBeLessThan(ready);
    r.write('after\r');
    const after = await r.waitFor('got:after\r\n', 15_000, ready);
    expect(r.text().slice(ready, after)).not.toContain('got:');
  });

  it('gives the resumed session the window size the terminal has now', async () => {
    const r = rig().rezume(rig().remoteCommand(['bash', '--norc', '-c', 'trap "stty size" WINCH; stty size; while :; do sleep 0.05; done']), { cols: 90, rows: 30 });
    await r.waitFor('30 90\r\n');
    const from = r.output().length;
    rig().proxy.setMode('blackhole');
    await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    r.resize(100, 40);
    rig().proxy.setMode('pass');
    await r.waitFor('40 100\r\n', 15_000, from);
  });

  it('--no-auto waits for Enter before reconnecting', async () => {
    const r = rig().rezume(rig().remoteCommand(ECHO), { rezumeOptions: ['--no-auto'] });
    await r.waitFor('ready\r\n');
    const from = r.output().length;
    rig().proxy.setMode('reset');
    await r.waitFor('\x1b]2;rezume: connection lost; press Enter to reconnect, Enter ~ . quits\x07', 15_000, from);
    rig().proxy.setMode('pass');
    const before = rig().proxy.connections;
    // The absence of a reconnect can only be seen by waiting: ten probe intervals.
    await new Promise((res) => setTimeout(res, 2000));
    expect(rig().proxy.connections).toBe(before);
    r.write('held\r'); // "held" is kept for the session; Enter reconnects and is not sent
    const resumed = await r.waitFor('\x1b[23;0t', 15_000, from);
    r.write('\r');
    await r.waitFor('got:held\r\n', 15_000, resumed);
    expect(rig().proxy.connections).toBe(before + 1);
  });

  it('MultiValue marks and a ~ not followed by . typed during an outage are data; Enter ~ . gives up and leaves the session running', async () => {
    // Ctrl-] Ctrl-^ Ctrl-\ enter value, attribute and subvalue marks in D3, jBASE and UniVerse.
    const typed = Buffer.from('A\x1dB\x1eC\x1cD\r~x\r~~.', 'latin1');
    const arrives = Buffer.from('A\x1dB\x1eC\x1cD\r~x\r~.', 'latin1');
    const reader = ['sh', '-c', `stty raw -echo; echo ready; head -c ${arrives.length} | od -An -tx1 | tr -d ' \\n'; echo; echo read-all; exec sleep 1000`]; // stays: the second outage needs a live session
    const r = rig().rezume(rig().remoteCommand(reader));
    await r.waitFor('ready\n'); // raw: no CR
    const from = r.output().length;
    rig().proxy.setMode('blackhole');
    try {
      await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
      r.write(typed);
    } finally {
      rig().proxy.setMode('pass');
    }
    const end = await r.waitFor('read-all', 20_000, from);
    expect(r.text().slice(0, end)).toContain(arrives.toString('hex'));

    const second = r.output().length;
    rig().proxy.setMode('blackhole');
    try {
      await r.waitFor('\x1b]2;rezume: connection lost', 15_000, second);
      r.write('\r~.');
      expect((await r.exit()).exitCode).toBe(255);
      expect(r.text()).toMatch(/rezume: gave up waiting; the session rz[0-9a-f]{20} is still running on the server; get it back with: rezume --session rz[0-9a-f]{20} /);
    } finally {
      rig().proxy.setMode('pass');
    }
  });
});
