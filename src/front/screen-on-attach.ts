// The screen on a plain attach (issue 14; docs/protocol.md, "The screen on
// attach"): before it becomes the relay, the front asks the host for its
// output ring, rebuilds the screen from it with a terminal emulator, shows
// it, and attaches from the ring's end. The emulator runs here, in a process
// that is about to be replaced, so no session host ever loads it.
import { FrameDecoder, FrameType, encodeFrame } from '../protocol/frames.js';
import { decodeScreen } from '../protocol/screen-message.js';
import type { Size } from '../host/drawn-sizes.js';
import type { Diagnostics } from '../log/diagnostics.js';
import { connectSocket } from './attach-session.js';
import { RawTty } from './raw-tty.js';
import { isVtFamily } from './terminal-reset.js';
import { loadXterm } from './xterm-code.js';

/** The host answers at once unless it is wedged; then the attach goes on without a repaint. */
const SCREEN_QUERY_MS = 5000;

/**
 * Shows the session's current screen on this terminal. Returns the output
 * offset it shows up to (the attach's `from`), or undefined when there is
 * nothing to repaint: the replay is the whole stream from its first byte, the
 * ring is empty, or the terminal type is not one the emulator speaks.
 */
export async function showScreen(socketPath: string, term: string, shown: Size, diag: Diagnostics): Promise<number | undefined> {
  if (!isVtFamily(term)) return undefined;
  const asked = performance.now();
  // The emulator loads while the host reads out its ring: both take some
  // milliseconds, and the load (a deserialization) needs nothing from it.
  let loading: ReturnType<typeof loadXterm> | undefined;
  const { state, ring } = await fetchScreen(socketPath, () => {
    loading = loadXterm();
    loading.catch(() => undefined); // a failed load matters only where it is awaited below
  });
  if (ring.length === 0 || (state.start === 0 && Math.min(state.delivered, state.out) === 0)) return undefined;
  const fetched = performance.now();
  const emulator = await (loading ?? loadXterm());
  diag.log(3, `screen emulator from the ${emulator.source}, code cache ${emulator.cache}`);
  const loaded = performance.now();
  const { repaintFor } = await import('./screen-repaint.js');
  const bytes = await repaintFor(term, ring, state.sizes, shown);
  if (!bytes) return undefined;
  const ms = (from: number, to: number): string => (to - from).toFixed(1);
  diag.log(3, `screen repaint: ${ring.length} bytes of ring in ${ms(asked, fetched)} ms (the emulator loading meanwhile), ${ms(fetched, loaded)} more for the emulator, screen rebuilt in ${ms(loaded, performance.now())} (${bytes.length} bytes)`);
  // The serializer ends lines with CR LF and writes no tab, so the terminal's
  // usual output processing (ONLCR: CR before LF) leaves the screen as it
  // is, and no raw mode (an stty process, ~10 ms) is needed first. Bytes it
  // would change go out raw.
  const tty = new RawTty();
  if (changedByOutputProcessing(bytes)) tty.enter();
  try {
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (err) => (err ? reject(err) : resolve())));
  } finally {
    tty.restore();
  }
  return state.out;
}

/** A tab, or an LF without a CR before it: what a terminal in cooked mode would write otherwise. */
export function changedByOutputProcessing(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x09) return true;
    if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) return true;
  }
  return false;
}

/** The host's screen state and ring; `asked` runs once the query is on its way. */
function fetchScreen(socketPath: string, asked: () => void): Promise<ReturnType<typeof decodeScreen>> {
  return connectSocket(socketPath).then(
    (sock) =>
      new Promise((resolve, reject) => {
        const decoder = new FrameDecoder();
        const timer = setTimeout(() => done(new Error('the session host did not send its screen')), SCREEN_QUERY_MS);
        const done = (result: ReturnType<typeof decodeScreen> | Error): void => {
          clearTimeout(timer);
          sock.destroy();
          if (result instanceof Error) reject(result);
          else resolve(result);
        };
        sock.on('data', (chunk: Buffer) => {
          try {
            const f = decoder.push(chunk).find((x) => x.type === FrameType.screen);
            if (f) done(decodeScreen(f));
          } catch (err) {
            done(err as Error);
          }
        });
        sock.on('error', done);
        sock.on('close', () => done(new Error('the session host closed the connection')));
        sock.write(encodeFrame(FrameType.screenQuery));
        asked();
      }),
  );
}
