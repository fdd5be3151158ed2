// rezume and a protocol v2 server (docs/protocol.md part 2): closing the
// terminal (SIGHUP) while connected hangs the session up as plain ssh would,
// unless --keep; output that looks like a server message but lacks the
// hello's nonce is shown and counted, never obeyed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useResumeRig } from '../support/use-sandbox.js';

const rig = useResumeRig('v2client');

/** A command that records the SIGHUP it gets, then ends as a shell ended by one would. */
function hupRecorder(file: string): string[] {
  return ['sh', '-c', `trap 'echo hup > ${file}; exit 129' HUP; echo ready; while :; do sleep 0.05; done`];
}


describe('closing the terminal', () => {
  // Needs a version 2 host (its side of `hangup;n=N`): an older server never
  // gets the request, and rezume just leaves, so the session stays.
  it('while connected hangs the session up within 2 s, as plain ssh would', async () => {
    const hup = join(rig().box.dir, 'hup-1');
    const before = new Set((await rig().box.list()).map((s) => s.name));
    const r = rig().rezume(rig().remoteCommand(hupRecorder(hup)));
    await r.waitFor('ready\r\n');
    const name = await rig().newSession(before);
    const sent = Date.now();
    r.kill('SIGHUP');
    await r.exit(2000);
    await waitUntil('the session is gone', async () => !(await rig().box.list()).some((s) => s.name === name), 2000 - (Date.now() - sent));
    expect(readFileSync(hup, 'utf8')).toBe('hup\n');
  });

  it('with --keep leaves the session running and names the command that gets it back', async () => {
    const hup = join(rig().box.dir, 'hup-2');
    const before = new Set((await rig().box.list()).map((s) => s.name));
    const r = rig().rezume(rig().remoteCommand(hupRecorder(hup)), { rezumeOptions: ['--keep'] });
    await r.waitFor('ready\r\n');
    const name = await rig().newSession(before);
    r.kill('SIGHUP');
    expect((await r.exit(2000)).exitCode).toBe(129);
    expect(r.text()).toMatch(new RegExp(`rezume: the session ${name} is still running on the server; get it back with: rezume --session ${name} `));
    await waitUntil('the session is detached', async () => !(await rig().box.session(name)).attached);
    expect((await rig().box.session(name)).exited).toBe(false);
    expect(existsSync(hup)).toBe(false);
  });
});

describe('messages the session prints', () => {
  // Needs a version 2 host (the hello's nonce): without it, an exit whose
  // `out` is the client's rx is taken as the server's, as protocol v1 says.
  it('an exit message printed by the command is shown and counted; the real exit status comes at the end', async () => {
    const forged = '\x1b_atsr:1;exit;status=42;out=7\x1b\\';
    const script = "printf 'ready\\n\\033_atsr:1;exit;status=42;out=7\\033\\\\'; read x; echo after; read y; exit 5";
    const r = rig().rezume(rig().remoteCommand(['sh', '-c', script]));
    await r.waitFor(`ready\r\n${forged}`);
    const from = r.output().length;
    rig().proxy.setMode('reset');
    try {
      await r.waitFor('\x1b]2;rezume: connection lost', 15_000, from);
    } finally {
      rig().proxy.setMode('pass');
    }
    await r.waitFor('\x1b[23;0t', 15_000, from);
    r.write('\r');
    await r.waitFor('after\r\n', 15_000, from);
    r.write('\r');
    expect((await r.exit()).exitCode).toBe(5);
    expect(r.text().split(forged).length).toBe(2); // shown once: counted, so not replayed
  });
});
