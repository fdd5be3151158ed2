// Why a reconnect attempt failed, read from what ssh printed, in words for
// the user, and whether the host answered (then we back off) or not (then we
// retry as soon as the network looks back).
export interface FailureReason {
  text: string;
  hostAnswered: boolean;
}

export function failureReason(sshOutput: string): FailureReason {
  if (/Permission denied|Too many authentication failures/i.test(sshOutput)) return { text: 'authentication failed', hostAnswered: true };
  if (/Connection refused/i.test(sshOutput)) return { text: 'the host refuses connections', hostAnswered: true };
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(sshOutput)) {
    return { text: 'host key verification failed', hostAnswered: true };
  }
  if (/Could not resolve/i.test(sshOutput)) return { text: 'the host name does not resolve', hostAnswered: false };
  return { text: 'host unreachable', hostAnswered: false };
}

/** ssh is asking the user something (password, passphrase, host key): show it. */
export function looksLikePrompt(sshOutput: string): boolean {
  return /(password|passphrase|PIN|verification code|\(yes\/no[^)]*\))[^\n]*[:?] ?$/i.test(sshOutput);
}
