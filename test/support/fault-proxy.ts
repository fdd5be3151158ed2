// A TCP proxy on 127.0.0.1 that imitates network faults between a real ssh
// client and a real sshd: a dead network that neither side is told about
// ('blackhole'), and connections reset by the network ('reset').
import { EventEmitter, once } from 'node:events';
import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/**
 * - `pass`: bytes flow both ways.
 * - `blackhole`: every open connection stops forwarding in both directions for
 *   good; its bytes are held unread and later dropped, and no FIN or RST
 *   crosses. New connections are accepted (the client's connect succeeds) but
 *   never connected through, so ssh waits for a banner that never comes, as
 *   with an unreachable host it only gives up through ConnectTimeout or
 *   ServerAlive*. Back in `pass`, these connections stay dead; new ones work.
 * - `reset`: every open connection is destroyed with a TCP RST on both sides,
 *   and each new one is reset as soon as it is accepted, until `pass` again.
 */
export type FaultMode = 'pass' | 'blackhole' | 'reset';

export interface FaultProxyOptions {
  /** The port on 127.0.0.1 that connections are forwarded to. */
  targetPort: number;
}

/** One accepted connection and, once connected through, its upstream side. */
class ProxiedLink {
  private upstream: Socket | undefined;
  private dead = false;

  constructor(
    private readonly client: Socket,
    private readonly onClosed: (link: ProxiedLink) => void,
  ) {
    client.on('error', () => this.closeFrom(client));
    client.on('close', () => this.closeFrom(client));
  }

  /** Connects to the target and forwards bytes both ways until cut. */
  connectThrough(targetPort: number): void {
    const upstream = connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true, noDelay: true });
    this.upstream = upstream;
    upstream.on('error', () => this.closeFrom(upstream));
    upstream.on('close', () => this.closeFrom(upstream));
    this.forward(this.client, upstream);
    this.forward(upstream, this.client);
  }

  /** Stops forwarding for good without telling either side. */
  blackhole(): void {
    this.dead = true;
    this.client.pause();
    this.upstream?.pause();
  }

  /** Sends a TCP RST to both sides. */
  reset(): void {
    this.dead = true;
    for (const socket of this.sockets()) if (!socket.destroyed) socket.resetAndDestroy();
  }

  destroy(): void {
    this.dead = true;
    for (const socket of this.sockets()) socket.destroy();
  }

  private sockets(): Socket[] {
    return this.upstream ? [this.client, this.upstream] : [this.client];
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.dead || to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!this.dead) from.resume();
      });
    });
    from.on('end', () => {
      if (!this.dead) to.end();
    });
  }

  // A live link passes an error on as a reset and a close as a close; a dead
  // one tells the other side nothing, as a dead network would.
  private closeFrom(socket: Socket): void {
    const other = socket === this.client ? this.upstream : this.client;
    if (!this.dead && other && !other.destroyed) {
      if (socket.errored) other.resetAndDestroy();
      else other.destroy();
    }
    if (this.sockets().every((s) => s.destroyed)) this.onClosed(this);
  }
}

export class FaultProxy {
  private accepted = 0;
  private currentMode: FaultMode = 'pass';
  private readonly links = new Set<ProxiedLink>();
  private readonly events = new EventEmitter();

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {
    server.on('connection', (socket) => this.accept(socket));
  }

  /** Listens on an ephemeral port of 127.0.0.1. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = createServer({ allowHalfOpen: true, noDelay: true });
    const proxy = new FaultProxy(server, options.targetPort);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Connections accepted so far, in every mode. */
  get connections(): number {
    return this.accepted;
  }

  get mode(): FaultMode {
    return this.currentMode;
  }

  /** Switches the mode; 'blackhole' and 'reset' also hit the open connections. */
  setMode(mode: FaultMode): void {
    this.currentMode = mode;
    if (mode === 'blackhole') for (const link of this.links) link.blackhole();
    if (mode === 'reset') for (const link of this.links) link.reset();
  }

  /** Resolves once at least `count` connections have been accepted in total. */
  async waitForConnections(count: number): Promise<void> {
    while (this.accepted < count) await once(this.events, 'connection');
  }

  /** Closes the listener and destroys every connection it still holds. */
  async close(): Promise<void> {
    for (const link of this.links) link.destroy();
    this.server.close();
    await once(this.server, 'close');
  }

  private accept(socket: Socket): void {
    this.accepted++;
    this.events.emit('connection');
    if (this.currentMode === 'reset') {
      socket.on('error', () => {});
      socket.resetAndDestroy();
      return;
    }
    const link = new ProxiedLink(socket, (closed) => this.links.delete(closed));
    this.links.add(link);
    if (this.currentMode === 'pass') link.connectThrough(this.targetPort);
    else link.blackhole();
  }
}

/** Starts a proxy in 'pass' mode in front of `options.targetPort`. */
export function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  return FaultProxy.start(options);
}
