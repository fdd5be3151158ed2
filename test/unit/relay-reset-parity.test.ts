// The fast paths (rezumable's fast resume, `atsr -a`'s fast attach) reset the
// terminal when their host dies without an end frame, and the fast attach
// leaves a VT terminal's screen repaint to Node; with no TypeScript front to
// tell them, src/relay/attach-json.c keeps a C copy of the rule in
// src/front/terminal-reset.ts (the reset is non-empty exactly for the VT
// family). This compiles that C with a tiny main and checks both agree for
// every kind of TERM.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { terminalResetFor } from '../../src/front/terminal-reset.js';
import { ROOT, privateTempDir } from '../support/atsr-bin.js';

const TERMS = [
  'xterm', 'xterm-256color', 'vt100', 'vt220', 'vt525', 'vt52', 'vt600', 'vt1', 'screen', 'screen.xterm-256color', 'tmux-256color',
  'rxvt-unicode', 'putty', 'konsole', 'gnome-256color', 'foot', 'kitty', 'linux', 'linux-16color', 'linuxx', 'alacritty',
  'alacritty-direct', 'alacrittyx', 'wyse60', 'wy50', 'adds-viewpoint', 'dumb', '', 'XTERM', 'ansi',
];

const tmp = privateTempDir('reset-parity');
afterAll(() => tmp.remove());

describe('the relay and the front reset the same terminals', () => {
  it('gives the same reset bytes as terminalResetFor for every TERM', () => {
    const main = join(tmp.dir, 'main.c');
    const exe = join(tmp.dir, 'reset-for');
    execFileSync('sh', ['-c', `printf '%s\\n' '#include <stdio.h>' '#include "relay.h"' 'int main(int c, char **v) { for (int i = 1; i < c; i++) printf("%s|", terminal_reset_for(v[i])); return 0; }' > "$0"`, main]);
    execFileSync('cc', ['-O2', '-Wall', '-Werror', `-I${join(ROOT, 'src/relay')}`, '-o', exe, main, join(ROOT, 'src/relay/attach-json.c')]);
    const got = execFileSync(exe, TERMS, { encoding: 'latin1' }).split('|').slice(0, -1);
    expect(got).toEqual(TERMS.map((t) => terminalResetFor(t)));
  });
});
