// A real OpenSSH sshd on 127.0.0.1 for end-to-end tests: its own temp dir,
// host key, client key pair and known_hosts, never the system's sshd.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const SSHD = '/usr/sbin/sshd';
const HOST = '127.0.0.1';
/** The name ssh looks the host key up under, whatever port it dials (e.g. a proxy's). */
const HOST_KEY_ALIAS = 'atsr-test-sshd';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;

export type SshdLogLevel = 'QUIET' | 'FATAL' | 'ERROR' | 'INFO' | 'VERBOSE' | 'DEBUG1' | 'DEBUG2' | 'DEBUG3';

export interface SshdOptions {
  /** sshd's LogLevel (default INFO); the log goes to `logFile`. */
  logLevel?: SshdLogLevel;
  /**
   * Variables sshd sets in every session (sshd_config SetEnv). They override
   * the defaults and what the client sends, so `{ HOME: dir }` picks the
   * .profile a login shell (`ssh -t host` without a command) reads. HOME is
   * an empty directory of the fixture's unless given: the shell sshd runs
   * reads the user's rc files (Debian's bash reads ~/.bashrc even for `ssh
   * host CMD`), and what the machine's own say (root's here runs `pyenv
   * init`, 0.57 s a login) is not the tests' business.
   */
  setEnv?: Readonly<Record<string, string>>;
  /**
   * Runs this through the user's shell instead of what the client asked
   * (sshd_config ForceCommand); the client's command is in SSH_ORIGINAL_COMMAND.
   */
  forceCommand?: string;
  /**
   * More sshd_config lines. They come before the fixture's own, so they win
   * (sshd keeps the first value of a keyword); no `Match` blocks.
   */
  extraConfig?: readonly string[];
}

export interface Sshd {
  readonly host: typeof HOST;
  readonly port: number;
  /** The user the tests run as, and log in as. */
  readonly user: string;
  /** `user@127.0.0.1`, to put after `sshArgs()`. */
  readonly destination: string;
  /** The client's private key, authorized for `user`. */
  readonly keyFile: string;
  /** Holds the host key for `[127.0.0.1]:port` and for the alias `sshArgs` uses. */
  readonly knownHostsFile: string;
  /** sshd's own log (stderr of `sshd -D -e`). */
  readonly logFile: string;
  /**
   * Options for the real `ssh` client: this sshd's port, key and host key,
   * no user config, no prompts. `extra` comes first, so it overrides them
   * (ssh keeps the first value of an option), e.g. `['-p', proxyPort]`.
   */
  sshArgs(extra?: readonly string[]): string[];
  /** Kills sshd and its connections, and removes the temp dir. */
  stop(): Promise<void>;
}

/** Starts sshd on a free port of 127.0.0.1 and waits until it sends its banner. */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'atsr-sshd-'));
  try {
    return await startIn(dir, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string, options: SshdOptions): Promise<Sshd> {
  const hostKey = join(dir, 'host_ed25519_key');
  const keyFile = join(dir, 'client_ed25519_key');
  const authorizedKeys = join(dir, 'authorized_keys');
  const knownHostsFile = join(dir, 'known_hosts');
  const configFile = join(dir, 'sshd_config');
  const logFile = join(dir, 'sshd.log');
  await Promise.all([generateKey(hostKey), generateKey(keyFile)]);
  await writeFile(authorizedKeys, await readFile(`${keyFile}.pub`));
  mkdirSync(join(dir, 'home')); // the sessions' HOME unless the options give one (SshdOptions.setEnv)
  ensurePrivilegeSeparationDir();

  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    await writeFile(configFile, sshdConfig({ port, dir, hostKey, authorizedKeys, options }));
    const sshd = spawnSshd(configFile, logFile);
    // Another process may take the port between our probe and sshd's bind.
    const ready = await Promise.race([waitForBanner(port), once(sshd, 'exit').then(() => false)]).catch(
      async (err: unknown) => {
        await stopSshd(sshd);
        throw err;
      },
    );
    if (!ready) {
      if (attempt < PORT_ATTEMPTS) continue;
      throw new Error(`sshd did not start:\n${await readFile(logFile, 'utf8')}`);
    }
    const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim();
    await writeFile(knownHostsFile, `[${HOST}]:${port} ${hostPublicKey}\n${HOST_KEY_ALIAS} ${hostPublicKey}\n`);
    const user = userInfo().username;
    return {
      host: HOST,
      port,
      user,
      destination: `${user}@${HOST}`,
      keyFile,
      knownHostsFile,
      logFile,
      sshArgs: (extra = []) => [
        ...extra,
        '-F', '/dev/null',
        '-i', keyFile,
        '-o', 'IdentitiesOnly=yes',
        '-o', `UserKnownHostsFile=${knownHostsFile}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', `HostKeyAlias=${HOST_KEY_ALIAS}`,
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes',
        '-p', String(port),
      ],
      stop: async () => {
        await stopSshd(sshd);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

interface ConfigInput {
  port: number;
  dir: string;
  hostKey: string;
  authorizedKeys: string;
  options: SshdOptions;
}

function sshdConfig({ port, dir, hostKey, authorizedKeys, options }: ConfigInput): string {
  const setEnv = { HOME: join(dir, 'home'), ...options.setEnv };
  const lines = [
    ...(options.extraConfig ?? []),
    ...Object.entries(setEnv).map(([name, value]) => `SetEnv ${quoted(`${name}=${value}`)}`),
    ...(options.forceCommand === undefined ? [] : [`ForceCommand ${singleLine(options.forceCommand)}`]),
    `ListenAddress ${HOST}:${port}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'AcceptEnv ATSR_ID',
    'PermitRootLogin yes',
    'StrictModes no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // Keep interactive logins' output to what the test itself prints.
    'PrintMotd no',
    'PrintLastLog no',
    `LogLevel ${options.logLevel ?? 'INFO'}`,
  ];
  return `${lines.join('\n')}\n`;
}

function singleLine(text: string): string {
  if (/[\r\n]/.test(text)) throw new Error(`sshd_config value spans lines: ${JSON.stringify(text)}`);
  return text;
}

function quoted(text: string): string {
  if (/["\\]/.test(text)) throw new Error(`sshd_config value needs escaping: ${JSON.stringify(text)}`);
  return `"${singleLine(text)}"`;
}

async function generateKey(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'atsr-test', '-f', path]);
}

/**
 * sshd refuses to start (and `sshd -t` to check a config) as root without
 * it; Debian creates it only when the system service starts, which the
 * tests never do.
 */
export function ensurePrivilegeSeparationDir(): void {
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function spawnSshd(configFile: string, logFile: string): ChildProcess {
  const log = openSync(logFile, 'a');
  try {
    return spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', log] });
  } finally {
    closeSync(log);
  }
}

/** Polls the port until sshd answers with its "SSH-2.0-" banner. */
async function waitForBanner(port: number): Promise<true> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await readsBanner(port))) {
    if (Date.now() > deadline) throw new Error(`sshd on port ${port} sent no banner`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function readsBanner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let received = '';
    const finish = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (received.includes('\n')) finish(received.startsWith('SSH-'));
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

// The per-connection sshd processes are the listener's direct children and
// outlive it, so they are ended first: their sessions end with them.
async function stopSshd(sshd: ChildProcess): Promise<void> {
  if (sshd.exitCode !== null || sshd.signalCode !== null) return;
  await run('pkill', ['-TERM', '-P', String(sshd.pid)]).catch(() => undefined);
  const exited = once(sshd, 'exit');
  sshd.kill('SIGTERM');
  const timer = setTimeout(() => sshd.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
