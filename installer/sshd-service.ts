// How this host reloads sshd after a config change: a systemd unit (`ssh` on
// Debian/Ubuntu, `sshd` elsewhere), a SysV init script, or AIX's SRC.
// A reload makes sshd re-read its config; connections that are open stay.
import { existsSync } from 'node:fs';
import { findExecutable, runCommand } from './run-command.js';

/** The command that reloads sshd here, or undefined when none was found. */
export function sshdReloadCommand(): string[] | undefined {
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
