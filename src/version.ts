// Set by the bundler (ci/bundle.ts); tests that import sources see 'dev'.
declare const ATSR_VERSION: string | undefined;

export const VERSION: string = typeof ATSR_VERSION === 'string' ? ATSR_VERSION : 'dev';

/** The host/front socket protocol version (docs/protocol.md). */
export const SOCKET_PROTOCOL_VERSION = 1;
