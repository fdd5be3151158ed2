// `atsr -l` as admins read it, `--json` as scripts read it, stale sockets,
// and sessions placed in a later socket directory because of a long home.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { NODE24 } from '../support/atsr-bin.js';
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('list');

describe('atsr -l', () => {
  it('lists an attached and an orphaned session, in text and JSON', async () => {
    expect((await box().atsr(['-n', 'orphan', 'sleep', '60'])).code).toBe(0);
    const a = box().attach(['-c', 'busy', 'sh', '-c', 'echo up; sleep 60'], { env: box().env({ SSH_CLIENT: '192.0.2.7 50000 22' }) });
    await a.waitFor('up');
    await waitUntil('busy is attached', async () => (await box().session('busy')).attached);

    const json = await box().list();
    expect(json.map((s) => [s.name, s.attached, s.clientAddr, s.command])).toEqual([
      ['orphan', false, '', ['sleep', '60']],
      ['busy', true, '192.0.2.7', ['sh', '-c', 'echo up; sleep 60']],
    ]);

    const text = (await box().atsr(['-l'])).stdout.split('\n').filter(Boolean);
    expect(text).toHaveLength(2);
    const user = process.env.USER ?? 'root';
    expect(text[0]).toMatch(new RegExp(`^  orphan +${json[0]!.pid} +${user} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +detached \\d+s +- +sleep 60$`));
    expect(text[1]).toMatch(new RegExp(`^\\* busy +${json[1]!.pid} +${user} +\\S+ \\S+ +- +192\\.0\\.2\\.7 +sh -c 'echo up; sleep 60'$`));
  });

  it('removes stale sockets and does not list them', async () => {
    mkdirSync(box().sockets, { recursive: true, mode: 0o700 });
    const stale = `${box().sockets}/gone`;
    // A host that died: a process listening on the path, killed so that the file stays.
    const listener = spawn(NODE24, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => console.log('up'))`]);
    await new Promise((r) => listener.stdout.once('data', r));
    listener.kill('SIGKILL');
    await new Promise((r) => listener.once('exit', r));
    expect(existsSync(stale)).toBe(true);
    writeFileSync(`${box().sockets}/not-a-socket`, '');
    expect(await box().list()).toEqual([]);
    expect(existsSync(stale)).toBe(false);
  });

  it('finds a session that a long home put in the next directory of the chain', async () => {
    const home = `${box().dir}/${'h'.repeat(70)}`;
    const env = box().env({ HOME: home, TMPDIR: `${box().dir}/t` });
    const name = 'a-session-name-long-enough-to-overflow';
    expect((await box().run(['-n', name, 'sleep', '60'], { env })).code).toBe(0);
    const r = await box().run(['-l', '--json'], { env });
    const [s] = JSON.parse(r.stdout) as Array<{ name: string; socket: string; pid: number }>;
    expect(s).toMatchObject({ name, socket: `${box().dir}/t/atsr/${process.getuid!()}/${name}` });
    process.kill(s!.pid, 'SIGKILL');
  });
});
