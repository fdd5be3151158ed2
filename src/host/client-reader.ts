// How the host reads a front's connection: into one buffer that every
// connection shares, handed over at once (a socket's `onread`), where the
// accepted socket's Readable allocated a Buffer per read and passed it
// through push, its queue, 'data' and a nextTick: about a third of the
// host's CPU per keystroke (docs/benchmarks.md, "A front's keys read into
// one buffer"). A server gives its accepted sockets no `onread`, so the
// connection is reopened on a duplicate of its descriptor. The host is one
// thread and each chunk is consumed before the next read, so one buffer
// serves every connection; whatever keeps bytes past the call copies them
// (FrameDecoder, InbandScanner, PtyInput).
import { Socket } from 'node:net';
import { hostNative } from './host-native.js';

/** One read asks for at most this much: a front's frames are small, and the decoder joins what straddles reads. */
const READ_BUFFER_BYTES = 64 * 1024;

let shared: Buffer | undefined;

/**
 * Reads `accepted` (from a server made with pauseOnConnect, so that nothing
 * was read from it yet) with `onBytes`, whose chunk is valid only during the
 * call; returns the socket to use from now on. Reopened on a duplicate
 * descriptor with `onread`, and `accepted` closed; where that cannot be done
 * (host-native.node missing, no descriptor left for the duplicate),
 * `accepted` itself, read through 'data'.
 */
export function readClient(accepted: Socket, onBytes: (chunk: Buffer) => void): Socket {
  const fd = socketDescriptor(accepted);
  const copy = fd >= 0 ? (hostNative()?.dup(fd) ?? -1) : -1;
  if (copy < 0) {
    accepted.on('data', onBytes);
    accepted.resume();
    return accepted;
  }
  shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  const socket = new Socket({
    fd: copy,
    readable: true,
    writable: true,
    onread: {
      buffer: shared,
      callback: (length: number, buf: Uint8Array) => {
        onBytes(Buffer.from(buf.buffer, buf.byteOffset, length));
        return true; // pause() is what stops the reading
      },
    },
  });
  accepted.destroy();
  return socket;
}

/** The descriptor under a socket, or -1 (closed, or not a descriptor's). */
export function socketDescriptor(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  return typeof fd === 'number' ? fd : -1;
}
