// The screen repaint of a plain attach (src/front/screen-repaint.ts): exact
// bytes for small screens, the sizes the ring was drawn at, and the types
// that get no emulator output.
import { Terminal } from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { redrawMethodFor } from '../../src/front/redraw-method.js';
import { DrawnSizes } from '../../src/host/drawn-sizes.js';
import { repaintFor } from '../../src/front/screen-repaint.js';
import { changedByOutputProcessing } from '../../src/front/screen-on-attach.js';

/** What every VT repaint starts with: the modes reset, the scroll region, the screen cleared. */
const CLEAR =
  '\x1b[?1049l\x1b[?25h\x1b>\x1b[?1l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1015l\x1b[?2004l\x1b[0m\x1b[r\x1b[H\x1b[2J';

const at10x4 = [{ at: 0, cols: 10, rows: 4 }];
const size10x4 = { cols: 10, rows: 4 };

async function repaint(output: string, sizes = at10x4, shown = size10x4): Promise<string | undefined> {
  return (await repaintFor('xterm', Buffer.from(output, 'latin1'), sizes, shown))?.toString('latin1');
}

/** The rows a terminal of `size` shows after `bytes`, trailing blanks cut. */
async function shownRows(bytes: string, size = size10x4): Promise<string[]> {
  const t = new Terminal({ ...size, allowProposedApi: true });
  await new Promise<void>((resolve) => t.write(bytes, resolve));
  const rows: string[] = [];
  const top = t.buffer.active.baseY; // the screen, below what scrolled off
  for (let y = 0; y < size.rows; y++) rows.push(t.buffer.active.getLine(top + y)!.translateToString(true));
  t.dispose();
  return rows;
}

describe('repaintFor', () => {
  it('a normal screen: its rows, the SGR in use, the cursor', async () => {
    expect(await repaint('one\r\n\x1b[1mtwo\x1b[0m\r\nthree\x1b[2;2H')).toBe(
      `${CLEAR}one\r\n\x1b[1mtwo\r\n\x1b[0mthree` + // the addon ends an attribute where the next row starts
        '\x1b[1A\x1b[4D\x1b[2;2H', // its cursor move, then ours
    );
  });

  it('the alternate screen over the normal one, hidden cursor, keypad, bracketed paste', async () => {
    const program = 'shell$ vi\r\n\x1b[?1049h\x1b[H\x1b[2J\x1b[2;3Hhi\x1b[?25l\x1b=\x1b[?2004h\x1b[4;1H';
    expect(await repaint(program)).toBe(
      `${CLEAR}shell$ vi\x1b[1B\x1b[9D` + // the normal screen and its cursor, saved by entering the alternate one
        '\x1b[?1049h\x1b[H\r\n\x1b[2Chi\x1b[2B\x1b[4D' + // the alternate screen and the cursor
        '\x1b[?66h\x1b[?2004h' + // the modes the addon writes
        '\x1b[4;1H\x1b[?25l\x1b=', // the cursor again, hidden, DECKPAM
    );
  });

  it('a scroll region and origin mode: the cursor is placed relative to the region, after it', async () => {
    // The cursor ends at the third row (the region's second), fifth column.
    const out = await repaint('\x1b[2;3r\x1b[?6h\x1b[2;4Hx');
    expect(out).toBe(`${CLEAR}\r\n\r\n\x1b[3Cx\x1b[?6h\x1b[2;3r\x1b[2;5H`);
  });

  it('a ring that starts inside an escape sequence is fed as it is: its tail shows as text, what follows parses', async () => {
    // The ring kept only the end of "\x1b]0;my title\x07" and of a UTF-8 character (0xe2 0x82 0xac).
    const rows = await shownRows((await repaint('title\x07\x82\xacok\x1b[3;2H\x1b[1mB'))!);
    // The title's tail is text; the stray UTF-8 continuation bytes are dropped.
    expect(rows).toEqual(['titleok', '', ' B', '']);
  });

  it('sends the emulated cells, never a sequence of the output: no title, no clipboard write', async () => {
    const out = await repaint('\x1b]0;a title\x07\x1b]52;c;c2VjcmV0\x07\x1bP1$qm\x1b\\shown');
    expect(out).toBe(`${CLEAR}shown\x1b[1;6H`);
  });

  it('reads each part of the output at the size it was drawn at, and shows it at the client size', async () => {
    // 10 columns, then the pty grew to 20: the long line was drawn at 20.
    const output = 'abcdefghijKLM\r\n';
    const grown = `${output}0123456789ABCDEFGHIJ`;
    const sizes = [{ at: 0, cols: 10, rows: 4 }, { at: output.length, cols: 20, rows: 4 }];
    const bytes = (await repaint(grown, sizes, { cols: 20, rows: 4 }))!;
    expect(await shownRows(bytes, { cols: 20, rows: 4 })).toEqual(['abcdefghijKLM', '0123456789ABCDEFGHIJ', '', '']);
  });

  it('bounds the screen an attach may claim: 65535x65535 is rebuilt at 1024x512', async () => {
    const huge = { cols: 65535, rows: 65535 };
    const out = await repaint('x\x1b[600;2000Hy', [{ at: 0, ...huge }], huge);
    // The cursor and the y are clamped to the last row and column of 1024x512.
    expect(out).toBe(`${CLEAR}x${'\r\n'.repeat(511)}\x1b[1023Cy\x1b[512;1024H`);
  });

  it('repaints asked for at once all complete, each with its own screen', async () => {
    const [a, b] = await Promise.all([repaint('first'), repaint('second')]);
    expect([a, b]).toEqual([`${CLEAR}first\x1b[1;6H`, `${CLEAR}second\x1b[1;7H`]);
  });

  it('gives nothing for a type outside the VT family (the caller streams as before)', async () => {
    for (const term of ['wyse60', 'wy50', 'adds-viewpoint', 'vt52', 'dumb', '']) {
      expect(await repaintFor(term, Buffer.from('x'), at10x4, size10x4)).toBeUndefined();
    }
  });

  it('round trip: a terminal fed the repaint shows what one fed the whole output shows', async () => {
    const program = 'a\r\nb\r\nc\r\nd\r\ne\r\nf\x1b[1;1H\x1b[7mREV\x1b[0m\x1b[4;8Hend';
    expect(await shownRows((await repaint(program))!)).toEqual(await shownRows(program));
  });
});

