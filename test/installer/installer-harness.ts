// The real installer for the tests: dist/install-atsr-X.Y.Z.bin, built by
// ci/build-installer.sh when missing or older than its inputs (once, under a
// lock, however many test files ask at the same time), and a sandbox per
// test with its own prefix, sshd_config and a stand-in `systemctl` that
// records how it was called instead of touching the machine's sshd. The
// sandbox's sshd_config is read by no sshd unless a test makes it: by
// starting a private sshd on it (startSshd), or by running the installer
// where the sandbox's ssh directory is /etc/ssh (asSystemSshd).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, rmdirSync, statSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/atsr-bin.js';
import { PtyRun } from '../support/pty-harness.js';
import { ensurePrivilegeSeparationDir, findFreePort } from '../support/sshd-fixture.js';
import { waitUntil } from '../support/atsr-sandbox.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
export const INSTALLER = join(ROOT, `dist/install-atsr-${VERSION}.bin`);
const INPUTS = ['installer', 'templates', 'docs', 'LICENSE', 'ci/build-installer.sh', 'dist/atsr', 'dist/pty.node', 'dist/rezume-connect', 'dist/atsr-relay', 'dist/host-native.node', 'src'];
const LOCK = join(ROOT, 'build/installer.lock');
const STALE_LOCK_MS = 180_000;

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((n) => newestMtime(join(path, n))));
}

const isFresh = (): boolean => existsSync(INSTALLER) && statSync(INSTALLER).mtimeMs >= Math.max(...INPUTS.map((p) => newestMtime(join(ROOT, p))));

