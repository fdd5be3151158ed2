// "Never lock a user out": when atsr cannot give a resumable session, the
// command takes atsr's place (execve) on this terminal, so the terminal's
// signals (Ctrl-C) reach it as they would without atsr, and its exit status
// is the login's. A failed process.execve aborts Node, so everything execve
// could refuse for an ordinary reason is checked first.
import { closeSync, openSync, readSync } from 'node:fs';
import { ExitCode } from '../cli/exit-codes.js';
import { findCommand, isExecutableFile } from '../session/find-command.js';

/** What to execve, or why it cannot run (with the exit status sh gives). */
type ExecPlan = { file: string; argv: string[] } | { problem: string; status: number };

/** Linux reads at most this much of a `#!` line (BINPRM_BUF_SIZE). */
const SHEBANG_MAX = 256;

export function runDirect(command: string[], warning: string): number {
  process.stderr.write(`atsr: ${warning}; running ${command[0]} directly\n`);
  const plan = execPlan(command, process.env);
  if ('problem' in plan) {
    process.stderr.write(`atsr: ${plan.problem}\n`);
    return plan.status;
  }
  // Node ignores SIGPIPE and SIGXFSZ, and execve keeps ignored signals
  // ignored; a listener makes them caught, which execve resets to default.
  for (const signal of ['SIGPIPE', 'SIGXFSZ'] as const) process.on(signal, () => {});
  if (!process.execve) throw new Error('process.execve is missing: atsr runs on Node 24');
  return process.execve(plan.file, plan.argv, process.env);
}

/** What execvp(3) would do with `command`, decided before execve. */
function execPlan(command: string[], env: NodeJS.ProcessEnv): ExecPlan {
  const [name, ...args] = command as [string, ...string[]];
  const file = findCommand(name, env);
  if (!file) return { problem: `${name}: command not found`, status: ExitCode.commandNotFound };
  const head = readHead(file);
  // Unreadable (execute-only) files and ELF executables go to the kernel as they are.
  if (head === undefined || head.subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1'))) return { file, argv: [name, ...args] };
  if (head.subarray(0, 2).toString('latin1') === '#!') {
    const line = head.subarray(2).toString('latin1').split('\n')[0]!;
    const interpreter = line.trim().split(/[ \t]/)[0] ?? '';
    if (!isExecutableFile(interpreter)) return { problem: `${name}: bad interpreter ${interpreter}`, status: ExitCode.cannotExecute };
    return { file, argv: [name, ...args] };
  }
  // No magic number: what execvp(3) and the shells do on ENOEXEC.
  return { file: '/bin/sh', argv: ['/bin/sh', file, ...args] };
}

/** The first bytes of a file, or undefined if it cannot be read. */
function readHead(file: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(SHEBANG_MAX);
    return buf.subarray(0, readSync(fd, buf, 0, SHEBANG_MAX, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
