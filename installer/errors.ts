// The installer's exit codes (docs/install.md) and the error that carries one.
export const InstallExit = {
  ok: 0,
  /** A change failed part-way; the message and install.log say what was done. */
  failed: 1,
  /** Bad flags, or an answer missing in unattended mode (the message names the flag). */
  usage: 2,
  // 3 is setup.sh's: this platform is not supported.
  /** The license was not accepted. */
  licenseDeclined: 4,
  /** "no" at Proceed: nothing was changed. */
  declined: 5,
  /** `sshd -t` rejected the edited sshd_config: it was restored. */
  sshdConfigRejected: 6,
  /** Ctrl-C during the wizard: nothing was changed. */
  interrupted: 130,
} as const;

export type InstallExitCode = (typeof InstallExit)[keyof typeof InstallExit];

export class InstallError extends Error {
  constructor(
    message: string,
    readonly exitCode: InstallExitCode,
  ) {
    super(message);
  }
}
