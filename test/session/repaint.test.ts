// Issue 14 item 1: an attach that is not an exact resume shows the session's
// current screen at once. VT terminals get the screen rebuilt from the
// output ring; other types (Wyse, ADDS, ...) get nothing unless they ask for
// a redraw method with -R (SIGWINCH or Ctrl-L to the program).
import { readFileSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType } from '../../src/protocol/frames.js';
import { encodeJson } from '../../src/protocol/messages.js';
import { waitUntil } from '../support/atsr-sandbox.js';
import { useSandbox } from '../support/use-sandbox.js';

const box = useSandbox('repaint');

/**
 * A full-screen program, as vim or top: enters the alternate screen, draws
 * at positions, hides the cursor, sets the keypad, then waits.
 */
const DRAW = String.raw`printf '\033[?1049h\033[H\033[2J\033[2;5HTOP-LEFT\033[5;12HMIDDLE\033[?25l\033=\033[3;7H'`;
const FULL_SCREEN = ['sh', '-c', `${DRAW}; exec sleep 600`];
const SIZE = { cols: 30, rows: 6 };

/**
 * What the front writes to a VT terminal for that screen: the reset and
 * clear, the normal screen (empty), the alternate one with the two texts and
 * the addon's cursor move, the keypad (DECNKM, as the addon writes it), the
 * cursor at row 3 column 7 again (absolute), hidden, and the keypad again as
 * DECKPAM. It is written with the terminal's output processing on (no stty
 * first), so the pty's ONLCR puts a CR before each row's CR LF: the same
 * screen.
 */
const REPAINT =
  '\x1b[?1049l\x1b[?25h\x1b>\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[0m\x1b[r\x1b[H\x1b[2J' +
  '\x1b[?1049h\x1b[H\r\r\n\x1b[4CTOP-LEFT\r\r\n\r\r\n\r\r\n\x1b[11CMIDDLE\x1b[2A\x1b[11D\x1b[?66h\x1b[3;7H\x1b[?25l\x1b=';

/** Starts `name` running `argv` with a first read-write attach, then detaches it (its terminal is gone). */
async function drawnThenDetached(name: string, argv: string[], marker: string, env = box().env()): Promise<void> {
  const first = box().attach(['-c', name, ...argv], { env, ...SIZE });
  await first.waitFor(marker);
  first.kill('SIGKILL');
  await waitUntil('detached', async () => !(await box().session(name)).attached);
}

async function attached(name: string): Promise<void> {
  await waitUntil('attached', async () => (await box().session(name)).attached);
}

describe('repaint on a plain attach (TERM=xterm)', () => {
  it('atsr -a after a detach shows the current screen at once', async () => {
    await drawnThenDetached('p1', FULL_SCREEN, 'MIDDLE');
    const a = box().attach(['-a', 'p1'], SIZE);
    const end = (await a.waitFor('\x1b=')) + 2;
    expect(a.text().slice(0, end)).toBe(REPAINT);
  });

  it('loads the emulator from the executable, with the code cache the build made for it taken by V8', async () => {
    await drawnThenDetached('p5', FULL_SCREEN, 'MIDDLE');
    const log = `${box().dir}/p5.log`;
    const a = box().attach(['-d', '3', '-o', log, '-a', 'p5'], SIZE);
    await a.waitFor('\x1b[?66h');
    const source = process.env.ATSR_TEST_BUNDLE === '1' ? 'file' : 'executable';
    expect(readFileSync(log, 'utf8')).toMatch(new RegExp(` atsr\\[front \\d+\\]: screen emulator from the ${source}, code cache accepted\n`));
  });

  it('a read-only viewer (-r) of an attached session shows the current screen at once', async () => {
    const writer = box().attach(['-c', 'p2', ...FULL_SCREEN], SIZE);
    await writer.waitFor('MIDDLE');
    const viewer = box().attach(['-r', '-a', 'p2'], SIZE);
    const end = (await viewer.waitFor('\x1b=')) + 2;
    expect(viewer.text().slice(0, end)).toBe(REPAINT);
  });

  it('the first attach of a session created detached replays the whole stream, not a repaint', async () => {
    expect((await box().atsr(['-n', 'p3', ...FULL_SCREEN])).code).toBe(0);
    const a = box().attach(['-a', 'p3'], SIZE);
    await a.waitFor('MIDDLE');
    await attached('p3');
    expect(a.text().startsWith('\x1b[?1049h\x1b[H\x1b[2J\x1b[2;5HTOP-LEFT')).toBe(true);
  });

  it('-R none keeps the old plain attach: only what comes next', async () => {
    const prog = ['sh', '-c', `${DRAW}; stty -echo; while read l; do printf "LINE-%s" "$l"; done`];
    await drawnThenDetached('p4', prog, 'MIDDLE');
    const a = box().attach(['-R', 'none', '-a', 'p4'], SIZE);
    await attached('p4');
    a.write('x\r');
    expect(await a.waitFor('LINE-x')).toBe(0);
  });
});

/** A resumable client on the raw socket: attaches with sync, says its rx, collects the output frames. */
class SyncingClient {
  private readonly decoder = new FrameDecoder();
  output = Buffer.alloc(0);

