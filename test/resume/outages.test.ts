// Outages over the real ssh: keys and output in flight are neither lost nor
// duplicated, a loss beyond the server's buffer is stated exactly, and a
// command that ends during an outage still delivers its tail and status.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { NODE24, ROOT, atsrCommand } from '../support/atsr-bin.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useResumeRig } from '../support/use-sandbox.js';
import { seededBytes, seededRandom } from '../support/seeded-bytes.js';
import type { FaultMode } from '../support/fault-proxy.js';
import type { PtyRun } from '../support/pty-harness.js';

/** rezume's own notices to the terminal (window title push/set/pop), which are not session bytes. */
const NOTICE = /\x1b\[2[23];0t|\x1b\]2;rezume: [^\x07]*\x07/g;
const withoutNotices = (b: Buffer): Buffer => Buffer.from(b.toString('latin1').replace(NOTICE, ''), 'latin1');
const count = (hay: string, needle: string): number => hay.split(needle).length - 1;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const rig = useResumeRig('outage');

/** Cuts the network until rezume says so, restores it, and waits for the resume (the title is popped). */
async function outage(r: PtyRun, mode: FaultMode): Promise<void> {
  const from = r.output().length;
  rig().proxy.setMode(mode);
  try {
    const lost = await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    rig().proxy.setMode('pass');
    await r.waitFor('\x1b[23;0t', 15_000, lost);
  } finally {
    rig().proxy.setMode('pass');
  }
}

describe('outages', () => {
  it('keys typed during an outage, before and after it is noticed, arrive once and in order', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'stty -echo; echo ready; while read l; do echo "got:$l"; done']));
    await r.waitFor('ready\r\n');
    r.write('k0\r');
    await r.waitFor('got:k0\r\n');
    const from = r.output().length;
    rig().proxy.setMode('blackhole');
    r.write('k1\r'); // into the dead connection: lost in flight, resent
    await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    r.write('k2\r'); // held by rezume until the resume
    rig().proxy.setMode('pass');
    r.write('k3\r');
    await r.waitFor('got:k3\r\n');
    const text = withoutNotices(r.output()).toString('latin1');
    expect(text.slice(text.indexOf('ready'))).toBe('ready\r\ngot:k0\r\ngot:k1\r\ngot:k2\r\ngot:k3\r\n');
  });

  it('survives a seeded run of blackhole and reset outages with all 256 byte values both ways', async () => {
    const OUT = 160 * 1024;
    const IN = 24 * 1024;
    const inputFile = `${rig().box.dir}/peer-input.bin`;
    const peer = `stty raw -echo; exec '${NODE24}' '${ROOT}/test/fixtures/stream-peer.ts' ${OUT} ${IN} 7 '${inputFile}'`;
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', peer]), { rezumeOptions: ['--quit-key', 'none'] });
    await r.waitFor('PEER-START');

    const input = seededBytes(11, IN);
    const random = seededRandom(1234);
    let typed = 0;
    // The last byte waits for the outages: the peer ends once it has all the input, and
    // it must not end before the last outage (the typing outran the outages on a slow machine).
    const typing = (async () => {
      while (typed < IN - 1) {
        const n = Math.min(IN - 1 - typed, 1 + Math.floor(random() * 96));
        r.write(input.subarray(typed, typed + n));
        typed += n;
        await new Promise((res) => setTimeout(res, 20));
      }
    })();
    for (const mode of ['reset', 'blackhole', 'reset', 'blackhole'] as const) {
      await new Promise((res) => setTimeout(res, 300 + Math.floor(random() * 700)));
      await outage(r, mode);
    }
    await typing;
    r.write(input.subarray(IN - 1));
    const end = await r.waitFor('PEER-END', 60_000);
    expect((await r.exit()).exitCode).toBe(0);

    const all = withoutNotices(r.output().subarray(0, end));
    const got = all.subarray(all.indexOf('PEER-START') + 'PEER-START'.length);
    const want = seededBytes(7, OUT);
    expect({ length: got.length, sha: sha(got) }).toEqual({ length: want.length, sha: sha(want) });
    const recorded = readFileSync(inputFile);
    expect({ length: recorded.length, sha: sha(recorded) }).toEqual({ length: IN, sha: sha(input) });
  }, 120_000);

  it('states the exact loss when an outage outlasts the server buffer, then continues', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `L${String(i).padStart(5, '0')}\r\n`).join('');
    const script = 'echo ready; read x; sleep 2; i=0; while [ $i -lt 2000 ]; do printf "L%05d\\n" $i; i=$((i+1)); done; echo DONE; read y';
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', script], ['-b', '4096']));
    await r.waitFor('ready\r\n');
    const before = r.output().length;
    r.write('\r');
    await r.waitFor('ready\r\n\r\n'); // the Enter arrived (echoed): the command prints in 2 s
    await outage(r, 'blackhole');
    await r.waitFor('DONE\r\n', 15_000, before);

    // The whole stream: "ready", the echo of the typed Enter, the lines, DONE.
    const stream = `ready\r\n\r\n${lines}DONE\r\n`;
    const text = r.text();
    const m = /\x1b\]2;rezume: too far behind: (\d+) bytes of output were lost; continuing from offset (\d+)\x07/.exec(text);
    expect(m).not.toBeNull();
    const [lost, from] = [Number(m![1]), Number(m![2])];
    expect(from).toBe(stream.length - 4096);
    const afterNotice = withoutNotices(Buffer.from(text.slice(m!.index + m![0].length), 'latin1')).toString('latin1');
    expect(afterNotice).toBe(stream.slice(from));
    // What arrived before the outage plus what was lost is exactly where the replay starts.
    const receivedBefore = withoutNotices(Buffer.from(text.slice(0, m!.index), 'latin1')).toString('latin1');
    expect(receivedBefore.length - receivedBefore.indexOf('ready') + lost).toBe(from);
    r.write('\r');
    expect((await r.exit()).exitCode).toBe(0);
  });

  it('a command that ends during an outage delivers its tail and status on reconnect', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo ready; read x; sleep 1; echo tail-line; exit 7']));
    await r.waitFor('ready\r\n');
    r.write('\r');
    await r.waitFor('ready\r\n\r\n'); // the Enter arrived (echoed)
    const from = r.output().length;
    rig().proxy.setMode('blackhole');
    await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    await waitUntil('the command has exited on the server', async () => (await rig().box.list()).some((s) => s.exited && s.exitStatus === 7));
    rig().proxy.setMode('pass');
    await r.waitFor('tail-line\r\n', 15_000, from);
    expect((await r.exit()).exitCode).toBe(7);
    expect(count(r.text(), 'tail-line')).toBe(1);
  });

  it('a plain ssh login without ATSR_ID sees no protocol byte', async () => {
    const ssh = rig().sshd.sshArgs(['-tt']);
    const remote = [...atsrCommand(), '-u', rig().box.sockets, '-i', 'ATSR_ID', '-t', '-f', '-s', 'sh', '-c', 'echo plain-login']
      .map((w) => `'${w}'`)
      .join(' ');
    const child = spawn('ssh', [...ssh, rig().sshd.destination, remote], { stdio: ['pipe', 'pipe', 'pipe'], env: rig().box.env() });
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code).toBe(0);
    expect(out).toContain('plain-login\r\n');
    expect(out).not.toContain('\x1b_');
  });
});
