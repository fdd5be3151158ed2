// The platform check in setup.sh, with stand-in uname/getconf/ldd first on
// PATH: every unsupported system is refused with what was found and what is
// needed, before any shipped binary runs and before anything changes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { INSTALLER, InstallSandbox, installerBin } from './installer-harness.js';

const VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;
const FLOOR = readFileSync(join(import.meta.dirname, '../../dist/glibc-floor.txt'), 'utf8').trim();
const NEED = `atsr needs Linux on x86-64 (64-bit) with glibc ${FLOOR} or newer.`;

const LINUX_X86_64 = 'case $1 in -s) echo Linux ;; -m) echo x86_64 ;; *) echo Linux host 6.1.0 x86_64 ;; esac';
const GLIBC = (v: string): string => `case $1 in LONG_BIT) echo 64 ;; GNU_LIBC_VERSION) echo glibc ${v} ;; *) exit 1 ;; esac`;

interface Platform {
  name: string;
  uname: string;
  getconf: string;
  ldd?: string;
  found: string;
}

const PLATFORMS: Platform[] = [
  {
    name: 'AIX',
    uname: 'case $1 in -s) echo AIX ;; -m) echo 00F84C0A4C00 ;; *) echo AIX aixhost 3 7 00F84C0A4C00 ;; esac',
    getconf: 'echo 64',
    found: 'AIX (AIX aixhost 3 7 00F84C0A4C00)',
  },
  {
    name: 'musl',
    uname: LINUX_X86_64,
    getconf: 'case $1 in LONG_BIT) echo 64 ;; *) exit 1 ;; esac',
    ldd: 'echo "musl libc (x86_64)" >&2; echo "Version 1.2.4" >&2; exit 1',
    found: 'musl libc (Version 1.2.4)',
  },
  { name: 'i686', uname: 'case $1 in -s) echo Linux ;; *) echo i686 ;; esac', getconf: GLIBC('2.36'), found: 'Linux on i686' },
  { name: 'glibc 2.17', uname: LINUX_X86_64, getconf: GLIBC('2.17'), found: 'glibc 2.17' },
];

let sandbox: InstallSandbox;
beforeAll(async () => {
  await installerBin();
}, 180_000);
afterEach(() => sandbox?.remove());

describe('platform check', () => {
  for (const p of PLATFORMS) {
    it(`refuses ${p.name}`, async () => {
      sandbox = new InstallSandbox('UsePAM yes\n');
      sandbox.standIn('uname', p.uname);
      sandbox.standIn('getconf', p.getconf);
      // A binary that runs would be a failure of the check: atsr must not start.
      sandbox.standIn('ldd', p.ldd ?? 'exit 1');
      const before = sandbox.systemState();
      const r = await sandbox.run(sandbox.installArgs('--accept-env'));
      expect(r.status).toBe(3);
      expect(r.stderr).toContain(`install-atsr: this system is not supported: found ${p.found}; ${NEED}\n`);
      expect(r.stdout).not.toMatch(/^atsr \S+ installer$/m); // the wizard's first line
      expect(sandbox.systemState()).toEqual(before);
    });
  }

  it(`accepts glibc ${FLOOR} itself`, async () => {
    sandbox = new InstallSandbox('UsePAM yes\n');
    sandbox.standIn('uname', LINUX_X86_64);
    sandbox.standIn('getconf', GLIBC(FLOOR));
    const r = await sandbox.run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--accept-license');
  });

  it('answers --help and --version itself before verifying or unpacking, on any platform; makeself\'s help is --makeself-help', () => {
    sandbox = new InstallSandbox('UsePAM yes\n');
    sandbox.standIn('uname', PLATFORMS[0]!.uname); // AIX: the platform check would refuse
    const top = (...args: string[]) => spawnSync('sh', [INSTALLER, ...args], { encoding: 'utf8', env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const flag of ['--help', '-h']) {
      const help = top(flag);
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(/^Usage: install-atsr /);
      expect(help.stdout).toContain('--accept-env');
      expect(help.stdout + help.stderr).not.toContain('Verifying archive integrity');
      expect(help.stderr).toBe('');
    }
    expect(top('--version')).toMatchObject({ status: 0, stdout: `install-atsr ${VERSION}\n`, stderr: '' });
    const makeself = top('--makeself-help');
    expect(makeself.status).toBe(0);
    expect(makeself.stderr).toMatch(/^Makeself version /); // makeself prints its help on stderr
  });

  it('unpacks where a directory of makeself\'s old name for this PID is left in TMPDIR, and removes its own', () => {
    sandbox = new InstallSandbox('UsePAM yes\n');
    sandbox.standIn('uname', LINUX_X86_64);
    sandbox.standIn('getconf', GLIBC('2.17')); // refused once unpacked: nothing is installed
    const tmp = join(sandbox.dir, 'tmp');
    mkdirSync(tmp);
    // exec keeps the PID: the installer's sh is the $$ that made the directory.
    const r = spawnSync('sh', ['-c', 'mkdir "$TMPDIR/selfgz$$" && exec sh "$0" -- "$@"', INSTALLER, ...sandbox.installArgs('--accept-env')], {
      encoding: 'utf8',
      env: { ...sandbox.env, TMPDIR: tmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(r.stderr).not.toContain('Cannot create target directory');
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('install-atsr: this system is not supported: found glibc 2.17;');
    expect(readdirSync(tmp)).toEqual([expect.stringMatching(/^selfgz\d+$/)]);
  });

  it('refuses a tampered archive before anything runs', async () => {
    sandbox = new InstallSandbox('UsePAM yes\n');
    const tampered = join(sandbox.dir, 'tampered.bin');
    const bytes = readFileSync(INSTALLER);
    bytes[bytes.length - 1000] ^= 0xff; // one byte of the compressed payload
    writeFileSync(tampered, bytes);
    const before = sandbox.systemState();
    const r = spawnSync('sh', [tampered, '--', ...sandbox.installArgs('--no-accept-env')], { encoding: 'utf8', env: sandbox.env, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/Error in SHA256 checksums: [0-9a-f]{64} is different from [0-9a-f]{64}/);
    expect(r.stdout).not.toMatch(/^atsr \S+ installer$/m);
    expect(sandbox.systemState()).toEqual(before);

    // Where there is no sha256sum or shasum, makeself skips that check: the CRC (cksum, coreutils) still refuses it.
    const bin = join(sandbox.dir, 'no-sha-bin');
    mkdirSync(bin);
    const linked = new Set(['sha256sum', 'shasum']);
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      for (const name of readdirSync(dir)) {
        if (linked.has(name)) continue;
        linked.add(name);
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const noSha = spawnSync('sh', [tampered, '--', ...sandbox.installArgs('--no-accept-env')], {
      encoding: 'utf8',
      env: { ...sandbox.env, PATH: bin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(noSha.status).not.toBe(0);
    expect(noSha.stderr).toMatch(/Error in checksums: \d+ is different from \d+/);
    expect(noSha.stdout).not.toMatch(/^atsr \S+ installer$/m);
    expect(sandbox.systemState()).toEqual(before);
  });
});
