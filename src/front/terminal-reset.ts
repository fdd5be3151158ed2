// What a front writes to its terminal when it leaves a command that is still
// running (a detach, a takeover, the host gone): the command set modes for
// itself (the alternate screen, a hidden cursor, application keypad, mouse
// reporting, bracketed paste, colours) and will not get to undo them on this
// terminal. The sequences are those of the VT/xterm family; other types
// (Wyse, ADDS and the other MultiValue emulations) would show them as text
// or act on them otherwise, so they get nothing.

/** Leave the alternate screen, show the cursor, normal keypad and cursor keys, mouse and bracketed paste off, SGR reset. */
export const VT_TERMINAL_RESET =
  '\x1b[?1049l' + // leave the alternate screen (and restore the cursor saved on entering it)
  '\x1b[?25h' + // show the cursor
  '\x1b>' + // numeric keypad (DECKPNM)
  '\x1b[?1l' + // normal cursor keys (DECCKM off)
  '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l' + // mouse reporting and its encodings off
  '\x1b[?2004l' + // bracketed paste off
  '\x1b[0m'; // SGR reset, after the cursor restore that may have brought attributes back

/**
 * TERM names whose terminals take the sequences above. vt52 is not one
 * (no CSI), hence vt1xx..vt5xx only.
 */
const VT_FAMILY = /^(?:xterm|vt[1-5]\d\d|screen|tmux|rxvt|putty|konsole|gnome|foot|kitty)|^(?:linux|alacritty)(?:$|-)/;

export function isVtFamily(term: string | undefined): boolean {
  return term !== undefined && VT_FAMILY.test(term);
}

/** The reset for this TERM: the VT sequence, or nothing for a type whose sequences are not known. */
export function terminalResetFor(term: string | undefined): string {
  return isVtFamily(term) ? VT_TERMINAL_RESET : '';
}
