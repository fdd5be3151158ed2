// Things about this host that undermine resumable sessions, each reported
// with its fix: in the wizard, in the dry run, and in install.log.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findUtempter } from '../src/host/utmp-recorder.js';
import { reads, runningSshdListeners } from './sshd-listeners.js';

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

/**
 * One finding per file that running sshds read instead of the one edited,
 * naming each sshd by PID: logins through them will not resume.
 */
function otherSshdFindings(sshdConfig: string): Finding[] {
  const byFile = new Map<string, number[]>();
  for (const l of runningSshdListeners()) {
    if (!reads(l, sshdConfig)) byFile.set(l.config, [...(byFile.get(l.config) ?? []), l.pid]);
  }
  return [...byFile].map(([file, pids]) => ({
    problem: `${pids.length === 1 ? `sshd PID ${pids[0]} reads` : `sshd PIDs ${pids.join(', ')} read`} ${file}, not ${sshdConfig}: logins through ${pids.length === 1 ? 'it' : 'them'} will not resume sessions`,
    fix: `run the installer with --sshd-config ${file} to add the line there`,
  }));
}

export function hostFindings(sshdConfig: string, editsSshd: boolean): Finding[] {
  const findings: Finding[] = [];
  if (killUserProcesses()) {
    findings.push({
      problem: `systemd-logind has KillUserProcesses=yes (${LOGIND_CONF}): it kills detached sessions when the user logs out`,
      fix: `set KillExcludeUsers= to the users of atsr in ${LOGIND_CONF}, or run 'loginctl enable-linger USER' for each of them`,
    });
  }
  if (editsSshd) findings.push(...otherSshdFindings(sshdConfig));
  if (findUtempter() === undefined) {
    findings.push({
      problem: 'the utempter helper is missing: sessions will not appear in utmp (who, w, last)',
      fix: 'install it (Debian/Ubuntu: apt-get install libutempter0; RHEL: dnf install libutempter)',
    });
  }
  return findings;
}
