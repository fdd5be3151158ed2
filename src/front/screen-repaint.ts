// The screen repaint of a plain attach (issue 14): nothing keeps a terminal
// emulator per byte (it would cost throughput and memory for every
// session). At attach time the front, a short-lived process that becomes the
// relay, rebuilds the screen from the host's output ring with
// @xterm/headless and serializes it with @xterm/addon-serialize. Both are
// loaded only then, from outside the main bundle (xterm-code.ts), so neither
// the host's memory nor a front's startup pays for them.
import type { Terminal } from '@xterm/headless';
import type { Size, SizeChange } from '../host/drawn-sizes.js';
import { VT_TERMINAL_RESET, isVtFamily } from './terminal-reset.js';
import { loadXterm } from './xterm-code.js';

/**
 * The emulator's largest screen: an attach may claim any size, and the
 * emulator holds a cell object per column and row (1024x512 is some 10 MiB,
 * and more than any real terminal shows).
 */
export const MAX_REPAINT_COLS = 1024;
export const MAX_REPAINT_ROWS = 512;

const bounded = (size: Size): Size => ({
  cols: Math.min(Math.max(1, size.cols), MAX_REPAINT_COLS),
  rows: Math.min(Math.max(1, size.rows), MAX_REPAINT_ROWS),
});

/** Screen state the serialize addon leaves out, read from xterm's core (as the addon itself reads the SGR state). */
interface XtermCore {
  _core: {
    coreService: { isCursorHidden: boolean };
    buffer: { scrollTop: number; scrollBottom: number };
  };
}

/**
 * Clears whatever the attaching terminal shows and puts its modes to their
 * defaults (VT_TERMINAL_RESET also leaves an alternate screen), so that the
 * serialized screen, which sets only modes that differ from the defaults,
 * lands on a known state.
 */
const CLEAR = `${VT_TERMINAL_RESET}\x1b[r\x1b[H\x1b[2J`;

/**
 * The bytes that show `output`'s current screen on a terminal of type `term`
 * and size `shown`: a reset, the screen (the normal one, then the alternate
 * one if it is active), the modes, the scroll region, the cursor position and
 * visibility. Undefined for a terminal type outside the VT family, which
 * would misread the VT sequences. `sizes[0]` is the size the output starts
 * at (see DrawnSizes.since). Sizes are bounded by MAX_REPAINT_COLS/ROWS.
 */
export function repaintFor(term: string, output: Buffer, sizes: readonly SizeChange[], shown: Size): Promise<Buffer | undefined> {
  if (!isVtFamily(term)) return Promise.resolve(undefined);
  return rebuild(output, sizes.map((c) => ({ at: c.at, ...bounded(c) })), bounded(shown));
}

async function rebuild(output: Buffer, sizes: readonly SizeChange[], shown: Size): Promise<Buffer> {
  const xterm = (await loadXterm()).modules;
  const first = sizes[0] ?? { at: 0, ...shown };
  const screen = new xterm.Terminal({ cols: first.cols, rows: first.rows, scrollback: 0, allowProposedApi: true });
  try {
    const serializer = new xterm.SerializeAddon();
    screen.loadAddon(serializer);
    // The ring holds the last N bytes of the stream, so it may start inside
    // an escape sequence or a UTF-8 character: it is fed as it is, and the
    // emulator's parser drops the broken start and recovers at the next one.
    await feed(screen, output, sizes);
    screen.resize(shown.cols, shown.rows);
    return Buffer.from(CLEAR + serializer.serialize({ scrollback: 0 }) + stateAfter(screen), 'utf8');
  } finally {
    screen.dispose();
  }
}

/** Writes `output` into the emulator, resizing it where the pty was resized. */
async function feed(screen: Terminal, output: Buffer, sizes: readonly SizeChange[]): Promise<void> {
  let at = 0;
  for (const change of sizes.slice(1)) {
    const upTo = Math.min(change.at, output.length);
    await write(screen, output.subarray(at, upTo));
    screen.resize(change.cols, change.rows);
    at = upTo;
  }
  await write(screen, output.subarray(at));
}

function write(screen: Terminal, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => (bytes.length === 0 ? resolve() : screen.write(bytes, resolve)));
}

/**
 * What the addon does not restore: the scroll region, then the cursor again
 * (setting a region or origin mode moves it home), its visibility, the
 * keypad.
 */
function stateAfter(screen: Terminal): string {
  const core = (screen as unknown as XtermCore)._core;
  const { scrollTop, scrollBottom } = core.buffer;
  let s = scrollTop !== 0 || scrollBottom !== screen.rows - 1 ? `\x1b[${scrollTop + 1};${scrollBottom + 1}r` : '';
  const cursor = screen.buffer.active;
  const row = cursor.cursorY - (screen.modes.originMode ? scrollTop : 0);
  s += `\x1b[${row + 1};${Math.min(cursor.cursorX, screen.cols - 1) + 1}H`;
  if (core.coreService.isCursorHidden) s += '\x1b[?25l';
  // The addon sets the keypad as DECNKM (CSI ? 66 h), which not every VT type knows; DECKPAM is what programs send.
  if (screen.modes.applicationKeypadMode) s += '\x1b=';
  return s;
}
