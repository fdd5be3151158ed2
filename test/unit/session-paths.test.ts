// Session names and the socket directory they live in.
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AtsrError, ExitCode } from '../../src/cli/exit-codes.js';
import { MAX_NAME_LENGTH, nameProblem } from '../../src/session/name.js';
import {
  MAX_SOCKET_PATH_BYTES,
  type SocketDirSpec,
  checkSocketPathLength,
  installedSocketRoots,
  privateFallbacks,
  resolveSocketDir,
  searchSocketDirs,
  socketDirCandidates,
} from '../../src/session/socket-dir.js';

describe('nameProblem', () => {
  it.each(['s1', '9', '_', 'web.prod-1@host+x', 'a.b', 'A_Z', 'x'.repeat(MAX_NAME_LENGTH)])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });

  const charset = 'the session name may use only letters, digits and _ . @ + - (and not start with . @ + -)';
  it.each<[string | undefined, string]>([
    [undefined, 'the session name is empty'],
    ['', 'the session name is empty'],
    ['x'.repeat(MAX_NAME_LENGTH + 1), 'the session name is over 64 characters'],
    ['a\x00b', 'the session name contains a control character'],
    ['a\tb', 'the session name contains a control character'],
    ['a\x1b[1m', 'the session name contains a control character'],
    ['a\x7f', 'the session name contains a control character'],
    ['a/b', "the session name contains '/'"],
    ['/etc', "the session name contains '/'"],
    ['../x', "the session name contains '/'"],
    ['..', "the session name contains '..'"],
    ['a..b', "the session name contains '..'"],
    ['.hidden', charset],
    ['-x', charset],
    ['@x', charset],
    ['+x', charset],
    ['a b', charset],
    ['a:b', charset],
    ['café', charset],
    ['a*', charset],
  ])('refuses %j: %s', (name, problem) => {
    expect(nameProblem(name)).toBe(problem);
  });
});

describe('socketDirCandidates', () => {
  it.each<[string, NodeJS.ProcessEnv, SocketDirSpec[]]>([
    [
      'HOME and TMPDIR',
      { HOME: '/home/alice', TMPDIR: '/var/tmp' },
      [
        { kind: 'user', dir: '/home/alice/.atsr' },
        { kind: 'shared', root: '/var/tmp/atsr' },
        { kind: 'shared', root: '/tmp/atsr' },
      ],
    ],
    ['HOME only', { HOME: '/home/alice/' }, [{ kind: 'user', dir: '/home/alice/.atsr' }, { kind: 'shared', root: '/tmp/atsr' }]],
    ['TMPDIR only', { TMPDIR: '/run/user/1000' }, [{ kind: 'shared', root: '/run/user/1000/atsr' }, { kind: 'shared', root: '/tmp/atsr' }]],
    ['neither', {}, [{ kind: 'shared', root: '/tmp/atsr' }]],
    ['both empty', { HOME: '', TMPDIR: '' }, [{ kind: 'shared', root: '/tmp/atsr' }]],
  ])('with %s', (_label, env, expected) => {
    expect(socketDirCandidates(undefined, env)).toEqual(expected);
  });

  it('gives only the explicit directory when there is one', () => {
    const explicit: SocketDirSpec = { kind: 'user', dir: '/srv/sockets' };
    expect(socketDirCandidates(explicit, { HOME: '/home/alice', TMPDIR: '/var/tmp' })).toEqual([explicit]);
  });
});

