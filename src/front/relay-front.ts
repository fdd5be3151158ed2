// The front's last step with a version 2 host: it hands the connection over
// to the native relay (src/relay/atsr-relay.c) by execve, so that an attached
// session costs the host's Node process and a relay of a few hundred KiB, not
// a second Node process. With an older host (still running after an upgrade),
// or without the relay file, the TypeScript front (attach-session.ts) attaches.
import { constants } from 'node:fs';
import type { Socket } from 'node:net';
import { FrameDecoder, FrameType } from '../protocol/frames.js';
import { type AttachRequestV2, decodeStatus, encodeJson } from '../protocol/messages.js';
import { findShippedFile } from '../shipped-file.js';
import { terminalResetFor } from './terminal-reset.js';

/** Forces the TypeScript front (a test knob, so that its path keeps being tested against the host). */
export const FRONT_PROTOCOL_ENV = 'ATSR_FRONT_PROTOCOL';

/** How long the host has to answer the version question: it answers at once unless it is wedged. */
const VERSION_QUERY_MS = 5000;

/**
 * The protocol version of the host on `sock`, asked by a status query on
 * that connection (which the host then closes). An older host's status has
 * no `v`: version 1.
 */
export function hostVersion(sock: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    const decoder = new FrameDecoder();
    const timer = setTimeout(() => done(new Error(`the session host did not answer within ${VERSION_QUERY_MS / 1000} s`)), VERSION_QUERY_MS);
    const done = (result: number | Error): void => {
      clearTimeout(timer);
      sock.removeAllListeners('data');
      sock.destroy();
      if (typeof result === 'number') resolve(result);
      else reject(result);
    };
    sock.on('data', (chunk: Buffer) => {
      try {
        const f = decoder.push(chunk).find((x) => x.type === FrameType.status);
        if (!f) return;
        const { v } = decodeStatus(f);
        done(typeof v === 'number' && Number.isSafeInteger(v) ? v : 1);
      } catch (err) {
        done(err as Error);
      }
    });
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('the session host closed the connection')));
    sock.write(encodeJson(FrameType.statusQuery, {}));
  });
}

/** The relay's file, when the relay can serve: undefined for the TypeScript front. */
export function relayFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env[FRONT_PROTOCOL_ENV] === '1') return undefined;
  return findShippedFile('atsr-relay', constants.X_OK);
}

/** Becomes the relay (never returns): it connects to `socketPath` and sends `attach`. */
export function execRelay(file: string, socketPath: string, attach: AttachRequestV2): never {
  const env = {
    ...process.env,
    ATSR_RELAY_ATTACH: encodeJson(FrameType.attach, attach).toString('hex'),
    // For a host that dies without its end frame (which carries the reset otherwise).
    ATSR_RELAY_RESET: Buffer.from(terminalResetFor(attach.term), 'latin1').toString('hex'),
  };
  // Node ignores SIGPIPE; execve would keep it ignored (the relay sets its own handlers, but be exact).
  process.on('SIGPIPE', () => {});
  if (!process.execve) throw new Error('process.execve is missing: atsr runs on Node 24');
  return process.execve(file, ['atsr-relay', socketPath], env);
}
