// The environment every peer runs in: small and fixed, so that no peer
// inherits the caller's quirks. NODE_OPTIONS passes through so that the
// plain-node atsr can be profiled (--cpu-prof).
export function benchEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    TERM: 'xterm',
    LANG: 'C',
    SHELL: '/bin/sh',
  };
  if (process.env.NODE_OPTIONS) env.NODE_OPTIONS = process.env.NODE_OPTIONS;
  return env;
}
