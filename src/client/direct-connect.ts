// ssh options that have rezume-connect (src/client/rezume-connect.c, shipped
// beside the executable) open ssh's TCP connection with TCP_NODELAY and hand
// it over (ProxyUseFdpass): without it, Nagle and the server's delayed ACKs
// stall ssh's key exchange and authentication by ~50 ms on every reconnect.
// During an outage the same helper waits for the server, so that the
// network's return finds ssh already started.
import { type ChildProcess, spawn } from 'node:child_process';
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

const helperArgs = (ep: SshEndpoint, timeoutSeconds: number): string[] => [ep.host, String(ep.port), String(timeoutSeconds), ep.family];

/**
 * Options for `ssh` (before the user's own), or none where ssh must connect
 * by itself. `waitForServer`: the helper waits until the server answers
 * instead of failing (a reconnect during an outage).
 */
export function directConnectOptions(ep: SshEndpoint, timeoutSeconds: number, waitForServer = false, helperPath = findConnectHelper()): string[] {
  if (!helperPath || !attemptsCanWait(ep, helperPath)) return [];
  const command = [helperPath, ...helperArgs(ep, timeoutSeconds), ...(waitForServer ? ['wait'] : [])].map(proxyWord).join(' ');
  return ['-o', 'ProxyUseFdpass=yes', '-o', `ProxyCommand=${command}`];
}

/** Whether ssh's attempts get their connection from the helper, and so can wait for the server in it. */
export function attemptsCanWait(ep: SshEndpoint, helperPath = findConnectHelper()): boolean {
  return helperPath !== undefined && !ep.sshConnects;
}

/**
 * For an ssh that connects by itself: the helper waits until the server
 * answers and exits 0 (`probe`); it goes when its stdout, rezume's pipe,
 * closes. Undefined without the helper.
 */
export function waitForServer(ep: SshEndpoint, timeoutSeconds: number): ChildProcess | undefined {
  const path = findConnectHelper();
  if (!path) return undefined;
  return spawn(path, [...helperArgs(ep, timeoutSeconds), 'probe'], { stdio: ['ignore', 'pipe', 'ignore'] });
}
