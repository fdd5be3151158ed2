// Asks one session host for its status, through the socket's pinned inode
// (so the socket connected to is the one checked), within a time limit; and
// the kernel, which process listens on it.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { socketDescriptor } from '../host/client-reader.js';
import { hostNative } from '../host/host-native.js';
import type { PinnedEntry } from '../session/dir-handle.js';
import { FrameDecoder, FrameType } from '../protocol/frames.js';
import { type SessionStatus, decodeStatus, encodeJson } from '../protocol/messages.js';

export const QUERY_TIMEOUT_MS = 2000;

export type Answer =
  | { kind: 'status'; status: SessionStatus }
  /** Nothing listens: the host is gone. */
  | { kind: 'refused' }
  | { kind: 'silent'; why: string };

export interface Queried {
  answer: Answer;
  /**
   * The PID the kernel gives for the socket's listener (SO_PEERCRED of the
   * connection: who called listen() on it), whatever the answer; undefined
   * when the connection failed or host-native.node is missing.
   */
  listener: number | undefined;
}

export function queryStatus(socket: PinnedEntry, timeoutMs = QUERY_TIMEOUT_MS): Promise<Queried> {
  return new Promise((resolve) => {
    const sock = connect(socket.procPath);
    const decoder = new FrameDecoder();
    let listener: number | undefined;
    const done = (answer: Answer): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ answer, listener });
    };
    const timer = setTimeout(() => done({ kind: 'silent', why: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
    sock.once('connect', () => {
      const fd = socketDescriptor(sock);
      const pid = fd >= 0 ? hostNative()?.peerPid(fd) : undefined;
      listener = pid !== undefined && pid >= 0 ? pid : undefined;
      sock.write(encodeJson(FrameType.statusQuery, {}));
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        const f = decoder.push(chunk).find((x) => x.type === FrameType.status);
        if (f) done({ kind: 'status', status: decodeStatus(f) });
      } catch {
        done({ kind: 'silent', why: 'unreadable answer' });
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) =>
      done(err.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'silent', why: err.code ?? 'connection error' }),
    );
    sock.on('close', () => done({ kind: 'silent', why: 'closed without an answer' }));
  });
}

/**
 * How many queries may be in flight: each holds two descriptors (the
 * pinned socket file and the connection), so about half the open-file limit
 * Node raised at startup, within bounds: enough that a thousand silent
 * sessions cost one timeout, not several.
 */
export function parallelQueries(): number {
  const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const limit = m ? Number(m[1]) : 1024;
  return Math.max(16, Math.min(4096, Math.floor((limit - 64) / 2)));
}

/** `work` over `items`, at most `limit` at a time (each query holds descriptors), results in order. */
export async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
