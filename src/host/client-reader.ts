// How the host accepts and reads a front's connection: into one buffer that
// every connection shares, handed over at once (a socket's `onread`), where
// an accepted socket's Readable allocated a Buffer per read and passed it
// through push, its queue, 'data' and a nextTick: about a third of the
// host's CPU per keystroke (docs/benchmarks.md, "A front's keys read into
// one buffer"). A server makes its accepted sockets itself, with no
// `onread`; so the listener hands each accepted connection's handle to the
// host, which makes the connection's one Socket with its `onread`. (The
// connection was once reopened on a duplicate descriptor: two Sockets per
// attach, ~0.6 ms of a cold host's answer; docs/benchmarks.md, "One Socket
// per connection".) The host is one thread and each chunk is consumed before
// the next read, so one buffer serves every connection; whatever keeps bytes
// past the call copies them (FrameDecoder, InbandScanner, PtyInput).
import { type BoundSocket, type Server, Socket } from 'node:net';

/** One read asks for at most this much: a front's frames are small, and the decoder joins what straddles reads. */
const READ_BUFFER_BYTES = 64 * 1024;

let shared: Buffer | undefined;

declare const acceptedBrand: unique symbol;
/** An accepted connection's libuv handle, before any Socket was made for it. */
export type AcceptedHandle = { readonly [acceptedBrand]: true };

/** Node's hook on a listening handle (lib/net.js `onconnection`): called with each accepted connection's handle, or an error. */
type ConnectionHook = (err: number, handle: AcceptedHandle | undefined) => void;

/**
 * From now on `server` (listening) hands each connection it accepts to
 * `onAccepted`, in place of Node's own hook, which would make a Socket of
 * it and emit 'connection'. The hook is Node's private property; the
 * executable carries the Node it was built with, and a Node without it is
 * refused here rather than left accepting nothing. Errors of accept(2) are
 * dropped, as a server with no 'error' listener after listening did.
 */
export function takeConnections(server: Server, onAccepted: (handle: AcceptedHandle) => void): void {
  const listening: unknown = Reflect.get(server, '_handle');
  if (typeof listening !== 'object' || listening === null || typeof Reflect.get(listening, 'onconnection') !== 'function') {
    throw new Error(`this Node (${process.version}) has no onconnection hook on a listening socket; run atsr on the Node it was built with`);
  }
  const hook: ConnectionHook = (err, handle) => {
    if (err === 0 && handle) onAccepted(handle);
  };
  Reflect.set(listening, 'onconnection', hook);
}

/**
 * The Socket of an accepted connection, read with `onBytes`, whose chunk is
 * valid only during the call.
 */
export function readClient(accepted: AcceptedHandle, onBytes: (chunk: Buffer) => void): Socket {
  shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  return new Socket({
    // Node's Socket takes an accepted handle here too (its own onconnection does so); the type names only BoundSocket.
    handle: accepted as unknown as BoundSocket,
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
}

/** The descriptor under a socket, or -1 (closed, or not a descriptor's). */
export function socketDescriptor(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  return typeof fd === 'number' ? fd : -1;
}
