// The session host's pty and command, in place of node-pty's UnixTerminal.
// The command is started by node-pty's native fork (forkpty: setsid, the
// slave as controlling tty, its termios, env, cwd and size), but the master
// is read here, with a socket's `onread`: every read lands in one reused
// buffer and is handed over at once, where node-pty's stream allocated and
// shrank a 64 KiB buffer per read and passed it through Readable's queue
// (docs/benchmarks.md, "Host output path"). Nothing read is ever held here,
// so the master may also be read directly (OutputFlow's read-on) whenever
// this reader reads, without overtaking anything.
import { ReadStream } from 'node:tty';
import { loadNativeModule } from './native-loader.js';

/** What node-pty's pty.node offers that we use (node-pty 1.1.0, src/unix/pty.cc). */
interface NativePty {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onexit: (code: number, signal: number) => void,
  ): { fd: number; pid: number; pty: string };
  resize(fd: number, cols: number, rows: number): void;
}

/**
 * A read asks for at most this much: a pty gives ~4 KiB per read while its
 * reader keeps up, more only after a pause let its buffer fill.
 */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * After the command exited, the master ends (EIO) once no process holds the
 * slave any more; a background child that keeps it open would keep the exit
 * from being reported, so the reader is closed after this long (as node-pty).
 */
const READER_END_LIMIT_MS = 200;

export interface PtyOptions {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  cols: number;
  rows: number;
}

export interface PtyEvents {
  /** `length` bytes read from the master into `buf`; valid only during the call. */
  onData(buf: Buffer, length: number): void;
  /** The command exited and everything it wrote was handed to onData. */
  onExit(code: number, signal: number): void;
  /** A read failed otherwise than with the hang-up (EIO) that ends every session. */
  onReadError(err: Error): void;
}

export class PtyProcess {
  readonly pid: number;
  /** The master; a number only while `open`, after that it may be another file's. */
  readonly fd: number;
  private readonly native = loadNativeModule('pty').module as NativePty;
  private readonly reader: ReadStream;
  private readonly buf = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  private exit: { code: number; signal: number } | undefined;
  private readerEnded = false;
  private paused = false;
  private readerEndLimit: NodeJS.Timeout | undefined;

  constructor(
    options: PtyOptions,
    private readonly events: PtyEvents,
  ) {
    // As node-pty's spawn: the command learns its directory and terminal type from these.
    const env = { ...options.env, PWD: options.cwd, TERM: options.env.TERM || 'xterm' };
    const pairs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    // utf8 false: node-pty sets IUTF8 only for a text (not a Buffer) stream; the helper path is for macOS.
    const term = this.native.fork(options.file, options.args, pairs, options.cwd, options.cols, options.rows, -1, -1, false, '', this.onChildExit);
    this.pid = term.pid;
    this.fd = term.fd;
    this.reader = new ReadStream(term.fd, { onread: { buffer: this.buf, callback: this.onRead } });
    this.reader.on('error', this.onReaderError);
    this.reader.on('close', this.onReaderClose);
    this.startReading();
  }

  /** Whether the master is still open (the reader closes it when it ends). */
  get open(): boolean {
    return !this.reader.destroyed;
  }

  /** Whether the master is being read: open, and not paused. */
  get reading(): boolean {
    return !this.paused && this.open;
  }

  /** Stops reading: the command blocks once the pty is full. */
  pause(): void {
    this.paused = true;
    this.reader.pause();
  }

  resume(): void {
    this.paused = false;
    this.startReading();
  }

  /**
   * With `onread`, a socket's read() starts its handle reading at once. Not
   * resume(): Readable's resume also starts it on the next tick, which would
   * undo a pause() made in this one (a creator hold, a client's backpressure).
   */
  private startReading(): void {
    this.reader.read(0);
  }

  resize(cols: number, rows: number): void {
    if (!this.open) throw new Error('the pty is closed');
    this.native.resize(this.fd, cols, rows);
  }

  /**
   * Closes the master (the kernel hangs the line up once no copy is left
   * open: the utmp recorder closes its own as the session hangs up), then
   * sends the command SIGHUP itself, unless it already exited: its PID may
   * be reaped and reused.
   */
  close(): void {
    this.reader.once('close', () => {
      if (this.exit) return;
      try {
        process.kill(this.pid, 'SIGHUP');
      } catch {
        // Gone meanwhile.
      }
    });
    this.reader.destroy();
  }

  /** Returns true: reading goes on (pause() is what stops it). */
  private readonly onRead = (length: number): boolean => {
    this.events.onData(this.buf, length);
    return true;
  };

  private readonly onReaderError = (err: NodeJS.ErrnoException): void => {
    // EIO: the last holder of the slave closed it, the normal end. The stream is destroyed either way.
    if (err.code !== 'EIO') this.events.onReadError(err);
  };

  private readonly onReaderClose = (): void => {
    this.readerEnded = true;
    clearTimeout(this.readerEndLimit);
    this.reportExit();
  };

  private readonly onChildExit = (code: number, signal: number): void => {
    this.exit = { code, signal };
    if (this.readerEnded) return this.reportExit();
    this.readerEndLimit = setTimeout(() => this.reader.destroy(), READER_END_LIMIT_MS);
  };

  /** Reports the exit once both the command exited and the reader ended. */
  private reportExit(): void {
    if (this.exit && this.readerEnded) this.events.onExit(this.exit.code, this.exit.signal);
  }
}
