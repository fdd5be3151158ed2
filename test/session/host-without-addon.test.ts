// A session host whose host-native.node is missing (or does not load) does
// without it and loses nothing: it sends output in frames where it would
// write it through, and writes input into the pty through Node. The built
// files are copied without the addon, and the host's memory map shows that
// it was not loaded. Its socket checks are made in JavaScript.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../support/atsr-bin.js';
import { killListedHosts, killUnlistedHosts, waitUntil } from '../support/atsr-sandbox.js';
import { traversableTempDir } from '../support/fake-hosts.js';
import { PtyRun } from '../support/pty-harness.js';
import { seededBytes } from '../support/seeded-bytes.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** atsr and its files, copied without host-native.node into a fresh directory with a socket directory beside them. */
function withoutAddon(): { atsr: string; sockets: string; dir: string; env: NodeJS.ProcessEnv } {
  const temp = traversableTempDir('noaddon');
  const bin = join(temp.dir, 'bin');
  const sockets = join(temp.dir, 's');
  mkdirSync(bin);
  mkdirSync(sockets, { mode: 0o700 });
  for (const f of ['atsr', 'atsr-node', 'atsr-relay', 'pty.node']) copyFileSync(join(ROOT, 'dist', f), join(bin, f));
  const env = { PATH: process.env.PATH, HOME: temp.dir, TERM: 'wy60' };
  cleanups.push(() => temp.remove());
  cleanups.push(() => killUnlistedHosts(temp.dir, killListedHosts([['-u', sockets]], env), 'host-without-addon cleanup'));
  return { atsr: join(bin, 'atsr'), sockets, dir: temp.dir, env };
}

/** The sessions in `sockets` as the built atsr lists them: one without host-native.node shows no PIDs (SO_PEERCRED is the addon's). */
function hostsIn(sockets: string, env: NodeJS.ProcessEnv): Array<{ pid: number }> {
  return JSON.parse(spawnSync(join(ROOT, 'dist/atsr'), ['-u', sockets, '-l', '--json'], { env, encoding: 'utf8' }).stdout) as Array<{ pid: number }>;
}

describe('a host without host-native.node', () => {
  it('takes a paste that straddles many reads and sends every byte value back, exactly', async () => {
    const { atsr, sockets, dir, env } = withoutAddon();
    const runs: PtyRun[] = [];
    cleanups.push(() => runs.forEach((r) => r.kill('SIGKILL')));

    const size = 256 * 1024;
    const paste = seededBytes(9, size);
    const got = join(dir, 'got.bin');
    const all = join(dir, 'all.bin');
    writeFileSync(all, ALL_BYTES);
    const cmd = `stty raw -echo -iexten; printf READY; head -c ${size} > '${got}'; printf 'OUT>'; cat '${all}'; printf '<END'; read x`;
    const run = new PtyRun([atsr, '-u', sockets, '-c', 'na', 'sh', '-c', cmd], { env });
    runs.push(run);
    await run.waitFor('READY');

    const listed = hostsIn(sockets, env);
    expect(listed).toHaveLength(1);
    const maps = readFileSync(`/proc/${listed[0]!.pid}/maps`, 'utf8');
    expect(maps).toContain('pty.node');
    expect(maps).not.toContain('host-native.node');

    run.write(paste);
    const end = await run.waitFor('<END', 60_000);
    expect(readFileSync(got).equals(paste)).toBe(true);
    const start = run.output().indexOf('OUT>') + 'OUT>'.length;
    expect(run.output().subarray(start, end)).toEqual(ALL_BYTES);
  });

  it('checks its socket in JavaScript, and recreates it when deleted', async () => {
    const { atsr, sockets, dir, env } = withoutAddon();
    const log = join(dir, 'host.log');
    expect(spawnSync(atsr, ['-u', sockets, '-d', '2', '-o', log, '-n', 'nb', 'sleep', '60'], { env }).status).toBe(0);
    const socket = join(sockets, 'nb');
    const listed = hostsIn(sockets, env);
    process.kill(listed[0]!.pid, 'SIGUSR1'); // the first check
    const logged = (pattern: RegExp): string[] => readFileSync(log, 'latin1').match(pattern) ?? [];
    await waitUntil('the first check is done', () => logged(/socket checked in \w+/g).length > 0);
    rmSync(socket);
    await waitUntil('the socket is back', () => existsSync(socket), 12_000);
    expect(logged(/socket checked in \w+/g)).toEqual(['socket checked in JavaScript']);
  });
});
