// What ssh printed on stderr, as the user should see it: without the lines
// that only rezume's own plumbing causes. When rezume-connect (ssh's
// ProxyCommand with ProxyUseFdpass) cannot connect, it says why and exits
// without passing a socket; ssh then adds two lines about the missing socket
// that tell the user nothing (OpenSSH's monitor_fdpass.c and sshconnect.c).

const PLUMBING = [/^mm_receive_fd: /, /^proxy dialer did not pass back a connection$/];

/** rezume-connect's reasons are rezume's own to the user: it is rezume's helper. */
const HELPER_PREFIX = /^rezume-connect: /;

/** `text` less the plumbing lines, with rezume-connect's lines under rezume's name. */
export function userFacingSshStderr(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((line) => !PLUMBING.some((p) => p.test(line.replace(/[\r\n]+$/, ''))))
    .map((line) => line.replace(HELPER_PREFIX, 'rezume: '))
    .join('');
}
