// One connection attempt: the user's own ssh, on a local pty, announcing the
// session with ATSR_ID. Keepalives notice a dead network; the escape
// character is off so that every key reaches the session.
import { spawnSync } from 'node:child_process';
import { spawn, type IPty } from 'node-pty';
import { directConnectOptions } from './direct-connect.js';
import type { RezumeOptions } from './rezume-options.js';

/**
 * ssh's own messages ("Timeout, server not responding", "Permission denied")
 * go to `stderrFile`, never into the session's stream, where they would be
 * shown and counted as session output. Its prompts still reach the user:
 * ssh asks for passwords and host keys on /dev/tty, the pty.
 */
export function startSsh(
  opts: RezumeOptions,
  sessionId: string,
  size: { cols: number; rows: number },
  stderrFile: string,
  endpoint: SshEndpoint | undefined,
  /** Wait for the server instead of failing while it does not answer (a reconnect during an outage). */
  waitForServer = false,
): IPty {
  const env = sshEnvironment();
  env.ATSR_ID = sessionId;
  env.REZUME_SSH_STDERR = stderrFile;
  const connectTimeout = connectTimeoutSeconds(opts);
  const args = [
    '-t',
    '-e', 'none',
    '-o', 'SendEnv=ATSR_ID',
    '-o', `ServerAliveInterval=${opts.aliveInterval}`,
    '-o', `ServerAliveCountMax=${opts.aliveCount}`,
    '-o', `ConnectTimeout=${connectTimeout}`,
    ...(endpoint ? directConnectOptions(endpoint, connectTimeout, waitForServer) : []),
    ...opts.sshArgs,
  ];
  // Echo off before ssh saves the terminal settings: when ssh exits it puts
  // back what it found, and an echoing pty would then send our own keys back
  // as if they were session output (and they would be counted).
  const script = 'f=$REZUME_SSH_STDERR; unset REZUME_SSH_STDERR; stty -echo 2>/dev/null; exec "$0" "$@" 2>"$f"';
  return spawn('/bin/sh', ['-c', script, opts.ssh, ...args], { name: env.TERM || 'xterm', cols: size.cols, rows: size.rows, env, encoding: null });
}

/**
 * ssh's environment: rezume's own, with SHLVL at least 1. ssh starts a
 * ProxyCommand (rezume-connect's, or the user's) and `Match exec` with
 * `$SHELL -c`, and a bash whose stdin is a socket reads ~/.bashrc unless
 * SHLVL says it runs inside another shell: 0.5 s of every connection here
 * (a `pyenv init`), wherever rezume was not started from a shell. The
 * shell, and so what the user's ssh config means, stays the user's.
 */
export function sshEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (!(Number(env.SHLVL) >= 1)) env.SHLVL = '1';
  return env;
}

/** ssh's ConnectTimeout: the time keepalives take to give up on a connection, at least 2 s. */
export function connectTimeoutSeconds(opts: RezumeOptions): number {
  return Math.max(2, opts.aliveInterval * opts.aliveCount);
}

export interface SshEndpoint {
  host: string;
  port: number;
  /** ssh's AddressFamily. */
  family: AddressFamily;
  /**
   * ssh itself must open the connection: it binds its end (BindAddress,
   * BindInterface), or is too old to take a connected socket (ProxyUseFdpass).
   */
  sshConnects: boolean;
}

const FAMILIES = ['any', 'inet', 'inet6'] as const;
export type AddressFamily = (typeof FAMILIES)[number];

/**
 * Where ssh will connect, from `ssh -G` (so ~/.ssh/config applies), or
 * undefined when a proxy is in the way and a direct probe means nothing.
 */
export function resolveEndpoint(opts: RezumeOptions): SshEndpoint | undefined {
  const r = spawnSync(opts.ssh, ['-G', ...opts.sshArgs], { encoding: 'utf8', timeout: 5000, env: sshEnvironment() });
  if (r.status !== 0) return undefined;
  const conf = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) conf.set(line.slice(0, sp), line.slice(sp + 1));
  }
  if (conf.has('proxyjump') || conf.has('proxycommand')) return undefined;
  const host = conf.get('hostname');
  const port = Number(conf.get('port'));
  const family = FAMILIES.find((f) => f === (conf.get('addressfamily') ?? 'any'));
  if (!host || !(port > 0) || !family) return undefined;
  const sshConnects = conf.has('bindaddress') || conf.has('bindinterface') || !conf.has('proxyusefdpass');
  return { host, port, family, sshConnects };
}