describe('installedSocketRoots', () => {
  let prefix: string;
  beforeEach(() => {
    prefix = mkdtempSync(join(tmpdir(), 'atsr-prefix-'));
    mkdirSync(join(prefix, 'bin'));
  });
  afterEach(() => rmSync(prefix, { recursive: true, force: true }));

  const made = (name: string, mode = 0o1777, uid = 0): string => {
    const dir = join(prefix, name);
    mkdirSync(dir);
    chmodSync(dir, mode);
    chownSync(dir, uid, uid);
    return dir;
  };

  it('finds PREFIX/session and PREFIX/run beside PREFIX/bin/atsr, as the installer makes them', () => {
    const current = made('session');
    const old = made('run');
    expect(installedSocketRoots(join(prefix, 'bin/atsr'), { uid: 1000 })).toEqual({ current, old });
    expect(socketDirCandidates(undefined, { HOME: '/home/alice' }, current)).toEqual([
      { kind: 'user', dir: '/home/alice/.atsr' },
      { kind: 'shared', root: '/tmp/atsr' },
      { kind: 'shared', root: current },
    ]);
  });

  it.each<[string, () => void]>([
    ['not installed (no PREFIX/session)', () => undefined],
    ['mode 755', () => made('session', 0o755)],
    ['world-writable without the sticky bit', () => made('session', 0o777)],
    ["another user's", () => made('session', 0o1777, 1001)],
    ['a symlink to a 1777 directory', () => symlinkSync(made('elsewhere'), join(prefix, 'session'))],
  ])('adds nothing when it is %s', (_label, lay) => {
    lay();
    expect(installedSocketRoots(join(prefix, 'bin/atsr'), { uid: 1000 })).toEqual({});
  });

  it("takes the caller's own, for an install into their own prefix", () => {
    const current = made('session', 0o1777, 1000);
    expect(installedSocketRoots(join(prefix, 'bin/atsr'), { uid: 1000 })).toEqual({ current });
  });

  it('adds nothing for an executable outside a bin directory (a development build)', () => {
    made('session');
    expect(installedSocketRoots(join(prefix, 'atsr'), { uid: 1000 })).toEqual({});
  });
});

describe('privateFallbacks', () => {
  it.each<[string, NodeJS.ProcessEnv, SocketDirSpec[]]>([
    [
      'HOME and XDG_RUNTIME_DIR',
      { HOME: '/home/alice', XDG_RUNTIME_DIR: '/run/user/1000', TMPDIR: '/var/tmp' },
      [
        { kind: 'user', dir: '/home/alice/.atsr' },
        { kind: 'user', dir: '/run/user/1000/atsr' },
      ],
    ],
    ['a relative XDG_RUNTIME_DIR (ignored)', { HOME: '/home/alice', XDG_RUNTIME_DIR: 'run' }, [{ kind: 'user', dir: '/home/alice/.atsr' }]],
    ['neither', { TMPDIR: '/var/tmp' }, []],
  ])('with %s', (_label, env, expected) => {
    expect(privateFallbacks(env)).toEqual(expected);
  });
});

describe('checkSocketPathLength', () => {
  const tooLong = (path: string, bytes: number): AtsrError =>
    new AtsrError(
      `socket path ${path} is ${bytes} bytes, over the 107-byte limit of Unix sockets (use a shorter -u/-g directory or session name)`,
      ExitCode.socketDir,
    );

  it('accepts a path of exactly the limit and refuses one byte more', () => {
    const fits = `/${'p'.repeat(MAX_SOCKET_PATH_BYTES - 1)}`;
    expect(() => checkSocketPathLength(fits)).not.toThrow();
    expect(() => checkSocketPathLength(`${fits}q`)).toThrow(tooLong(`${fits}q`, 108));
  });

  it('counts bytes, not characters', () => {
    const path = `/${'é'.repeat(54)}`; // 55 characters, 109 bytes
    expect(() => checkSocketPathLength(path)).toThrow(tooLong(path, 109));
  });
});

