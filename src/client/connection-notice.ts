// Telling the user about connection trouble without touching the session's
// screen: the terminal's window title (pushed and popped, so the title the
// program set comes back), plus a status line drawn between save-cursor and
// restore-cursor only when asked for (--status-line). What the user must not
// miss once it has happened (keys were dropped) is also said on a line.
export class ConnectionNotice {
  private shown = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly statusLine: boolean,
    private readonly rows: () => number,
  ) {}

  show(text: string): void {
    const clean = text.replace(/[\x00-\x1f\x7f]/g, ' ');
    let s = this.shown ? '' : '\x1b[22;0t'; // push the title
    s += `\x1b]2;rezume: ${clean}\x07`;
    if (this.statusLine) s += `\x1b7\x1b[${this.rows()};1H\x1b[2K\x1b[7m rezume: ${clean} \x1b[0m\x1b8`;
    this.shown = true;
    this.write(s);
  }

  /** A line of its own in the terminal, at the start of the next line. */
  say(text: string): void {
    this.write(`\r\nrezume: ${text.replace(/[\x00-\x1f\x7f]/g, ' ')}\r\n`);
  }

  clear(): void {
    if (!this.shown) return;
    this.shown = false;
    let s = '\x1b[23;0t'; // pop the title
    if (this.statusLine) s += `\x1b7\x1b[${this.rows()};1H\x1b[2K\x1b8`;
    this.write(s);
  }
}
