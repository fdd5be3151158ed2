// Things about this host that undermine resumable sessions, each reported
// with its fix: in the wizard, in the dry run, and in install.log.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { findUtempter } from '../src/host/utmp-recorder.js';

export interface Finding {
  problem: string;
  fix: string;
}

const LOGIND_CONF = '/etc/systemd/logind.conf';

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** logind's effective KillUserProcesses: the main file, then its drop-ins in order; the last setting wins. */
function killUserProcesses(): boolean {
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync(`${LOGIND_CONF}.d`).filter((f) => f.endsWith('.conf')).sort().map((f) => join(`${LOGIND_CONF}.d`, f));
  } catch {
    // no drop-in directory
  }
  let value = false;
  for (const file of [LOGIND_CONF, ...dropIns]) {
    for (const line of readOr(file, '').split('\n')) {
      const m = /^\s*KillUserProcesses\s*=\s*(\S+)/.exec(line);
      if (m) value = /^(yes|true|on|1)$/i.test(m[1]!);
    }
  }
  return value;
}

/** The config files the running sshd listeners read (-f, else the default). */
function runningSshdConfigs(): string[] {
  const configs = new Set<string>();
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  for (const pid of pids) {
    if (readOr(`/proc/${pid}/comm`, '').trim() !== 'sshd') continue;
    // A listener may have rewritten its title into one string ("sshd: /usr/sbin/sshd -f X -D [listener] ...").
    const cmdline = readOr(`/proc/${pid}/cmdline`, '').replaceAll('\0', ' ').trim();
    if (cmdline.startsWith('sshd:') && !cmdline.includes('[listener]')) continue; // a per-connection child
    const argv = cmdline.split(/\s+/);
    const f = argv.indexOf('-f');
    configs.add(f >= 0 && argv[f + 1] ? argv[f + 1]! : '/etc/ssh/sshd_config');
  }
  return [...configs];
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return a === b;
  }
}

export function hostFindings(sshdConfig: string, editsSshd: boolean): Finding[] {
  const findings: Finding[] = [];
  if (killUserProcesses()) {
    findings.push({
      problem: `systemd-logind has KillUserProcesses=yes (${LOGIND_CONF}): it kills detached sessions when the user logs out`,
      fix: `set KillExcludeUsers= to the users of atsr in ${LOGIND_CONF}, or run 'loginctl enable-linger USER' for each of them`,
    });
  }
  if (editsSshd) {
    const running = runningSshdConfigs();
    if (running.length > 0 && !running.some((c) => samePath(c, sshdConfig))) {
      findings.push({
        problem: `the running sshd reads ${running.join(', ')}, not ${sshdConfig}: the AcceptEnv line will not take effect`,
        fix: `run the installer with --sshd-config ${running[0]}`,
      });
    }
  }
  if (findUtempter() === undefined) {
    findings.push({
      problem: 'the utempter helper is missing: sessions will not appear in utmp (who, w, last)',
      fix: 'install it (Debian/Ubuntu: apt-get install libutempter0; RHEL: dnf install libutempter)',
    });
  }
  return findings;
}