describe('resolveSocketDir', () => {
  let base: string;
  const me = { uid: process.getuid!() };
  const mode = (path: string): number => lstatSync(path).mode & 0o7777;
  const refused = (message: string): AtsrError => new AtsrError(message, ExitCode.socketDir);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'atsr-unit-'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('creates a missing user directory with mode 700', () => {
    const dir = join(base, 'home', '.atsr');
    expect(resolveSocketDir([{ kind: 'user', dir }], 's1', me)).toEqual({ dir, first: true });
    expect(lstatSync(dir).isDirectory()).toBe(true);
    expect(mode(dir)).toBe(0o700);
  });

  it('uses an existing 700 directory as it is', () => {
    const dir = join(base, 'mine');
    mkdirSync(dir, { mode: 0o700 });
    expect(resolveSocketDir([{ kind: 'user', dir }], 's1', me)).toEqual({ dir, first: true });
  });

  it('creates a shared root 1777 with a private subdirectory per uid', () => {
    const root = join(base, 'shared');
    const dir = join(root, String(me.uid));
    expect(resolveSocketDir([{ kind: 'shared', root }], 's1', me)).toEqual({ dir, sharedRoot: root, first: true });
    expect(mode(root)).toBe(0o1777);
    expect(mode(dir)).toBe(0o700);
  });

  it('refuses a directory with mode 755', () => {
    const dir = join(base, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    expect(() => resolveSocketDir([{ kind: 'user', dir }], 's1', me)).toThrow(
      refused(`socket directory ${dir} has mode 755; it must be 700 (chmod 700 ${dir})`),
    );
  });

  it('refuses a symlink, even to a good directory', () => {
    const real = join(base, 'real');
    const link = join(base, 'link');
    mkdirSync(real, { mode: 0o700 });
    symlinkSync(real, link);
    expect(() => resolveSocketDir([{ kind: 'user', dir: link }], 's1', me)).toThrow(
      refused(`socket directory ${link} is a symlink (refused)`),
    );
  });

  it('refuses a file', () => {
    const file = join(base, 'file');
    writeFileSync(file, '');
    expect(() => resolveSocketDir([{ kind: 'user', dir: file }], 's1', me)).toThrow(
      refused(`socket directory ${file} is not a directory`),
    );
  });

  it('refuses a directory owned by someone else', () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o700 });
    const other = { uid: me.uid + 4242 };
    expect(() => resolveSocketDir([{ kind: 'user', dir }], 's1', other)).toThrow(
      refused(`socket directory ${dir} is owned by uid ${me.uid}, not by you (uid ${other.uid})`),
    );
  });

  it('refuses a world-writable shared root without the sticky bit', () => {
    const root = join(base, 'shared');
    mkdirSync(root);
    chmodSync(root, 0o777);
    expect(() => resolveSocketDir([{ kind: 'shared', root }], 's1', me)).toThrow(
      refused(`shared socket root ${root} is world-writable without the sticky bit (chmod 1777 ${root})`),
    );
  });

  it.runIf(me.uid === 0)('refuses a shared root owned by neither root nor the user', () => {
    const root = join(base, 'shared');
    mkdirSync(root, { mode: 0o1777 });
    chownSync(root, 4242, 4242);
    expect(() => resolveSocketDir([{ kind: 'shared', root }], 's1', { uid: 1000 })).toThrow(
      refused(`shared socket root ${root} is owned by uid 4242, neither root nor you`),
    );
  });

  it('skips a candidate where the socket path would be too long and takes the next', () => {
    const name = 'session';
    const long = join(base, 'd'.repeat(MAX_SOCKET_PATH_BYTES - base.length - name.length - 1));
    expect(Buffer.byteLength(join(long, name))).toBe(MAX_SOCKET_PATH_BYTES + 1);
    const short = join(base, 's');
    expect(resolveSocketDir([{ kind: 'user', dir: long }, { kind: 'user', dir: short }], name, me)).toEqual({ dir: short });
    // Without a name to fit, the first candidate is fine.
    expect(resolveSocketDir([{ kind: 'user', dir: long }, { kind: 'user', dir: short }], undefined, me)).toEqual({ dir: long, first: true });
  });

  it('names every candidate problem when none is usable', () => {
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o750);
    const link = join(base, 'link');
    symlinkSync(open, link);
    expect(() => resolveSocketDir([{ kind: 'user', dir: open }, { kind: 'shared', root: link }], 's1', me)).toThrow(
      refused(
        `socket directory ${open} has mode 750; it must be 700 (chmod 700 ${open}); ` +
          `shared socket root ${link} is a symlink (refused)`,
      ),
    );
  });
});

