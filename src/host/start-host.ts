// A front starting the session host: a detached process (its own session,
// re-parented to init once the front is gone) that reports on a pipe
// whether it claimed the socket and started the command.
import { spawn } from 'node:child_process';
import { AtsrError, ExitCode } from '../cli/exit-codes.js';
import { selfCommand } from '../self-command.js';
import { HOST_ROLE_ARG, HOST_SPEC_ENV, type HostReady, type HostSpec } from './host-spec.js';

export type StartResult = 'started' | 'exists';

export function startHost(spec: HostSpec): Promise<StartResult> {
  const [file, ...args] = selfCommand();
  const child = spawn(file!, [...args, HOST_ROLE_ARG, spec.name], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, [HOST_SPEC_ENV]: JSON.stringify(spec) },
    cwd: '/',
  });
  child.unref();
  return new Promise((resolve, reject) => {
    // The host keeps its end of the pipe (Node never closes fd 1), so the
    // answer is the first line, not end of file.
    let text = '';
    const answer = (line: string | undefined): void => {
      child.stdout!.destroy();
      let ready: HostReady | undefined;
      try {
        ready = line ? (JSON.parse(line) as HostReady) : undefined;
      } catch {
        ready = undefined;
      }
      if (!ready) reject(new AtsrError(`the session host did not start (${child.exitCode ?? 'no status'})`, ExitCode.internal));
      else if (ready.ok) resolve('started');
      else if (ready.exists) resolve('exists');
      else reject(new AtsrError(ready.message, ExitCode.internal));
    };
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      text += d;
      const nl = text.indexOf('\n');
      if (nl >= 0) answer(text.slice(0, nl));
    });
    child.stdout!.on('end', () => answer(undefined));
    child.on('error', (err) => reject(new AtsrError(`cannot start the session host: ${err.message}`, ExitCode.internal)));
  });
}
