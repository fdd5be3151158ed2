// `atsr -l` as admins read it, `--json` as scripts read it, stale sockets,
// sessions placed in a later socket directory because of a long home, and
// `-l DIR` of a shared root (the installed `cd PREFIX; bin/atsr -l session`).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { NODE24, atsrCommand } from '../support/atsr-bin.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/atsr-sandbox.js';
import { ThrowawayUser, removeUsers } from '../support/throwaway-user.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('list');
const HEADER = /^ {2}NAME +PID +OWNER +CREATED +DETACHED +FROM +COMMAND$/;

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
    expect(text).toHaveLength(3);
    expect(text.shift()).toMatch(HEADER);
    const user = process.env.USER ?? 'root';
    expect(text[0]).toMatch(new RegExp(`^  orphan +${json[0]!.pid} +${user} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +detached \\d+s +- +sleep 60$`));
    expect(text[1]).toMatch(new RegExp(`^\\* busy +${json[1]!.pid} +${user} +\\S+ \\S+ +- +192\\.0\\.2\\.7 +sh -c 'echo up; sleep 60'$`));
  });

  it('says no sessions when there are none (text only: JSON stays [])', async () => {
    expect(await box().atsr(['-l'])).toEqual({ code: 0, stdout: 'no sessions\n', stderr: '' });
    expect(await box().atsr(['-l', '--json'])).toEqual({ code: 0, stdout: '[]\n', stderr: '' });
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

describe('atsr -l DIR of a shared root', () => {
  let user: ThrowawayUser;
  beforeAll(() => {
    user = ThrowawayUser.create();
  });
  afterAll(() => removeUsers(user));

  /** A shared root as the installer makes it (root's, sticky 1777), inside a directory like an install prefix. */
  function sharedRoot(): { prefix: string; root: string } {
    const prefix = `${box().dir}/prefix`;
    mkdirSync(prefix, { mode: 0o755 });
    chmodSync(box().dir, 0o755); // the throwaway user must reach it
    const root = `${prefix}/session`;
    mkdirSync(root);
    chmodSync(root, 0o1777);
    return { prefix, root };
  }

  type Listed = { name: string; owner: string; pid: number };
  const names = (stdout: string): string[] => (JSON.parse(stdout) as Listed[]).map((s) => `${s.name} ${s.owner}`);

  it("lists the users' subdirectories, also named relative to the cwd: root sees all, a user their own", async () => {
    const { prefix, root } = sharedRoot();
    // Listing a directory named by hand creates nothing in it.
    expect(await user.atsr(['-l', root])).toEqual({ code: 0, stdout: 'no sessions\n', stderr: '' });
    expect(await box().run(['-l', root])).toEqual({ code: 0, stdout: 'no sessions\n', stderr: '' });
    expect(readdirSync(root)).toEqual([]);
    expect((await box().run(['-g', root, '-n', 'mine', 'sleep', '60'])).code).toBe(0);
    const theirs = await user.atsr(['-g', root, '-n', 'theirs', 'sleep', '60']);
    expect(theirs.code, theirs.stderr).toBe(0);
    try {
      const asRoot = await box().run(['-l', root, '--json']);
      expect(asRoot.stderr).toBe('');
      expect(names(asRoot.stdout).sort()).toEqual(['mine root', `theirs ${user.name}`]);

      const text = await box().run(['-l', 'session'], { cwd: prefix });
      expect(text.code).toBe(0);
      const lines = text.stdout.split('\n').filter(Boolean);
      expect(lines[0]).toMatch(HEADER);
      expect(lines.slice(1).map((l) => l.split(/ +/).slice(1, 2).join()).sort()).toEqual(['mine', 'theirs']);

      const asUser = await user.run(['sh', '-c', `cd "$1" && shift && exec "$@" -l session --json`, 'sh', prefix, ...atsrCommand()]);
      expect(asUser.stderr).toBe('');
      expect(names(asUser.stdout)).toEqual([`theirs ${user.name}`]);
    } finally {
      await box().run(['-l', root, '--json']).then((r) => (JSON.parse(r.stdout) as Listed[]).forEach((s) => process.kill(s.pid, 'SIGKILL')));
    }
  });
});
