// The programs compared: how each runs a command attached to the outer
// terminal, keeps a detached session, attaches to one, and which of its
// processes hold the sessions. Every peer gets its own socket directory.
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from '../ci/node-flags.js';
import { endProcesses, findPids } from './proc.js';
import { runCommand } from './run-command.js';

export type PeerId = 'pty' | 'script' | 'dtach' | 'tmux' | 'atsr' | 'atsr-bundle' | 'atsr-winch';

export interface Peer {
  id: PeerId;
  /** What exactly was measured, for the table. */
  label: string;
  /** Runs `shellCmd` in a new session attached to the caller's terminal; exits with it. */
  runAttached(shellCmd: string): string[];
  /** Starts `shellCmd` as a detached session called `name` (the raw pty and script keep none: they throw). */
  createDetached(name: string, shellCmd: string): Promise<void>;
  /** Attaches the caller's terminal to session `name`. */
  attach(name: string): string[];
  /** The long-lived processes that keep all of this peer's detached sessions. */
  serverPids(): Promise<number[]>;
  /** Ends every session this peer started and removes its directory. */
  cleanup(): Promise<void>;
}

let unique = 0;
function uniqueName(prefix: string): string {
  return `${prefix}${process.pid}x${unique++}`;
}

function notDetachable(id: PeerId): never {
  throw new Error(`${id} keeps no detached sessions`);
}

/** The command itself on the outer pty: the floor every relay is compared with. */
export function rawPty(): Peer {
  return {
    id: 'pty',
    label: 'the outer pty itself (no relay)',
    runAttached: (cmd) => ['sh', '-c', cmd],
    createDetached: () => notDetachable('pty'),
    attach: () => notDetachable('pty'),
    serverPids: async () => [],
    cleanup: async () => {},
  };
}

/** util-linux script: a second pty and a relay process, the same shape as a front. */
export function scriptPeer(): Peer {
  return {
    id: 'script',
    label: 'script -q -e -c CMD /dev/null',
    runAttached: (cmd) => ['script', '-q', '-e', '-c', cmd, '/dev/null'],
    createDetached: () => notDetachable('script'),
    attach: () => notDetachable('script'),
    serverPids: async () => [],
    cleanup: async () => {},
  };
}

export function dtachPeer(workDir: string): Peer {
  const dir = join(workDir, 'dtach');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const isOurs = (argv: string[]): boolean => argv[0] === 'dtach' && (argv[1] === '-n' || argv[1] === '-c') && (argv[2] ?? '').startsWith(dir);
  return {
    id: 'dtach',
    label: 'dtach 0.9 (-E -z; attach with -r winch)',
    runAttached: (cmd) => ['dtach', '-c', join(dir, uniqueName('c')), '-E', '-r', 'none', '-z', 'sh', '-c', cmd],
    createDetached: async (name, cmd) => {
      await runCommand(['dtach', '-n', join(dir, name), '-E', '-z', 'sh', '-c', cmd]);
    },
    attach: (name) => ['dtach', '-a', join(dir, name), '-E', '-r', 'winch', '-z'],
    // The master that dtach -n leaves behind keeps the argv it was started with.
    serverPids: async () => findPids(isOurs),
    cleanup: async () => {
      await endProcesses(findPids(isOurs));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function tmuxPeer(workDir: string): Peer {
  const sock = join(workDir, 'tmux.sock');
  // No status line: its clock would redraw the screen during the measurements.
  const conf = join(workDir, 'tmux.conf');
  writeFileSync(conf, 'set -g status off\n');
  const tmux = (...args: string[]): string[] => ['tmux', '-S', sock, '-f', conf, ...args];
  return {
    id: 'tmux',
    label: 'tmux (one server, status line off)',
    runAttached: (cmd) => [...tmux('new-session', '-s', uniqueName('t'), cmd)],
    createDetached: async (name, cmd) => {
      await runCommand(tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', cmd));
    },
    attach: (name) => tmux('attach-session', '-t', name),
    serverPids: async () => {
      if (!existsSync(sock)) return [];
      return [Number((await runCommand(tmux('display-message', '-p', '#{pid}'))).trim())];
    },
    cleanup: async () => {
      if (existsSync(sock)) await runCommand(tmux('kill-server')).catch(() => '');
      rmSync(sock, { force: true });
    },
  };
}

export interface AtsrBuild {
  id: 'atsr' | 'atsr-bundle';
  /** The command that runs atsr: the single executable, or node and the bundle. */
  command: string[];
  label: string;
}

/**
 * The atsr builds present in `root`/dist/, copied to `workDir` first (a
 * rebuild during the run must not change what is measured): the command
 * (the native entry, which runs the single executable beside it) first,
 * then node + bundle.
 */
export function atsrBuilds(root: string, workDir: string): AtsrBuild[] {
  const dist = join(workDir, 'dist');
  mkdirSync(dist);
  for (const file of ['atsr', 'atsr-node', 'atsr.cjs', 'pty.node', 'host-native.node', 'atsr-relay', 'rezume-connect']) {
    if (existsSync(join(root, 'dist', file))) copyFileSync(join(root, 'dist', file), join(dist, file));
  }
  const builds: AtsrBuild[] = [];
  const entry = join(dist, 'atsr');
  if (existsSync(entry)) builds.push({ id: 'atsr', command: [entry], label: 'atsr, dist/atsr (native entry, then the single executable)' });
  builds.push({
    id: builds.length === 0 ? 'atsr' : 'atsr-bundle',
    command: [process.execPath, ...NODE_FLAGS, join(dist, 'atsr.cjs')],
    label: `atsr, node ${process.version} dist/atsr.cjs`,
  });
  return builds;
}

interface ListedSession {
  pid: number;
}

/** An atsr peer whose attach takes options (`-R winch`, as dtach's `-r winch`): its own id, label and directory. */
export interface AtsrAttachVariant {
  id: PeerId;
  label: string;
  options: string[];
}

export function atsrPeer(build: AtsrBuild, workDir: string, variant?: AtsrAttachVariant): Peer {
  const id = variant?.id ?? build.id;
  const dir = join(workDir, id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const atsr = (...args: string[]): string[] => [...build.command, ...args];
  const hostPids = async (): Promise<number[]> => {
    const listed = JSON.parse(await runCommand(atsr('-u', dir, '-l', '--json'))) as ListedSession[];
    return listed.map((s) => s.pid);
  };
  return {
    id,
    label: variant?.label ?? build.label,
    runAttached: (cmd) => atsr('-u', dir, '-c', uniqueName('c'), 'sh', '-c', cmd),
    createDetached: async (name, cmd) => {
      await runCommand(atsr('-u', dir, '-n', name, 'sh', '-c', cmd));
    },
    attach: (name) => atsr('-u', dir, '-a', ...(variant?.options ?? []), name),
    // The hosts: an attached host keeps no other process (its utmp helper runs and exits).
    serverPids: hostPids,
    cleanup: async () => {
      // Hosts hang their commands up first; a live host would recreate its socket.
      await endProcesses(await hostPids().catch(() => []));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
