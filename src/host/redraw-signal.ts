// dtach's redraw methods for terminal types the screen repaint does not
// speak (Wyse, ADDS, ...): the host asks the program to draw itself again
// when a read-write client attaches plainly (`-R winch|ctrl_l`).
import { readFileSync } from 'node:fs';

/** Ctrl-L, the redraw key of most full-screen programs (dtach's `-r ctrl_l`). */
export const CTRL_L = Buffer.from([0x0c]);

/**
 * dtach's `-r winch`: SIGWINCH to the pty's foreground process group, as a
 * size change would send it, so that the program redraws. The group is
 * field 8 (tpgid) of the session leader's /proc stat. False if it cannot be
 * found or signalled (the command is gone).
 */
export function signalRedraw(sessionLeader: number): boolean {
  try {
    const stat = readFileSync(`/proc/${sessionLeader}/stat`, 'latin1');
    // The command name, field 2, is in parentheses and may hold anything: count from after it.
    const tpgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
    if (!Number.isSafeInteger(tpgid) || tpgid <= 0) return false;
    process.kill(-tpgid, 'SIGWINCH');
    return true;
  } catch {
    return false;
  }
}
