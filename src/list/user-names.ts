// The names of uids the kernel reported (socket file owners), from the
// system's user database: one `getent passwd` for all of them, so that NSS
// users (LDAP, sssd) are named too. A uid without a name is shown as itself.
import { spawnSync } from 'node:child_process';

export function userNames(uids: Iterable<number>): Map<number, string> {
  const wanted = [...new Set(uids)];
  const names = new Map(wanted.map((uid) => [uid, String(uid)]));
  if (wanted.length === 0) return names;
  const r = spawnSync('getent', ['passwd', ...wanted.map(String)], { encoding: 'utf8', timeout: 5000 });
  for (const line of (r.stdout ?? '').split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}
