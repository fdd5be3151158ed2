// rezume over the real ssh and sshd: a session, its exit status, and a resume.
import { describe, expect, it } from 'vitest';
import { useResumeRig } from '../support/use-sandbox.js';

const rig = useResumeRig('resume');

describe('rezume', () => {
  it('runs a session and exits with its status', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo hello-there; read l; echo "got:$l"; exit 9']));
    await r.waitFor('hello-there\r\n');
    r.write('xyz\r');
    await r.waitFor('got:xyz');
    expect((await r.exit()).exitCode).toBe(9);
    expect(r.text()).not.toContain('\x1b_');
  });

  it('output produced during an outage appears after the resume, exactly once', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo ready; read a; sleep 3; echo PROMPT-AFTER-SLEEP; read b; echo "b:$b"']));
    await r.waitFor('ready\r\n');
    r.write('\r');
    rig().proxy.setMode('blackhole');
    await r.waitFor('\x1b]2;rezume: connection lost'); // the title says so
    rig().proxy.setMode('pass');
    await r.waitFor('PROMPT-AFTER-SLEEP\r\n');
    r.write('typed\r');
    await r.waitFor('b:typed\r\n');
    expect((await r.exit()).exitCode).toBe(0);
    const text = r.text();
    expect(text.split('PROMPT-AFTER-SLEEP').length).toBe(2);
    expect(text.split('ready\r\n').length).toBe(2);
  });

  it('kill PID of the host ends rezume with the status of the hung-up command', async () => {
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', 'echo up; while :; do sleep 0.05; done']));
    await r.waitFor('up\r\n');
    const [session] = await rig().box.list();
    process.kill(session!.pid, 'SIGTERM');
    expect((await r.exit()).exitCode).toBe(128 + 1); // sh ended by the SIGHUP of the hangup
    expect(r.text()).not.toContain('lost the connection');
  });
});
