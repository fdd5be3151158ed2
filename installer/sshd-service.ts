// Which sshd reads an edited config, and how each is made to re-read it.
// The system's config (/etc/ssh/sshd_config) is reloaded the way this host
// does it: a systemd unit (`ssh` on Debian/Ubuntu, `sshd` elsewhere), a SysV
// init script, or AIX's SRC; that unit reads it even while it is not running
// (socket activation). A private sshd (`sshd -f FILE`) is reloaded by SIGHUP
// to its listener, which is how sshd re-reads its config. Any other file is
// read by no sshd, and nothing is reloaded. Open connections stay either way.
import { existsSync } from 'node:fs';
import type { Change } from './change.js';
import { InstallError, InstallExit } from './errors.js';
import { readIfExists } from './files.js';
import { DEFAULT_SSHD_CONFIG } from './options.js';
import { findExecutable, runCommand } from './run-command.js';
import { dropInFor } from './sshd-accept-env.js';
import { fileIdentity, reads, runningSshdListeners, type SshdListener } from './sshd-listeners.js';

/** The command that reloads the system's sshd service here, or undefined when none was found. */
export function serviceReloadCommand(): string[] | undefined {
  const systemctl = findExecutable('systemctl');
  if (systemctl) {
    for (const unit of ['ssh.service', 'sshd.service']) {
      const r = runCommand([systemctl, 'show', '--property=LoadState', '--value', unit]);
      if (r.status === 0 && r.stdout.trim() === 'loaded') return [systemctl, 'reload', unit];
    }
  }
  const service = findExecutable('service');
  if (service) {
    for (const name of ['ssh', 'sshd']) {
      if (existsSync(`/etc/init.d/${name}`)) return [service, name, 'reload'];
    }
  }
  const lssrc = findExecutable('lssrc');
  const refresh = findExecutable('refresh');
  if (lssrc && refresh && runCommand([lssrc, '-s', 'sshd']).status === 0) return [refresh, '-s', 'sshd'];
  return undefined;
}

/** One way to make an sshd re-read the file. */
export type SshdReload = { kind: 'service'; command: string[] } | { kind: 'signal'; listener: SshdListener };

export function isSystemConfig(path: string): boolean {
  const id = fileIdentity(path);
  return id !== undefined && id === fileIdentity(DEFAULT_SSHD_CONFIG);
}

/**
 * How to reload every sshd that reads `config`; empty when none does.
 * The service's reload covers the sshd it runs, the listener that reads the
 * default file without -f; a listener that names the file with -f is another
 * instance and gets its own SIGHUP.
 */
export function reloadsFor(config: string, listeners: readonly SshdListener[] = runningSshdListeners()): SshdReload[] {
  const service = isSystemConfig(config) ? serviceReloadCommand() : undefined;
  const signalled = listeners.filter((l) => reads(l, config) && !(service !== undefined && !l.named));
  return [...(service === undefined ? [] : [{ kind: 'service' as const, command: service }]), ...signalled.map((listener) => ({ kind: 'signal' as const, listener }))];
}

/**
 * The reloads after a drop-in changed: for each config that includes it
 * (the system's, and each running listener's), the sshd that reads it.
 */
export function reloadsForDropIn(dropIn: string): SshdReload[] {
  const listeners = runningSshdListeners();
  const candidates = [...new Set([DEFAULT_SSHD_CONFIG, ...listeners.map((l) => l.config)])];
  const configs = candidates.filter((c) => {
    const text = readIfExists(c);
    return text !== undefined && dropInFor(text)?.path === dropIn;
  });
  return configs.flatMap((c) => reloadsFor(c, listeners));
}

/** The command, as the admin would type it. */
export const reloadCommandText = (r: SshdReload): string => (r.kind === 'service' ? r.command.join(' ') : `kill -HUP ${r.listener.pid}`);

/** The command with what it reloads, for the plan and the notes. */
export const reloadText = (r: SshdReload): string =>
  r.kind === 'service' ? `'${reloadCommandText(r)}'` : `'${reloadCommandText(r)}' (sshd PID ${r.listener.pid} reads ${r.listener.config})`;

/** Each reload once, however many of the changes undone its sshd reads. */
export function distinctReloads(reloads: readonly SshdReload[]): SshdReload[] {
  const seen = new Map<string, SshdReload>();
  for (const r of reloads) seen.set(reloadCommandText(r), r);
  return [...seen.values()];
}

export function reloadChange(reload: SshdReload): Change {
  if (reload.kind === 'service') {
    const command = reload.command;
    return {
      summary: `reload sshd: ${command.join(' ')}`,
      apply(log) {
        const r = runCommand(command);
        if (r.status !== 0) throw new InstallError(`'${command.join(' ')}' failed (status ${r.status}): ${r.stderr.trim()}`, InstallExit.failed);
        log.add('ran', command.join(' '));
      },
    };
  }
  const { pid, config } = reload.listener;
  return {
    summary: `reload sshd PID ${pid}, which reads ${config}: kill -HUP ${pid}`,
    apply(log) {
      // The PID was seen when the plan was made: signal it only if it is still a listener reading that path
      // (by name: the edit replaced the file, so its inode changed).
      const still = runningSshdListeners().find((l) => l.pid === pid && l.config === config);
      if (still === undefined) {
        process.stdout.write(`  sshd PID ${pid} no longer runs reading ${config}: not signalled\n`);
        return;
      }
      process.kill(pid, 'SIGHUP');
      log.add('ran', `kill -HUP ${pid}`, { reads: config });
    },
  };
}
