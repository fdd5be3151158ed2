// The files an sshd_config includes, as the installer finds them before it
// decides on keepalives (installer/sshd-includes.ts): words split as sshd's
// argv_split splits them, patterns expanded as sshd's glob(3) expands them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { argsOf, includedTexts } from '../../installer/sshd-includes.js';
import { privateTempDir } from '../support/atsr-bin.js';

describe("an Include line's words", () => {
  it('are split as sshd splits them: quotes, backslashes, a # comment, an `=`', () => {
    expect(argsOf('Include /a/b.conf /c/*.conf')).toEqual(['/a/b.conf', '/c/*.conf']);
    expect(argsOf('Include "/etc/ssh/my dir/*.conf" # the site\'s')).toEqual(['/etc/ssh/my dir/*.conf']);
    expect(argsOf("Include '/x y' /z\\ w \\\"q")).toEqual(['/x y', '/z w', '"q']);
    expect(argsOf('Include=/a')).toEqual(['/a']);
    expect(argsOf('  include\t/a\t/b  ')).toEqual(['/a', '/b']);
    expect(argsOf('Include "/unbalanced')).toEqual([]); // sshd rejects the line
  });
});

describe('the files a config includes', () => {
  let tmp: { dir: string; remove: () => void } | undefined;
  afterEach(() => tmp?.remove());

  /** Files under a fresh directory, `@` in their text standing for that directory. */
  function tree(files: Record<string, string>): string {
    tmp = privateTempDir('includes');
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(tmp.dir, name, '..'), { recursive: true });
      writeFileSync(join(tmp.dir, name), text.replaceAll('@', tmp.dir));
    }
    return tmp.dir;
  }

  it('are what glob(3) finds: `*`, `?`, `[...]`, no dot files, braces and `**` taken as sshd takes them', () => {
    const d = tree({ 'd/a.conf': 'A\n', 'd/b.conf': 'B\n', 'd/.hidden.conf': 'H\n', 'd/{a,b}': 'LITERAL\n', 'd/sub/x.conf': 'X\n' });
    expect(includedTexts(`Include ${d}/d/*.conf\n`)).toEqual(['A\n', 'B\n']);
    expect(includedTexts(`Include ${d}/d/?.conf ${d}/d/[!a].conf\n`)).toEqual(['A\n', 'B\n']);
    expect(includedTexts(`Include ${d}/d/.*.conf\n`)).toEqual(['H\n']);
    expect(includedTexts(`Include ${d}/d/{a,b}\n`)).toEqual(['LITERAL\n']); // no brace expansion
    expect(includedTexts(`Include ${d}/d/**.conf\n`)).toEqual(['A\n', 'B\n']); // `**` is `*`
    expect(includedTexts(`Include ${d}/d/**/*.conf\n`)).toEqual(['X\n']); // one directory down, not any depth
    expect(includedTexts(`Include ${d}/d\n`)).toEqual([]); // a directory is not read
  });

  it('are read once each, nested includes too, and none after the first Match', () => {
    const d = tree({
      'main.conf': 'Include @/d/*.conf\n',
      'd/a.conf': 'Include @/d/*.conf @/n.conf\nA\n',
      'd/b.conf': 'Include @/d/*.conf\nB\n',
      'n.conf': 'N\n',
      'm.conf': 'M\n',
    });
    expect(includedTexts(`Include ${d}/main.conf\nMatch User x\nInclude ${d}/m.conf\n`)).toEqual([
      `Include ${d}/d/*.conf\n`,
      `Include ${d}/d/*.conf ${d}/n.conf\nA\n`,
      `Include ${d}/d/*.conf\nB\n`,
      'N\n',
    ]);
  });
});
