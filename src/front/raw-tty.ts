// Full raw mode for the front's terminal, as cfmakeraw(3) sets it. Node's
// setRawMode keeps output post-processing (ONLCR) on, which would change
// output bytes and make the counts drift, so we use stty on fd 0.
import { spawnSync } from 'node:child_process';

// cfmakeraw: no input/output processing, no echo, no signals, 8 bits.
const RAW_ARGS = ['raw', '-echo', '-echonl', '-iexten', '-opost', 'cs8', '-parenb', '-istrip', 'min', '1', 'time', '0'];

function stty(args: string[]): string {
  const r = spawnSync('stty', args, { stdio: ['inherit', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`stty ${args.join(' ')}: ${r.stderr.trim() || r.error?.message || 'failed'}`);
  return r.stdout.trim();
}

export class RawTty {
  private saved: string | undefined;

  enter(): void {
    if (this.saved !== undefined) return;
    this.saved = stty(['-g']);
    stty(RAW_ARGS);
  }

  restore(): void {
    if (this.saved === undefined) return;
    try {
      stty([this.saved]);
    } catch {
      // The terminal may be gone (the connection dropped).
    }
    this.saved = undefined;
  }
}