// Issue 10 items 2 and 8: nothing is made or chmodded through another user's
// entry, and such an entry sends the user to a private directory.
describe.runIf(process.getuid!() === 0)('another user in the way', () => {
  let base: string;
  const me = { uid: 0 };
  const other = 4242;
  const mode = (path: string): string => (lstatSync(path).mode & 0o7777).toString(8);

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'atsr-unit-'));
  });
  afterEach(() => {
    rmSync(base, { recursive: true, force: true });
  });

  /** A root-owned shared root whose ROOT/0 is another user's symlink to a root-owned 755 directory. */
  function symlinkedUidDir(owner: number): { root: string; target: string } {
    const root = join(base, 'run');
    mkdirSync(root);
    chmodSync(root, 0o1777);
    const target = join(base, 'etc');
    mkdirSync(target);
    chmodSync(target, 0o755);
    symlinkSync(target, join(root, '0'));
    lchownSync(join(root, '0'), owner, owner);
    return { root, target };
  }

  it("never chmods the target of another user's symlink at ROOT/<uid>, and falls back with a warning", () => {
    const { root, target } = symlinkedUidDir(other);
    const home = join(base, 'home', '.atsr');
    expect(resolveSocketDir([{ kind: 'shared', root }], 's1', me, [{ kind: 'user', dir: home }])).toEqual({
      dir: home,
      warning: `socket directory ${root}/0 is a symlink (refused); using ${home} instead (to use ${root}/0 again, have uid ${other} or root remove it)`,
    });
    expect(mode(target)).toBe('755');
    expect(mode(home)).toBe('700');
  });

  it('refuses its own symlink without a fallback (the user can fix it), leaving the target alone', () => {
    const { root, target } = symlinkedUidDir(0);
    expect(() => resolveSocketDir([{ kind: 'shared', root }], 's1', me, [{ kind: 'user', dir: join(base, 'h') }])).toThrow(
      new AtsrError(`socket directory ${root}/0 is a symlink (refused)`, ExitCode.socketDir),
    );
    expect(mode(target)).toBe('755');
  });

  it("makes nothing inside another user's directory", () => {
    const theirs = join(base, 'theirs');
    mkdirSync(theirs);
    chmodSync(theirs, 0o777);
    chownSync(theirs, other, other);
    const home = join(base, 'home');
    const dir = resolveSocketDir([{ kind: 'user', dir: join(theirs, 'sock') }], 's1', me, [{ kind: 'user', dir: home }]);
    expect(dir.warning).toBe(
      `cannot create socket directory ${theirs}/sock: ${theirs} is owned by uid ${other}, neither root nor you; ` +
        `using ${home} instead (give -u or -g a directory in one of your own or root's)`,
    );
    expect(existsSync(join(theirs, 'sock'))).toBe(false);
  });

  it('makes nothing in a world-writable directory without the sticky bit, and that is no reason to fall back', () => {
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => resolveSocketDir([{ kind: 'user', dir: join(open, 'sock') }], 's1', me, [{ kind: 'user', dir: join(base, 'h') }])).toThrow(
      new AtsrError(`cannot create socket directory ${open}/sock: ${open} is world-writable without the sticky bit`, ExitCode.socketDir),
    );
  });

  it('-l searches the fallback only when another user is in the way', () => {
    const { root } = symlinkedUidDir(other);
    const home = join(base, 'home');
    const found = searchSocketDirs([{ kind: 'shared', root }], me, [{ kind: 'user', dir: home }]);
    expect(found.map((d) => [d.dir, d.warning !== undefined])).toEqual([[home, true]]);
    const mine = join(base, 'mine');
    expect(searchSocketDirs([{ kind: 'user', dir: mine }], me, [{ kind: 'user', dir: home }])).toEqual([{ dir: mine }]);
  });
});