describe('DrawnSizes', () => {
  it('keeps the size in effect at the ring start and the changes after it, relative to it', () => {
    const s = new DrawnSizes({ cols: 80, rows: 24 });
    expect(s.record(100, { cols: 100, rows: 30 }, 0)).toBe(true);
    expect(s.record(100, { cols: 100, rows: 30 }, 0)).toBe(false); // no change: nothing kept
    expect(s.record(250, { cols: 60, rows: 20 }, 0)).toBe(true);
    expect(s.since(0)).toEqual([{ at: 0, cols: 80, rows: 24 }, { at: 100, cols: 100, rows: 30 }, { at: 250, cols: 60, rows: 20 }]);
    expect(s.since(120)).toEqual([{ at: 0, cols: 100, rows: 30 }, { at: 130, cols: 60, rows: 20 }]);
    s.record(400, { cols: 70, rows: 20 }, 300); // the ring moved past 250: the older sizes go
    expect(s.since(300)).toEqual([{ at: 0, cols: 60, rows: 20 }, { at: 100, cols: 70, rows: 20 }]);
  });

  it('two resizes with no output between: only the last one counts', () => {
    const s = new DrawnSizes({ cols: 80, rows: 24 });
    s.record(10, { cols: 90, rows: 24 }, 0);
    s.record(10, { cols: 95, rows: 24 }, 0);
    expect(s.since(0)).toEqual([{ at: 0, cols: 80, rows: 24 }, { at: 10, cols: 95, rows: 24 }]);
  });

  it('holds a bounded number of changes', () => {
    const s = new DrawnSizes({ cols: 80, rows: 24 });
    for (let i = 1; i <= 10_000; i++) s.record(i, { cols: 80 + (i % 2), rows: 24 }, 0);
    expect(s.since(0).length).toBe(256);
  });
});

describe('redrawMethodFor', () => {
  it.each<[string | undefined, string]>([
    ['xterm', 'screen'],
    ['xterm-256color', 'screen'],
    ['vt100', 'screen'],
    ['vt220', 'screen'],
    ['screen.xterm-256color', 'screen'],
    ['linux', 'screen'],
    ['wy50', 'none'],
    ['wyse60', 'none'],
    ['adds-viewpoint', 'none'],
    [undefined, 'none'],
  ])('auto for TERM=%s is %s', (term, method) => {
    expect(redrawMethodFor(term, 'auto')).toBe(method);
  });

  it('an asked method is kept, whatever the type', () => {
    expect(redrawMethodFor('wy60', 'winch')).toBe('winch');
    expect(redrawMethodFor('xterm', 'none')).toBe('none');
    expect(redrawMethodFor('wy60', 'screen')).toBe('screen');
  });
});

describe('writing a repaint without raw mode', () => {
  it('is safe for what the serializer writes: rows end CR LF, and tabs, LFs and wide characters drawn come out as cells', async () => {
    const drawn = '\x1b[H\x1b[2Ja\tb\tc\nline two\n\x1b[31mred\x1b[0m \u4e2d\u6587 e\u0301\r\n' + 'w'.repeat(25) + '\n\x1b[?1049h\x1b[2;3Halt\tscreen\n';
    const bytes = await repaintFor('xterm', Buffer.from(drawn, 'utf8'), [{ at: 0, cols: 20, rows: 6 }], { cols: 20, rows: 6 });
    expect(bytes!.includes('\r\n')).toBe(true);
    expect(changedByOutputProcessing(bytes!)).toBe(false);
  });

  it('goes raw for a tab or an LF without its CR', () => {
    expect(changedByOutputProcessing(Buffer.from('a\r\nb\r\n'))).toBe(false);
    expect(changedByOutputProcessing(Buffer.from('a\tb'))).toBe(true);
    expect(changedByOutputProcessing(Buffer.from('a\r\nb\nc'))).toBe(true);
    expect(changedByOutputProcessing(Buffer.from('\nb'))).toBe(true);
  });
});
