// How the host accepts and reads a front's connection (src/host/client-reader.ts):
// the listener hands over each accepted handle, the host makes its one Socket,
// read into a buffer every connection shares.
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readClient, takeConnections } from '../../src/host/client-reader.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'atsr-reader-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 's');
}

function connected(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => s.destroy());
  });
}

describe('takeConnections and readClient', () => {
  it('give each connection one Socket, read exactly through the shared buffer, and Node emits no connection of its own', async () => {
    const path = socketPath();
    const server = createServer();
    cleanups.push(() => server.close());
    let nodeConnections = 0;
    server.on('connection', () => nodeConnections++);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const got = new Map<number, Buffer[]>();
    const sockets: Socket[] = [];
    takeConnections(server, (handle) => {
      const i = sockets.length;
      got.set(i, []);
      // The chunk is the shared buffer's: valid during the call only, so it is copied.
      const s = readClient(handle, (chunk) => got.get(i)!.push(Buffer.from(chunk)));
      sockets.push(s);
      cleanups.push(() => s.destroy());
    });

    const a = await connected(path);
    const b = await connected(path);
    a.write(ALL_BYTES);
    b.write('second');
    a.write(ALL_BYTES);
    const total = (i: number): Buffer => Buffer.concat(got.get(i) ?? []);
    while (total(0).length < 512 || total(1).length < 6) await new Promise((r) => setTimeout(r, 5));
    expect(total(0)).toEqual(Buffer.concat([ALL_BYTES, ALL_BYTES]));
    expect(total(1).toString()).toBe('second');

    // The Socket made from the handle writes too.
    const answer = new Promise<Buffer>((resolve) => a.once('data', resolve));
    sockets[0]!.write('back');
    expect((await answer).toString()).toBe('back');
    expect(sockets).toHaveLength(2);
    expect(nodeConnections).toBe(0);
  });

  it('refuse a server with no listening handle, naming what to do', () => {
    const server = createServer();
    expect(() => takeConnections(server, () => undefined)).toThrow(/no onconnection hook on a listening socket; run atsr on the Node it was built with/);
  });
});
