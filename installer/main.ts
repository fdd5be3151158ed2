// The installer's entry, bundled into installer.cjs and run by the shipped
// atsr executable (`atsr --atsr-run-script installer.cjs ARGS`, from setup.sh)
// after setup.sh has checked the platform. Exports run(args) -> exit code.
import { InstallError, InstallExit } from './errors.js';
import { install } from './install.js';
import { InstallLock } from './install-lock.js';
import { parseInstallerArgs } from './options.js';
import { Interrupted, Prompter } from './prompter.js';
import { uninstall } from './uninstall.js';

export async function run(args: string[]): Promise<number> {
  const lock = new InstallLock();
  try {
    const parsed = parseInstallerArgs(args);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return InstallExit.ok;
    }
    const opts = parsed.options;
    // Unattended when stdin is no terminal: every answer must come from a flag.
    const p = new Prompter(process.stdin.isTTY === true);
    if (opts.uninstall) await uninstall(opts, p, lock);
    else await install(opts, p, __dirname, lock);
    return InstallExit.ok;
  } catch (err) {
    if (err instanceof Interrupted) {
      process.stderr.write('\ninstall-atsr: interrupted; nothing was changed\n');
      return InstallExit.interrupted;
    }
    if (err instanceof InstallError) {
      process.stderr.write(`install-atsr: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') {
      // What the system refused, in its words: no stack trace for an admin to decode.
      process.stderr.write(`install-atsr: failed: ${err.message}\n`);
      return InstallExit.failed;
    }
    process.stderr.write(`install-atsr: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return InstallExit.failed;
  } finally {
    lock.release();
  }
}
