// How a plain attach (not an exact resume) gets the current screen (issue 14):
// `screen` rebuilds it from the output ring with a terminal emulator (VT
// terminals only), `winch` and `ctrl_l` ask the program to redraw itself, as
// dtach's `-r winch|ctrl_l` do, `none` shows only what comes. No xterm code
// here: the option parser uses this file too.
import { isVtFamily } from './terminal-reset.js';

export const REDRAW_METHODS = ['auto', 'screen', 'winch', 'ctrl_l', 'none'] as const;
export type RedrawChoice = (typeof REDRAW_METHODS)[number];
export type RedrawMethod = Exclude<RedrawChoice, 'auto'>;

export const isRedrawChoice = (s: string): s is RedrawChoice => (REDRAW_METHODS as readonly string[]).includes(s);

/**
 * `auto`: the emulator's repaint for the VT family, whose sequences it speaks;
 * nothing for other types (Wyse, ADDS, ...), whose programs draw in
 * sequences the emulator would misread.
 */
export function redrawMethodFor(term: string | undefined, choice: RedrawChoice): RedrawMethod {
  if (choice !== 'auto') return choice;
  return isVtFamily(term) ? 'screen' : 'none';
}
