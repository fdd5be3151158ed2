// The in-band control messages carried inside the terminal stream over ssh
// (docs/protocol.md, part 2): APC strings, which terminals ignore,
//   ESC _ atsr:1;<kind>;key=value;... ESC \
export const INBAND_PREFIX = Buffer.from('\x1b_atsr:1;', 'latin1');
export const INBAND_END = Buffer.from('\x1b\\', 'latin1');
/** No message is longer than this (prefix and terminator included). */
export const INBAND_MAX_BYTES = 256;

/**
 * The connection's nonce: 16 lowercase hex digits, chosen by the server per
 * hello. A message carrying it belongs to this connection; one without it
 * comes from (or is meant for) an older peer.
 */
export type Nonce = string;
export const NONCE_PATTERN = /^[0-9a-f]{16}$/;

/** Every message may carry the connection's nonce `n`, written last. */
export type InbandMessage = (
  | { kind: 'hello'; id: string; resumed: boolean; out: number; in: number; buf: number }
  | { kind: 'sync'; rx: number }
  | { kind: 'loss'; lost: number; from: number }
  /** The stream starts at offset `from`, not at the client's rx. */
  | { kind: 'start'; from: number }
  | { kind: 'exit'; status: number; out: number }
  | { kind: 'error'; message: string }
  /** The client got the exit notice: the session may end for good. */
  | { kind: 'bye' }
  /** The user closed the client's terminal: hang the session up. */
  | { kind: 'hangup' }
) & { n?: Nonce };

const NUMBER_FIELDS: Record<InbandMessage['kind'], string[]> = {
  hello: ['out', 'in', 'buf'],
  sync: ['rx'],
  loss: ['lost', 'from'],
  start: ['from'],
  exit: ['status', 'out'],
  error: [],
  bye: [],
  hangup: [],
};

export function encodeInband(m: InbandMessage): Buffer {
  const { n, ...rest } = m;
  const fields = Object.entries(n === undefined ? rest : { ...rest, n })
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
  if (f.n !== undefined && !NONCE_PATTERN.test(f.n)) return undefined;
  const base = parseFields(kind as InbandMessage['kind'], f);
  return base && (f.n === undefined ? base : { ...base, n: f.n });
}

function parseFields(kind: InbandMessage['kind'], f: Record<string, string>): InbandMessage | undefined {
  const num: Record<string, number> = {};
  for (const key of NUMBER_FIELDS[kind]) {
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
    case 'start':
      return { kind, from: num.from! };
    case 'exit':
      return { kind, status: num.status!, out: num.out! };
    case 'bye':
    case 'hangup':
      return { kind };
    default:
      return { kind: 'error', message: f.message ?? '' };
  }
}
