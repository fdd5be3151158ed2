// Entry point of the one executable: which role this process plays.
//   atsr --atsr-session-host NAME   the detached session host (started by a front)
//   rezume ...                      the client (when called by that name)
//   atsr --atsr-run-script FILE ...  runs FILE's run(args) (the installer)
//   atsr ...                        the front, -l, --help, --version
// Each role loads only its own modules (dynamic imports stay lazy in the bundle).
import { basename, resolve } from 'node:path';
import { AtsrError, ExitCode } from './cli/exit-codes.js';
import { HOST_ROLE_ARG } from './host/host-spec.js';

async function main(): Promise<number | undefined> {
  const args = process.argv.slice(2);
  if (args[0] === HOST_ROLE_ARG) {
    const { runSessionHost } = await import('./host/session-host.js');
    await runSessionHost();
    return undefined; // the host lives on until its session ends
  }
  if (args[0] === '--atsr-run-script' && args[1] !== undefined) {
    // Hidden role: code shipped beside the executable (the installer) runs on
    // this runtime, so it stays out of the executable's startup path.
    const { createRequire } = await import('node:module');
    const script = createRequire(process.execPath)(resolve(args[1])) as { run?: (a: string[]) => Promise<number> };
    if (typeof script.run !== 'function') throw new AtsrError(`${args[1]} exports no run(args)`, ExitCode.usage);
    return script.run(args.slice(2));
  }
  if (basename(process.argv0) === 'rezume' || args[0] === '--rezume') {
    const { runRezume } = await import('./client/rezume-command.js');
    return runRezume(args[0] === '--rezume' ? args.slice(1) : args);
  }
  const { runAtsr } = await import('./cli/atsr-command.js');
  const { makeFrontHandshake } = await import('./inband/front-handshake.js');
  return runAtsr(args, makeFrontHandshake);
}

/**
 * Exits once stdout and stderr have handed everything to the kernel:
 * process.exit() drops what a pipe has not taken yet (a pipe holds 64 KiB),
 * so `atsr -l --json | jq` would get a cut-off document.
 */
function exitAfterOutput(code: number): void {
  let open = 2;
  const flushed = (): void => {
    if (--open === 0) process.exit(code);
  };
  for (const stream of [process.stdout, process.stderr]) {
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      flushed();
    };
    stream.once('error', once); // the reader is gone: nothing left to wait for
    stream.write('', once);
  }
}

main().then(
  (code) => {
    if (code !== undefined) exitAfterOutput(code);
  },
  (err: unknown) => {
    if (err instanceof AtsrError) {
      process.stderr.write(`atsr: ${err.message}\n`);
      return exitAfterOutput(err.exitCode);
    }
    process.stderr.write(`atsr: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exitAfterOutput(ExitCode.internal);
  },
);
