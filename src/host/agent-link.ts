// One stable SSH_AUTH_SOCK path for the session's command, pointed at the
// agent socket of whichever client is attached now (the symlink trick tmux
// users do by hand), so agent use keeps working across resumes.
import { renameSync, rmSync, symlinkSync } from 'node:fs';

export function pointAgentLink(link: string, target: string): void {
  if (!link || !target) return;
  const tmp = `${link}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link); // atomic: the command never sees the link missing
}

export function removeAgentLink(link: string): void {
  if (link) rmSync(link, { force: true });
}
