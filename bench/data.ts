// Seeded session output: base64 lines, as a log or a report would look,
// written to files the sessions `cat`. The pty each command writes to turns
// "\n" into "\r\n" (ONLCR), so the bytes a front must deliver are known
// exactly: the file with that translation.
import { createCipheriv, createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const LINE_CHARS = 76;
const CRLF = Buffer.from('\r\n');

/** `size` bytes of deterministic base64 lines for `seed`. */
export function seededText(seed: number, size: number): Buffer {
  const key = createHash('sha256').update(`atsr-bench-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const raw = cipher.update(Buffer.alloc(Math.ceil((size * 3) / 4) + 64));
  const b64 = raw.toString('base64');
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let from = 0; at < size; from += LINE_CHARS) {
    at += out.write(b64.slice(from, from + LINE_CHARS), at, 'latin1');
    if (at < size) out[at++] = 0x0a;
  }
  return out;
}

export interface OutputFile {
  path: string;
  /** Bytes a terminal receives when the file is written to a pty with ONLCR. */
  expectedBytes: number;
  /** sha256 of those bytes. */
  expectedSha256: string;
  /** zlib's CRC-32 of those bytes (what bench/outer-reader.c computes). */
  expectedCrc32: number;
}

export function writeOutputFile(path: string, seed: number, size: number): OutputFile {
  const text = seededText(seed, size);
  writeFileSync(path, text);
  const hash = createHash('sha256');
  let crc = 0;
  const add = (bytes: Buffer): void => {
    hash.update(bytes);
    crc = crc32(bytes, crc);
  };
  let newlines = 0;
  let from = 0;
  for (let nl = text.indexOf(0x0a); nl >= 0; nl = text.indexOf(0x0a, from)) {
    add(text.subarray(from, nl));
    add(CRLF);
    newlines++;
    from = nl + 1;
  }
  add(text.subarray(from));
  return { path, expectedBytes: size + newlines, expectedSha256: hash.digest('hex'), expectedCrc32: crc };
}
