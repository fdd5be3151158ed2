// Every byte value both ways, unchanged, and the window size reaching the command.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useSandbox } from '../support/use-sandbox.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

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

  it('passes all 256 byte values from the terminal to the command unchanged', async () => {
    const file = `${box().dir}/got.bin`;
    const a = box().attach(['-c', 'b2', 'sh', '-c', `stty raw -echo; printf 'READY'; head -c 256 > '${file}'; printf 'DONE'`]);
    await a.waitFor('READY');
    a.write(ALL_BYTES);
    await a.waitFor('DONE');
    expect(readFileSync(file)).toEqual(ALL_BYTES);
    expect((await a.exit()).exitCode).toBe(0);
  });

  it('gives the command the terminal size and forwards changes', async () => {
    const a = box().attach(['-c', 'b3', 'bash', '--norc', '-c', 'trap "stty size" WINCH; stty size; while :; do sleep 0.05; done'], { cols: 100, rows: 30 });
    await a.waitFor('30 100\r\n');
    a.resize(120, 40);
    await a.waitFor('40 120\r\n');
  });
});
