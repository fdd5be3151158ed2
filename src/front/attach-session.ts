// The front: what sshd started. It puts its terminal in raw mode, attaches
// to the session host's socket and relays bytes both ways until the command
// exits (its status becomes ours) or the client detaches.
import { type Socket, connect } from 'node:net';
import { ExitCode } from '../cli/exit-codes.js';
import { DETACH_ESCAPE_KEY, type DetachKeys } from './detach-key.js';
import { EscapeSequence } from './escape-sequence.js';
import type { Diagnostics } from '../log/diagnostics.js';
import type { RedrawChoice } from '../host/redraw-method.js';
import { FrameDecoder, FrameType, MAX_FRONT_PAYLOAD_BYTES, ProtocolError, encodeFrame, type Frame } from '../protocol/frames.js';
import {
  type AttachRequest,
  type Loss,
  type Welcome,
  decodeDetached,
  decodeExit,
  decodeLoss,
  decodeRefused,
  decodeWelcome,
  encodeJson,
  encodeResize,
} from '../protocol/messages.js';
import { SOCKET_PROTOCOL_VERSION } from '../version.js';
import { RawTty } from './raw-tty.js';
import { terminalResetFor } from './terminal-reset.js';

/**
 * The in-band resume handshake with a client over the terminal stream
 * (src/inband/); absent for a plain attach.
 */
export interface SyncHandshake {
  /** Sends the hello for this welcome to the client. */
  begin(welcome: Welcome): void;
  /**
   * Feeds terminal input while waiting for the client's sync reply. Returns
   * the bytes that pass through uncounted (typeahead), and, once the reply
   * is found, its rx (null: none usable) and the input that followed it.
   */
  feed(chunk: Buffer): { uncounted: Buffer; done?: { rx: number | null; rest: Buffer } };
  /** The client's reply did not come in time: attach plainly. */
  readonly timeoutMs: number;
  onLoss(loss: Loss): void;
  onExit(status: number, out: number): void;
  /** Typeahead held back because it might start a message (a lone ESC), given up now. */
  releaseHeld(): Buffer;
  /** The reply came after the plain attach began: tell the client. */
  replyTooLate(): void;
  /** After the exit notice: whether this input holds the client's confirmation. */
  seesBye(chunk: Buffer): boolean;
}

export interface AttachOptions {
  readOnly: boolean;
  force: boolean;
  updateUtmp: boolean;
  detach: DetachKeys;
  redraw: RedrawChoice;
  handshake: SyncHandshake | undefined;
  diag: Diagnostics;
}

/**
 * How the front ends: the command exited (it put the terminal back itself),
 * or the front left a command that runs on or was cut off (a detach, a
 * takeover, the host gone), whose terminal modes the front resets.
 */
type Ending = 'exited' | 'left';

export function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** After the sync timeout, how long a late reply is still looked for. */
const LATE_REPLY_WINDOW_MS = 10_000;
/** How long a front waits for the client to confirm the exit notice. */
const BYE_TIMEOUT_MS = 3000;

/**
 * Longer than any path (PATH_MAX) or address: of no use to the host, and it
 * could push the attach over the host's frame limit.
 */
const MAX_ATTACH_FIELD_BYTES = 4096;

const boundedField = (value: string): string => (Buffer.byteLength(value) <= MAX_ATTACH_FIELD_BYTES ? value : '');

function terminalSize(): { rows: number; cols: number } {
  return { rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 };
}

