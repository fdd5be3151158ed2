// ssh options that have rezume-connect (src/client/rezume-connect.c, shipped
// beside the executable) open ssh's TCP connection with TCP_NODELAY and hand
// it over (ProxyUseFdpass): without it, Nagle and the server's delayed ACKs
// stall ssh's key exchange and authentication by ~50 ms on every reconnect.
import { constants } from 'node:fs';
import { findShippedFile } from '../shipped-file.js';
import type { SshEndpoint } from './ssh-link.js';

let helper: string | null | undefined;

/** The helper beside the executable (or the bundle), if it is there and runnable; looked up once. */
function findConnectHelper(): string | undefined {
  if (helper === undefined) helper = findShippedFile('rezume-connect', constants.X_OK) ?? null;
  return helper ?? undefined;
}

/** sh quoting, then ssh's own: ProxyCommand expands %-tokens before sh runs it. */
const proxyWord = (w: string): string => `'${w.replace(/'/g, `'\\''`)}'`.replace(/%/g, '%%');

/** Options for `ssh` (before the user's own), or none where ssh must connect by itself. */
export function directConnectOptions(ep: SshEndpoint, timeoutSeconds: number, helperPath = findConnectHelper()): string[] {
  if (!helperPath || ep.sshConnects) return [];
  const command = [helperPath, ep.host, String(ep.port), String(timeoutSeconds), ep.family].map(proxyWord).join(' ');
  return ['-o', 'ProxyUseFdpass=yes', '-o', `ProxyCommand=${command}`];
}
