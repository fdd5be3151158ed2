// Full raw mode for the terminal on fd 0, as cfmakeraw(3) sets it. Node's
// setRawMode saves the terminal's settings and puts them back without
// starting a process, but leaves output post-processing (ONLCR) and a few
// input translations on, which would change bytes and make the counts
// drift; one stty turns those off. (Each stty is a process start, ~2-3 ms
// on the path of every attach and resume.)
import { spawnSync } from 'node:child_process';
import type { ReadStream } from 'node:tty';

// What cfmakeraw clears beyond Node's raw mode.
const REST_OF_CFMAKERAW = ['-opost', '-ignbrk', '-parmrk', '-inlcr', '-igncr', '-echonl', '-parenb', 'cs8'];

export class RawTty {
  private raw = false;

  /** Needs a terminal on fd 0 (process.stdin.isTTY). */
  enter(): void {
    if (this.raw) return;
    const stdin = process.stdin as ReadStream;
    stdin.setRawMode(true);
    this.raw = true;
    const r = spawnSync('stty', REST_OF_CFMAKERAW, { stdio: ['inherit', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      this.restore();
      throw new Error(`stty ${REST_OF_CFMAKERAW.join(' ')}: ${r.stderr.trim() || r.error?.message || 'failed'}`);
    }
  }

  restore(): void {
    if (!this.raw) return;
    this.raw = false;
    try {
      (process.stdin as ReadStream).setRawMode(false);
    } catch {
      // The terminal may be gone (the connection dropped).
    }
  }
}