  private constructor(private readonly sock: Socket) {
    sock.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.push(chunk)) if (f.type === FrameType.output) this.output = Buffer.concat([this.output, f.payload]);
    });
  }

  static async resume(path: string, rx: number): Promise<SyncingClient> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path, () => resolve(s));
      s.once('error', reject);
    });
    const c = new SyncingClient(sock);
    const attach = { v: 1, readOnly: false, force: false, sync: true, rows: SIZE.rows, cols: SIZE.cols, clientAddr: '', agentSocket: '', updateUtmp: false, term: 'xterm' };
    sock.write(Buffer.concat([encodeJson(FrameType.attach, attach), encodeJson(FrameType.sync, { rx })]));
    return c;
  }

  close(): void {
    this.sock.destroy();
  }
}

describe('an exact resume', () => {
  it('replays the bytes from its rx exactly, with no repaint (TERM=xterm)', async () => {
    await drawnThenDetached('x1', FULL_SCREEN, 'MIDDLE');
    const drawn = '\x1b[?1049h\x1b[H\x1b[2J\x1b[2;5HTOP-LEFT\x1b[5;12HMIDDLE\x1b[?25l\x1b=\x1b[3;7H';
    const c = await SyncingClient.resume((await box().session('x1')).socket, 10);
    await waitUntil('the replay', () => c.output.length >= drawn.length - 10);
    expect(c.output.toString('latin1')).toBe(drawn.slice(10));
    c.close();
  });
});

describe('redraw methods for other terminal types (TERM=wyse60)', () => {
  const wyse = (): NodeJS.ProcessEnv => box().env({ TERM: 'wyse60' });
  /** Says READY, then reports each byte it reads, raw, in hex. */
  const KEYS = ['sh', '-c', `stty raw -echo; printf 'READY\\r\\n'; while :; do printf 'GOT%s\\r\\n' "$(dd bs=1 count=1 2>/dev/null | od -An -tx1)"; done`];
  /** Says READY, then WINCH-n for each SIGWINCH. */
  const WINCH = ['sh', '-c', `n=0; trap 'n=$((n+1)); printf "WINCH-%s\\n" $n' WINCH; printf 'READY\\n'; while :; do sleep 600 & wait $!; kill $! 2>/dev/null; done`];

  it('gets no emulator output and no redraw by default', async () => {
    await drawnThenDetached('w1', KEYS, 'READY', wyse());
    const a = box().attach(['-a', 'w1'], { env: wyse(), ...SIZE });
    await attached('w1');
    a.write('x');
    await a.waitFor('GOT 78\r\n');
    expect(a.text()).toBe('GOT 78\r\n');
  });

  it('-R ctrl_l types Ctrl-L into the program, and nothing else reaches the terminal', async () => {
    await drawnThenDetached('w2', KEYS, 'READY', wyse());
    const a = box().attach(['-R', 'ctrl_l', '-a', 'w2'], { env: wyse(), ...SIZE });
    await a.waitFor('GOT 0c\r\n');
    expect(a.text()).toBe('GOT 0c\r\n');
  });

  it('-R winch sends the program one SIGWINCH, and nothing else reaches the terminal', async () => {
    await drawnThenDetached('w3', WINCH, 'READY', wyse());
    const a = box().attach(['-R', 'winch', '-a', 'w3'], { env: wyse(), ...SIZE });
    await a.waitFor('WINCH-1\r\n');
    expect(a.text()).toBe('WINCH-1\r\n');
  });

  it('-R winch at another window size sends no SIGWINCH besides the size change', async () => {
    // Counts each SIGWINCH as it comes; reports each byte it reads, raw, with the count.
    const COUNT = ['perl', '-e', String.raw`system("stty raw -echo"); $| = 1; $SIG{WINCH} = sub { $n++ }; print "READY\r\n"; while (1) { my $r = sysread(STDIN, my $c, 1); next if !defined $r && $!{EINTR}; last if !$r; printf "GOT %02x N=%d\r\n", ord $c, $n }`];
    await drawnThenDetached('w5', COUNT, 'READY', wyse());
    const a = box().attach(['-R', 'winch', '-a', 'w5'], { env: wyse(), cols: SIZE.cols + 1, rows: SIZE.rows });
    await attached('w5');
    // The host signals the program while it takes the attach, before it reads this key from the client.
    a.write('k');
    await a.waitFor('GOT 6b');
    await a.waitFor('\r\n');
    expect(a.text()).toBe('GOT 6b N=1\r\n');
  });

  it('a read-only viewer with -R ctrl_l does not type into the program', async () => {
    const writer = box().attach(['-c', 'w4', ...KEYS], { env: wyse(), ...SIZE });
    await writer.waitFor('READY');
    const viewer = box().attach(['-R', 'ctrl_l', '-r', '-a', 'w4'], { env: wyse(), ...SIZE });
    await waitUntil('viewer attached', async () => (await box().session('w4')).viewers === 1);
    writer.write('y');
    await viewer.waitFor('GOT 79\r\n');
    expect(viewer.text()).toBe('GOT 79\r\n');
  });
});
