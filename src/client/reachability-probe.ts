// Is the ssh server answering again? A TCP connect that gets an SSH banner.
// Cheap enough to run several times a second while the network is down, so
// that a returning network is used at once instead of after ssh's own
// connect timeout.
import { connect } from 'node:net';
import type { SshEndpoint } from './ssh-link.js';

/**
 * How long to wait before the next probe, `downForMs` into an outage. Most
 * outages are short (a roaming laptop, a router restart) and each probe is one
 * SYN, so probe often at first; a long outage (a closed lid) can wait a little
 * longer for its reconnect, and the network is spared a SYN every 25 ms.
 */
export function probeIntervalMs(downForMs: number): number {
  if (downForMs < 10_000) return 25;
  if (downForMs < 60_000) return 100;
  return 500;
}

export function probeSshBanner(ep: SshEndpoint, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ep.host, port: ep.port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('data', (d: Buffer) => done(d.subarray(0, 4).toString('latin1') === 'SSH-'));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}
