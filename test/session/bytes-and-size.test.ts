// Every byte value both ways, unchanged, the front's terminal fully raw and
// given back as it was, and the window size reaching the command.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { atsrCommand } from '../support/atsr-bin.js';
import { PtyRun } from '../support/pty-harness.js';
import { useSandbox } from '../support/use-sandbox.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** `size` bytes of every value, from a seed. */
function seededBytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    b[i] = seed >>> 16;
  }
  return b;
}

const box = useSandbox('bytes');

describe('transparency', () => {
  it('passes all 256 byte values from the command to the terminal unchanged', async () => {
    const file = `${box().dir}/all.bin`;
    writeFileSync(file, ALL_BYTES);
    // The command's own pty is made raw too, so its line discipline keeps the bytes as they are.
    const a = box().attach(['-c', 'b1', 'sh', '-c', `stty raw -echo; printf 'START>'; cat '${file}'; printf '<END'; read x`]);
    const end = await a.waitFor('<END');
    const start = a.output().indexOf('START>') + 'START>'.length;
    expect(a.output().subarray(start, end)).toEqual(ALL_BYTES);
  });

  it('passes a burst of output through exactly, in order', async () => {
    // 4 MiB as fast as the command can write: the host reads on past node-pty's reads.
    const size = 4 << 20;
    const data = seededBytes(size, 5);
    expect(data.indexOf('<END')).toBe(-1); // the end marker is only the command's
    const file = `${box().dir}/burst.bin`;
    writeFileSync(file, data);
    const a = box().attach(['-c', 'b6', 'sh', '-c', `stty raw -echo; read x; printf 'START>'; cat '${file}'; printf '<END'; read x`]);
    a.write('\r');
    const start = (await a.waitFor('START>')) + 'START>'.length;
    const end = await a.waitFor('<END', 60_000, start);
    expect(end - start).toBe(size);
    expect(a.output().subarray(start, end).equals(data)).toBe(true);
  });

  it('gives the front that created a session every byte from the first, though the command writes more than the ring before the attach', async () => {
    // The ring holds 4 KiB; the command writes 1 MiB at once. Without the
    // host holding the output for its creator, the start was overwritten
    // before the front attached (the bench lost up to 400 KiB of 64 MiB so).
    const size = 1 << 20;
    const data = seededBytes(size, 7);
    const file = `${box().dir}/at-once.bin`;
    writeFileSync(file, data);
    const a = box().attach(['-b', '4096', '-c', 'b7', 'sh', '-c', `stty raw -echo; printf 'START>'; cat '${file}'; printf '<END'; read x`]);
    const end = await a.waitFor('<END', 60_000);
    expect(a.output().subarray(0, 'START>'.length).toString('latin1')).toBe('START>');
    expect(end - 'START>'.length).toBe(size);
    expect(a.output().subarray('START>'.length, end).equals(data)).toBe(true);
  });

  it('passes all 256 byte values from the terminal to the command unchanged', async () => {
    const file = `${box().dir}/got.bin`;
    const a = box().attach(['-c', 'b2', 'sh', '-c', `stty raw -echo; printf 'READY'; head -c 256 > '${file}'; printf 'DONE'`]);
    await a.waitFor('READY');
    a.write(ALL_BYTES);
    await a.waitFor('DONE');
    expect(readFileSync(file)).toEqual(ALL_BYTES);
    expect((await a.exit()).exitCode).toBe(0);
  });

  it('delivers a paste larger than the pty takes at once, every byte in order', async () => {
    // 1 MiB of seeded bytes typed at once: the command's pty fills up, and what
    // it cannot take yet must wait behind what came first.
    const size = 1 << 20;
    const paste = seededBytes(size, 11);
    const file = `${box().dir}/paste.bin`;
    const a = box().attach(['-c', 'b5', 'sh', '-c', `stty raw -echo; printf 'READY'; head -c ${size} > '${file}'; printf 'DONE'`]);
    await a.waitFor('READY');
    a.write(paste);
    await a.waitFor('DONE', 60_000);
    expect(readFileSync(file).equals(paste)).toBe(true);
    expect((await a.exit()).exitCode).toBe(0);
  });

  it('puts the terminal in full raw mode while attached and gives it back exactly as it was', async () => {
    const d = box().dir;
    const atsr = [...atsrCommand(), '-u', box().sockets, '-c', 'b4', 'sh', '-c', 'printf READY; read x; exit 4'].map((w) => `'${w}'`).join(' ');
    const r = new PtyRun(['sh', '-c', `tty >${d}/tty; stty -g >${d}/before; ${atsr}; echo "status $?"; stty -g >${d}/after; printf AFTER`], { env: box().env() });
    try {
      await r.waitFor('READY');
      const settings = execFileSync('stty', ['-F', readFileSync(`${d}/tty`, 'utf8').trim(), '-a'], { encoding: 'utf8' });
      // cfmakeraw(3): no input or output processing, no echo, no signals, 8 bits.
      const raw = ['-opost', '-icrnl', '-inlcr', '-igncr', '-ixon', '-istrip', '-ignbrk', '-brkint', '-parmrk', '-icanon', '-isig', '-iexten', '-echo', '-echonl', '-parenb', 'cs8'];
      const flags = settings.split(/\s+/);
      expect(raw.filter((flag) => !flags.includes(flag))).toEqual([]);
      expect(settings).toMatch(/\bmin = 1; time = 0;/);
      r.write('\r');
      await r.waitFor('AFTER');
      expect(r.text()).toContain('status 4');
      expect(readFileSync(`${d}/after`, 'utf8')).toBe(readFileSync(`${d}/before`, 'utf8'));
    } finally {
      r.kill('SIGKILL');
    }
  });

  it('gives the command the terminal size and forwards changes', async () => {
    const a = box().attach(['-c', 'b3', 'bash', '--norc', '-c', 'trap "stty size" WINCH; stty size; while :; do sleep 0.05; done'], { cols: 100, rows: 30 });
    await a.waitFor('30 100\r\n');
    a.resize(120, 40);
    await a.waitFor('40 120\r\n');
  });
});
