// The real thing end to end: rezume on a pty, the real ssh through a fault
// proxy, a real sshd on loopback, and atsr -s on the server side.
import { shQuote } from '../../src/shell-quote.js';
import { AtsrSandbox, waitUntil } from './atsr-sandbox.js';
import { atsrCommand, rezumeCommand } from './atsr-bin.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { PtyRun } from './pty-harness.js';
import { type Sshd, startSshd } from './sshd-fixture.js';

export class ResumeRig {
  private readonly clients: PtyRun[] = [];

  private constructor(
    readonly sshd: Sshd,
    readonly proxy: FaultProxy,
    readonly box: AtsrSandbox,
  ) {}

  static async start(name: string): Promise<ResumeRig> {
    const sshd = await startSshd();
    const proxy = await startFaultProxy({ targetPort: sshd.port });
    return new ResumeRig(sshd, proxy, new AtsrSandbox(name));
  }

  /** The remote command: the session under `atsr -t -f -s`, as rezumable runs it. */
  remoteCommand(command: string[], atsrOptions: string[] = []): string {
    return [...atsrCommand(), '-u', this.box.sockets, ...atsrOptions, '-i', 'ATSR_ID', '-t', '-f', '-s', ...command]
      .map(shQuote)
      .join(' ');
  }

  /** rezume through the proxy, with fast keepalives so outages are noticed in ~2 s. */
  rezume(remote: string, opts: { rezumeOptions?: string[]; cols?: number; rows?: number; env?: Record<string, string> } = {}): PtyRun {
    const ssh = this.sshd.sshArgs(['-p', String(this.proxy.port)]);
    const run = new PtyRun(
      [...rezumeCommand(), '--alive-interval', '1', '--alive-count', '2', ...(opts.rezumeOptions ?? []), ...ssh, this.sshd.destination, remote],
      { env: this.box.env(opts.env), cols: opts.cols, rows: opts.rows },
    );
    this.clients.push(run);
    return run;
  }

  /** Ends every rezume started so far, so that the next test has the proxy to itself. */
  /** The session a rezume just started (the name it sent as ATSR_ID): the one listed that is not in `before`. */
  async newSession(before: Set<string>): Promise<string> {
    let name: string | undefined;
    await waitUntil('the session is listed', async () => {
      name = (await this.box.list()).find((s) => !before.has(s.name))?.name;
      return name !== undefined;
    });
    return name!;
  }

  endClients(): void {
    for (const c of this.clients.splice(0)) c.kill('SIGKILL');
    this.proxy.setMode('pass');
  }

  async stop(): Promise<void> {
    this.endClients();
    await this.box.cleanup();
    await this.proxy.close();
    await this.sshd.stop();
  }
}
