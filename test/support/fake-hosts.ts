// Hostile stand-ins for session hosts, for the shared-host tests: a
// throwaway user, and a process of theirs that listens on socket paths and
// answers a status query with whatever it claims (or stalls, or swaps its
// directory for a symlink when root connects), or leaves a stale socket.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

/** A user made for one test file (useradd) and deleted after it (userdel). */
export class ThrowawayUser {
  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
  ) {}

  static create(): ThrowawayUser {
    const name = `atsrt${randomBytes(8).toString('hex').replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)]!).slice(0, 6)}`;
    execFileSync('useradd', ['-M', '-s', '/usr/sbin/nologin', name]);
    const id = (flag: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
    return new ThrowawayUser(name, id('-u'), id('-g'));
  }

  /** A directory owned by this user, mode 0700. */
  privateDir(path: string): string {
    mkdirSync(path, { mode: 0o700 });
    chmodSync(path, 0o700);
    chownSync(path, this.uid, this.gid);
    return path;
  }

  remove(): void {
    execFileSync('userdel', [this.name]);
  }
}

/** What one fake socket does. */
export type FakeSocket =
  /** Answers a status query with `claims` (any fields, any bytes). */
  | { path: string; claims: object }
  /** Accepts and never answers. */
  | { path: string; stall: true }
  /** On the first connection: renames `dir` to `away`, puts a symlink to `target` in its place, prints "swapped", closes. */
  | { path: string; swap: { dir: string; away: string; target: string } }
  /** A socket file nothing listens on (its host died). */
  | { path: string; stale: true };

// Runs as the throwaway user, on the machine's node: plain JS, no imports from the repository.
const FAKE_HOST_JS = `
const net = require('net'), fs = require('fs');
const sockets = JSON.parse(process.argv[1]);
const frame = (type, obj) => { const p = Buffer.from(JSON.stringify(obj)); const b = Buffer.alloc(5 + p.length); b[0] = type; b.writeUInt32BE(p.length, 1); p.copy(b, 5); return b; };
let pending = sockets.length;
const ready = () => { if (--pending === 0) process.stdout.write('up\\n'); };
for (const s of sockets) {
  if (s.stale) {
    const tmp = s.path + '.tmp';
    const srv = net.createServer().listen(tmp, () => { fs.linkSync(tmp, s.path); srv.close(() => { fs.rmSync(tmp, { force: true }); ready(); }); });
    continue;
  }
  net.createServer((c) => {
    c.on('error', () => {});
    if (s.swap) { fs.renameSync(s.swap.dir, s.swap.away); fs.symlinkSync(s.swap.target, s.swap.dir); process.stdout.write('swapped\\n'); c.destroy(); }
    else if (s.claims) c.once('data', () => c.end(frame(0x47, s.claims)));
  }).listen(s.path, ready);
}
`;

export class FakeHost {
  private out = '';

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
  }

  /** Starts the user's fake host; resolves once every socket is in place. */
  static async start(user: ThrowawayUser, sockets: FakeSocket[]): Promise<FakeHost> {
    const child = spawn(process.execPath, ['-e', FAKE_HOST_JS, JSON.stringify(sockets)], {
      uid: user.uid,
      gid: user.gid,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const host = new FakeHost(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`fake host exited (${code}) before it was up`)));
      child.stdout!.on('data', () => host.out.includes('up\n') && resolve());
    });
    return host;
  }

  get pid(): number {
    return this.child.pid!;
  }

  said(line: string): boolean {
    return this.out.split('\n').includes(line);
  }

  /** How it ended: its exit code, or the signal that ended it. */
  readonly ended = (): Promise<string> =>
    new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) resolve(String(this.child.signalCode ?? this.child.exitCode));
      else this.child.once('exit', (code, signal) => resolve(String(signal ?? code)));
    });

  async stop(): Promise<void> {
    const ended = this.ended();
    this.child.kill('SIGKILL');
    await ended;
  }
}

/** A status answer as a real host gives it, with `over` replacing any field. */
export function statusClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 's', pid: 1, owner: 'root', uid: 0, command: ['sleep', '600'], createdAt: '2026-11-25T10:00:00.000Z',
    attached: false, viewers: 0, detachedSince: null, clientAddr: '', exited: false, exitStatus: null,
    out: 0, in: 0, bufferSize: 262144, ...over,
  };
}

/** Many fake sessions in this process (cheap: one server per socket), answering with `claims` or, for `silent` names, never. */
export async function inProcessHosts(dir: string, names: string[], silent: Set<string>): Promise<() => Promise<void>> {
  const servers: Server[] = [];
  const connections = new Set<Socket>();
  const frame = (obj: object): Buffer => {
    const p = Buffer.from(JSON.stringify(obj));
    return Buffer.concat([Buffer.from([0x47, p.length >>> 24, (p.length >>> 16) & 255, (p.length >>> 8) & 255, p.length & 255]), p]);
  };
  await Promise.all(
    names.map(
      (name, i) =>
        new Promise<void>((resolve) => {
          const claims = statusClaims({ name, pid: 424242, owner: 'mallory', uid: 4242, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString() });
          const server = createServer((c) => {
            connections.add(c);
            c.on('error', () => {});
            if (!silent.has(name)) c.once('data', () => c.end(frame(claims)));
          });
          servers.push(server);
          server.listen(`${dir}/${name}`, resolve);
        }),
    ),
  );
  return async () => {
    for (const c of connections) c.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  };
}

/** A temp directory others can pass through (mode 0755), for roots other users must reach. */
export function traversableTempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(`/tmp/atsr-${prefix}-`);
  chmodSync(dir, 0o755);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
