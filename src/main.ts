// Entry point of the one executable: which role this process plays.
//   atsr --atsr-session-host NAME   the detached session host (started by a front)
//   rezume ...                      the client (when called by that name)
//   atsr ...                        the front, -l, --help, --version
// Each role loads only its own modules (dynamic imports stay lazy in the bundle).
import { basename } from 'node:path';
import { AtsrError, ExitCode } from './cli/exit-codes.js';
import { HOST_ROLE_ARG } from './host/host-spec.js';

async function main(): Promise<number | undefined> {
  const args = process.argv.slice(2);
  if (args[0] === HOST_ROLE_ARG) {
    const { runSessionHost } = await import('./host/session-host.js');
    await runSessionHost();
    return undefined; // the host lives on until its session ends
  }
  if (basename(process.argv0) === 'rezume' || args[0] === '--rezume') {
    const { runRezume } = await import('./client/rezume-command.js');
    return runRezume(args[0] === '--rezume' ? args.slice(1) : args);
  }
  const { runAtsr } = await import('./cli/atsr-command.js');
  const { makeFrontHandshake } = await import('./inband/front-handshake.js');
  return runAtsr(args, makeFrontHandshake);
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof AtsrError) {
      process.stderr.write(`atsr: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`atsr: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(ExitCode.internal);
  },
);
