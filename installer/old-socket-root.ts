// The upgrade from an install whose shared socket root was PREFIX/run (now
// PREFIX/session). Live sockets are never moved: a running session keeps
// its socket where it bound it, and `atsr -l` lists PREFIX/run beside
// PREFIX/session while it exists. It is removed when an installer run (this
// upgrade, a later one, or --uninstall) finds no session in it.
import { join } from 'node:path';
import { collectSessions } from '../src/list/list-sessions.js';
import { terminalSafe } from '../src/list/terminal-safe.js';
import { DirHandle } from '../src/session/dir-handle.js';
import { OLD_INSTALLED_SOCKET_ROOT } from '../src/session/socket-dir.js';
import type { Change } from './change.js';
import { exists } from './files.js';
import type { LogEntry } from './install-log.js';
import { removeTree } from './remove-tree.js';

/** Whether any user's directory in the root holds a socket (a session started since the plan was made). */
function holdsSockets(root: string): boolean {
  let held: DirHandle;
  try {
    held = DirHandle.open(root);
  } catch {
    return false;
  }
  try {
    return held.names().some((n) => {
      if (!held.lstatChild(n)?.isDirectory()) return false;
      const dir = held.openChild(n);
      try {
        return dir.names().some((s) => dir.lstatChild(s)?.isSocket() === true);
      } finally {
        dir.close();
      }
    });
  } finally {
    held.close();
  }
}

/**
 * What the upgrade does with PREFIX/run, when install.log says an installer
 * made it: removes it when it holds no session, else keeps it and says why.
 */
export async function oldSocketRootPlan(prefix: string, logged: LogEntry[]): Promise<{ changes: Change[]; notes: string[] }> {
  const root = join(prefix, OLD_INSTALLED_SOCKET_ROOT);
  const ours = logged.some((e) => e.kind === 'created-dir' && e.path === root);
  if (!ours || !exists(root)) return { changes: [], notes: [] };
  const { sessions } = await collectSessions([{ kind: 'shared', root }]);
  if (sessions.length > 0) {
    return {
      changes: [],
      notes: [
        `${sessions.length} running session(s) keep their sockets in ${root}, the socket root of the older install: ` +
          `atsr -l lists them, and the next upgrade or --uninstall removes ${root} once they have ended`,
      ],
    };
  }
  return {
    changes: [
      {
        summary: `remove ${root} (the older install's socket root; no session in it)`,
        apply() {
          // A login through the old rezumable may have started a session there since the plan was made.
          if (holdsSockets(root)) return void process.stdout.write(`  kept ${root}: a session started in it meanwhile\n`);
          const problem = removeTree(root);
          if (problem) process.stdout.write(`  kept part of ${root}: ${terminalSafe(problem)}\n`);
        },
      },
    ],
    notes: [],
  };
}
