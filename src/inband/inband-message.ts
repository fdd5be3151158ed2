// The in-band control messages carried inside the terminal stream over ssh
// (docs/protocol.md, part 2): APC strings, which terminals ignore,
//   ESC _ atsr:1;<kind>;key=value;... ESC \
export const INBAND_PREFIX = Buffer.from('\x1b_atsr:1;', 'latin1');
export const INBAND_END = Buffer.from('\x1b\\', 'latin1');
/** No message is longer than this (prefix and terminator included). */
export const INBAND_MAX_BYTES = 256;

export type InbandMessage =
  | { kind: 'hello'; id: string; resumed: boolean; out: number; in: number; buf: number }
  | { kind: 'sync'; rx: number }
  | { kind: 'loss'; lost: number; from: number }
  | { kind: 'exit'; status: number; out: number }
  | { kind: 'error'; message: string }
  /** The client got the exit notice: the session may end for good. */
  | { kind: 'bye' };

const NUMBER_FIELDS: Record<InbandMessage['kind'], string[]> = {
  hello: ['out', 'in', 'buf'],
  sync: ['rx'],
  loss: ['lost', 'from'],
  exit: ['status', 'out'],
  error: [],
  bye: [],
};

export function encodeInband(m: InbandMessage): Buffer {
  const fields = Object.entries(m)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : String(v).replace(/[\x00-\x1f\x7f;=\\]/g, ' ')}`);
  return Buffer.concat([INBAND_PREFIX, Buffer.from([m.kind, ...fields].join(';'), 'latin1'), INBAND_END]);
}

/** Parses the text between the prefix and ESC \; undefined when it is not a valid message. */
export function parseInband(body: string): InbandMessage | undefined {
  const [kind, ...parts] = body.split(';');
  if (kind === undefined || !Object.hasOwn(NUMBER_FIELDS, kind)) return undefined;
  const f: Record<string, string> = {};
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    f[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const num: Record<string, number> = {};
  for (const key of NUMBER_FIELDS[kind as InbandMessage['kind']]) {
    const v = f[key];
    if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
    num[key] = Number(v);
  }
  switch (kind) {
    case 'hello':
      if (!f.id || (f.resumed !== '0' && f.resumed !== '1')) return undefined;
      return { kind, id: f.id, resumed: f.resumed === '1', out: num.out!, in: num.in!, buf: num.buf! };
    case 'sync':
      return { kind, rx: num.rx! };
    case 'loss':
      return { kind, lost: num.lost!, from: num.from! };
    case 'exit':
      return { kind, status: num.status!, out: num.out! };
    case 'bye':
      return { kind };
    default:
      return { kind: 'error', message: f.message ?? '' };
  }
}
