// Which TERM values get the terminal reset on a detach, and its exact bytes.
import { describe, expect, it } from 'vitest';
import { isVtFamily, terminalResetFor } from '../../src/front/terminal-reset.js';

const RESET =
  '\x1b[?1049l\x1b[?25h\x1b>\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[0m';

describe('terminal reset', () => {
  it('is the VT sequence for the VT/xterm family', () => {
    const vt = [
      'xterm', 'xterm-256color', 'vt100', 'vt102', 'vt220', 'vt320', 'vt420', 'vt520', 'vt100-am',
      'screen', 'screen.xterm-256color', 'tmux-256color', 'linux', 'linux-16color', 'rxvt-unicode-256color',
      'putty', 'konsole-256color', 'gnome-256color', 'alacritty', 'foot', 'foot-extra', 'kitty', 'xterm-kitty',
    ];
    for (const term of vt) expect([term, terminalResetFor(term)]).toEqual([term, RESET]);
  });

  it('is nothing for other types, an empty TERM or none', () => {
    const other = ['wyse60', 'wy60', 'wyse50', 'adds-viewpoint', 'adds', 'ansi-mv', 'ansi', 'dumb', 'vt52', 'vt50', 'unknown', 'linuxx', 'alacrittyx', 'sun', ''];
    for (const term of other) expect([term, terminalResetFor(term)]).toEqual([term, '']);
    expect(isVtFamily(undefined)).toBe(false);
  });
});