export async function attachSession(sock: Socket, opts: AttachOptions): Promise<number> {
  const tty = new RawTty();
  const req: AttachRequest = {
    v: SOCKET_PROTOCOL_VERSION,
    readOnly: opts.readOnly,
    force: opts.force,
    // A front without the in-band handshake has nobody to sync with: plain attach.
    sync: opts.handshake !== undefined,
    ...terminalSize(),
    clientAddr: boundedField((process.env.SSH_CLIENT ?? '').split(' ')[0] ?? ''),
    agentSocket: boundedField(process.env.SSH_AUTH_SOCK ?? ''),
    updateUtmp: opts.updateUtmp,
    term: boundedField(process.env.TERM ?? ''),
    redraw: opts.redraw,
  };
  sock.write(encodeJson(FrameType.attach, req));

  return new Promise<number>((resolve) => {
    const decoder = new FrameDecoder();
    const stdin = process.stdin;
    let handshaking = false;
    let syncTimer: NodeJS.Timeout | undefined;
    let finished = false;
    let waitingForDrain = false;
    /** The host is not taking input as fast as it comes: the terminal is not read until the socket drains. */
    let inputHeld = false;

    /** Set at the welcome: from then on the command's output reaches the terminal. */
    let relaying = false;

    const finish = (code: number, ending: Ending, message?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(syncTimer);
      stdin.off('data', onInput);
      stdin.pause();
      process.stdout.off('resize', onResize);
      sock.destroy();
      const reset = relaying && ending === 'left' ? terminalResetFor(process.env.TERM) : '';
      // A terminal that is gone needs no reset; its write error must not end the front otherwise.
      if (reset) process.stdout.once('error', () => {});
      // Output still queued must reach the terminal while it is raw, unchanged, and the reset after it.
      process.stdout.write(reset, () => {
        tty.restore();
        if (message) process.stderr.write(`${message}\n`);
        resolve(code);
      });
    };

    const holdInput = (): void => {
      if (inputHeld) return;
      inputHeld = true;
      stdin.pause();
      sock.once('drain', () => {
        inputHeld = false;
        if (!finished) stdin.resume();
      });
    };

    const sendInput = (type: typeof FrameType.input | typeof FrameType.inputUncounted, data: Buffer): void => {
      if (opts.readOnly) return;
      let ok = true;
      for (let at = 0; at < data.length; at += MAX_FRONT_PAYLOAD_BYTES) {
        ok = sock.write(encodeFrame(type, data.subarray(at, at + MAX_FRONT_PAYLOAD_BYTES)));
      }
      // Backpressure: a command that does not read its input slows the terminal, not memory.
      if (!ok) holdInput();
    };

    let syncSent = false;
    /** Set once the exit notice came: the host may close before the client's bye. */
    let exitStatus: number | undefined;
    const sendSync = (rx: number | null): void => {
      clearTimeout(syncTimer);
      syncSent = true;
      sock.write(encodeJson(FrameType.sync, { rx }));
    };

    /**
     * No reply in time: attach plainly, but keep watching the input for a late
     * reply, so that it never reaches the command as keystrokes.
     */
    const onSyncTimeout = (hs: SyncHandshake): void => {
      sendSync(null);
      sendInput(FrameType.inputUncounted, hs.releaseHeld());
      // A client that sent ATSR_ID but does not speak the protocol: stop
      // looking after a while, so that a lone ESC is not held back for good.
      syncTimer = setTimeout(() => {
        handshaking = false;
        sendInput(FrameType.inputUncounted, hs.releaseHeld());
      }, LATE_REPLY_WINDOW_MS);
    };

    const escape = opts.detach.kind === 'escape' ? new EscapeSequence(DETACH_ESCAPE_KEY) : undefined;
    const onLiveInput = (data: Buffer): void => {
      let detachAt = -1;
      if (opts.detach.kind === 'key') {
        detachAt = data.indexOf(opts.detach.key);
      } else if (escape) {
        const fed = escape.feed(data);
        data = fed.pass;
        if (fed.escaped) detachAt = data.length;
      }
      if (detachAt < 0) return sendInput(FrameType.input, data);
      sendInput(FrameType.input, data.subarray(0, detachAt));
      sock.end();
      finish(ExitCode.ok, 'left', '[detached]');
    };

    /** Sends the exit notice and waits briefly for the client's bye, which lets the host end at once. */
    const awaitBye = (hs: SyncHandshake, status: number, out: number): void => {
      exitStatus = status;
      hs.onExit(status, out);
      stdin.off('data', onInput);
      const timer = setTimeout(() => finish(status, 'exited'), BYE_TIMEOUT_MS);
      stdin.on('data', (d: Buffer) => {
        if (!hs.seesBye(d)) return;
        clearTimeout(timer);
        sock.end(encodeFrame(FrameType.exitAck), () => finish(status, 'exited'));
      });
    };

    function onInput(data: Buffer): void {
      if (handshaking && opts.handshake) {
        const r = opts.handshake.feed(data);
        sendInput(FrameType.inputUncounted, r.uncounted);
        if (!r.done) return;
        handshaking = false;
        if (syncSent) opts.handshake.replyTooLate();
        else sendSync(r.done.rx);
        if (r.done.rest.length > 0) onLiveInput(r.done.rest);
        return;
      }
      onLiveInput(data);
    }

    function onResize(): void {
      if (!opts.readOnly) sock.write(encodeResize(terminalSize()));
    }

    const onFrame = (f: Frame): void => {
      switch (f.type) {
        case FrameType.welcome: {
          const welcome = decodeWelcome(f);
          opts.diag.log(2, `attached to ${welcome.name} (out ${welcome.out}, in ${welcome.in}, ${welcome.resumed ? 'resumed' : 'new'})`);
          if (stdin.isTTY) tty.enter();
          relaying = true;
          // Keys typed before now waited in the terminal; they are read from here on.
          stdin.on('data', onInput);
          stdin.resume();
          if (opts.handshake) {
            handshaking = true;
            opts.handshake.begin(welcome);
            const hs = opts.handshake;
            syncTimer = setTimeout(() => onSyncTimeout(hs), hs.timeoutMs);
          }
          return;
        }
        case FrameType.output:
          // A slow terminal slows the session: stop reading the socket until it drains (once).
          if (!process.stdout.write(f.payload) && !waitingForDrain) {
            waitingForDrain = true;
            sock.pause();
            process.stdout.once('drain', () => {
              waitingForDrain = false;
              sock.resume();
            });
          }
          return;
        case FrameType.loss: {
          const loss = decodeLoss(f);
          if (opts.handshake) opts.handshake.onLoss(loss);
          else process.stderr.write(`atsr: ${loss.lost} bytes of output were lost; continuing from offset ${loss.from}\r\n`);
          return;
        }
        case FrameType.exit: {
          const { status, out } = decodeExit(f);
          if (!opts.handshake) return finish(status, 'exited');
          return awaitBye(opts.handshake, status, out);
        }
        case FrameType.refused: {
          const r = decodeRefused(f);
          return finish(r.reason === 'busy' ? ExitCode.sessionBusy : ExitCode.sessionLost, 'left', `atsr: ${r.message}`);
        }
        case FrameType.detached:
          return finish(ExitCode.ok, 'left', `[detached: ${decodeDetached(f).message}]`);
        default:
          throw new ProtocolError(`unexpected frame 0x${f.type.toString(16)} from the host`);
      }
    };

    sock.on('data', (chunk: Buffer) => {
      try {
        for (const f of decoder.push(chunk)) {
          onFrame(f);
          if (finished) return;
        }
      } catch (err) {
        finish(ExitCode.sessionLost, 'left', `atsr: protocol error from the session host: ${(err as Error).message}`);
      }
    });
    sock.on('error', () => {});
    sock.on('close', () =>
      exitStatus === undefined
        ? finish(ExitCode.sessionLost, 'left', 'atsr: lost the connection to the session host')
        : finish(exitStatus, 'exited'),
    );
    stdin.on('end', () => finish(ExitCode.ok, 'left')); // our terminal is gone: leave the session running
    stdin.on('error', () => finish(ExitCode.ok, 'left'));
    process.stdout.on('resize', onResize);
  });
}