/** The installer .bin, built first if it is out of date. */
export async function installerBin(): Promise<string> {
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  for (;;) {
    if (isFresh()) return INSTALLER;
    try {
      mkdirSync(LOCK); // atomic: one test file builds, the others wait for it
    } catch {
      // A lock left by a killed run would block forever: a build takes well under this.
      if (Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    try {
      if (!isFresh()) {
        const r = spawnSync('bash', [join(ROOT, 'ci/build-installer.sh')], { encoding: 'utf8', timeout: 120_000 });
        if (r.status !== 0) throw new Error(`ci/build-installer.sh failed: ${r.stderr}`);
      }
    } finally {
      rmdirSync(LOCK);
    }
  }
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class InstallSandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'atsr-installer-'));
  readonly prefix = join(this.dir, 'opt/atsr');
  readonly sshdConfig = join(this.dir, 'ssh/sshd_config');
  readonly dropInDir = join(this.dir, 'ssh/sshd_config.d');
  readonly fakeBin = join(this.dir, 'fakebin');
  private readonly calls = join(this.dir, 'systemctl.calls');

  /**
   * A host where sshd has run: its privilege separation directory is there (runWithEmptyRun is one where it is not).
   * @param hostKey  puts a host key in the ssh directory where the system's config looks for one
   *   (/etc/ssh/ssh_host_ed25519_key): runAsSystemSshd needs it, for sshd -t.
   */
  constructor(sshdConfigText: string, { hostKey = false } = {}) {
    ensurePrivilegeSeparationDir();
    mkdirSync(join(this.dir, 'ssh'));
    if (hostKey) spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(this.dir, 'ssh/ssh_host_ed25519_key')]);
    mkdirSync(join(this.dir, 'opt'));
    writeFileSync(this.sshdConfig, sshdConfigText.replaceAll('@DIR@', this.dir));
    // Stands in for systemd: `ssh.service` is loaded, and every call is recorded.
    this.standIn('systemctl', `echo "$*" >> '${this.calls}'\ncase $1 in show) echo loaded ;; esac`);
  }

  /** Puts an executable sh script named `name` first on PATH. */
  standIn(name: string, body: string): void {
    mkdirSync(this.fakeBin, { recursive: true });
    writeFileSync(join(this.fakeBin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(this.fakeBin, name), 0o755);
  }

  get env(): NodeJS.ProcessEnv {
    return { ...process.env, PATH: `${this.fakeBin}:${process.env.PATH}`, TERM: 'xterm' };
  }

  /** What an install may change here: the sshd configuration and the prefix's parent, snapshotted. */
  systemState(): string[] {
    return [...treeSnapshot(join(this.dir, 'ssh')), ...treeSnapshot(join(this.dir, 'opt'))];
  }

  systemctlCalls(): string {
    return existsSync(this.calls) ? readFileSync(this.calls, 'utf8') : '';
  }

  /** The installer with no terminal (unattended), arguments after makeself's `--`; as user `uid` if given. */
  run(args: string[], uid?: number, env = this.env): Promise<Result> {
    const asUser = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
    return capture([...asUser, 'sh', INSTALLER, '--', ...args], env);
  }

  /**
   * The installer on a host where nothing has made /run/sshd yet: in a
   * private mount namespace with an empty tmpfs on /run. Its stdout ends with
   * a line `after: MODE OWNER GROUP` for /run/sshd (or `after: none`), read
   * inside that namespace once the installer has exited.
   */
  runWithEmptyRun(args: string[]): Promise<Result> {
    const script =
      'mount -t tmpfs -o mode=755 tmpfs /run || exit 99; sh "$0" -- "$@"; s=$?; ' +
      'if [ -e /run/sshd ]; then echo "after: $(stat -c "%a %U %G" /run/sshd)"; else echo "after: none"; fi; exit $s';
    return capture(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, INSTALLER, ...args], this.env);
  }

  /**
   * The installer on a host whose system sshd_config is this sandbox's: in a
   * private mount namespace with the sandbox's ssh directory bound over
   * /etc/ssh, so that the default --sshd-config is the sandbox's file and a
   * reload goes to the stand-in systemctl. The machine's /etc/ssh is never
   * touched.
   */
  runAsSystemSshd(args: string[]): Promise<Result> {
    return capture(this.asSystemSshd(args), this.env);
  }

  /** The wizard on a real pty, as runAsSystemSshd. */
  wizardAsSystemSshd(args: string[]): PtyRun {
    return new PtyRun(this.asSystemSshd(args), { env: this.env, cols: 120, rows: 40 });
  }

  private asSystemSshd(args: string[]): string[] {
    if (!existsSync(join(this.dir, 'ssh/ssh_host_ed25519_key'))) throw new Error('runAsSystemSshd needs new InstallSandbox(text, { hostKey: true })');
    const script = 'ssh=$0; bin=$1; shift; mount --bind "$ssh" /etc/ssh || exit 99; exec sh "$bin" -- "$@"';
    return ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, join(this.dir, 'ssh'), INSTALLER, ...args];
  }

  /** The flags of a full unattended install into this sandbox, editing the system's sshd_config (runAsSystemSshd). */
  systemInstallArgs(...more: string[]): string[] {
    return ['--accept-license', '--prefix', this.prefix, '--yes', ...more];
  }

  /** A real sshd reading `config` (the sandbox's by default), on a free 127.0.0.1 port; killed by remove(). */
  async startSshd(config = this.sshdConfig): Promise<PrivateSshd> {
    const sshd = await PrivateSshd.start(this.dir, config);
    this.sshds.push(sshd);
    return sshd;
  }

  private readonly sshds: PrivateSshd[] = [];

  /** The flags of a full unattended install into this sandbox. */
  installArgs(...more: string[]): string[] {
    return ['--accept-license', '--prefix', this.prefix, '--sshd-config', this.sshdConfig, '--yes', ...more];
  }

  /** The installer on a real pty (the wizard). */
  wizard(args: string[]): PtyRun {
    return new PtyRun(['sh', INSTALLER, '--', ...args], { env: this.env, cols: 120, rows: 40 });
  }

  remove(): void {
    for (const sshd of this.sshds.splice(0)) sshd.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const SSHD_ATTEMPTS = 5;

/**
 * `sshd -D -f CONFIG` as a private listener: its port, address, host key and
 * log come from -o options, so the config file holds only what the test
 * wrote. It logs 'Received SIGHUP; restarting.' when it is told to re-read it.
 */
export class PrivateSshd {
  private constructor(
    private readonly child: ChildProcess,
    readonly config: string,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(dir: string, config: string): Promise<PrivateSshd> {
    const id = `sshd-${Math.random().toString(36).slice(2, 8)}`;
    const hostKey = join(dir, `${id}_host_key`);
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    const logFile = join(dir, `${id}.log`);
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      const options = [`Port=${port}`, 'ListenAddress=127.0.0.1', `HostKey=${hostKey}`, 'PidFile=none'].flatMap((o) => ['-o', o]);
      const child = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', logFile, ...options], { stdio: 'ignore' });
      const sshd = new PrivateSshd(child, config, logFile);
      const listening = `Server listening on 127.0.0.1 port ${port}.`;
      const exited = once(child, 'exit');
      let gone = false;
      void exited.then(() => (gone = true));
      await waitUntil(`sshd -f ${config} listens`, () => gone || sshd.log().includes(listening));
      if (!gone) return sshd;
      // Another process may take the port between the probe and sshd's bind.
      if (attempt === SSHD_ATTEMPTS) throw new Error(`sshd did not start:\n${sshd.log()}`);
    }
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  /** How many times it was told to re-read its config. */
  hangups(): number {
    return this.log().split('\r\n').filter((l) => l === 'Received SIGHUP; restarting.').length; // sshd ends its lines with CR LF
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

function capture(argv: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Every path under `dir` with its type, mode and content hash (or link target): equal snapshots mean an unchanged tree. */
export function treeSnapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isSymbolicLink()) out.push(`${p} link ${readlinkSync(p)}`);
    else if (st.isDirectory()) {
      out.push(`${p} dir ${mode}`);
      for (const n of readdirSync(p).sort()) walk(join(p, n));
    } else out.push(`${p} file ${mode} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  };
  walk(dir);
  return out;
}

export const ADDED_LINES = '# Added by atsr: lets the session ID of the atsr resume client through (one exact name, no wildcard).\nAcceptEnv ATSR_ID\n';
