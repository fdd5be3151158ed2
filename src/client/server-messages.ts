// Protocol v2's in-band messages as the client needs them (docs/protocol.md
// part 2, the per-hello nonce `n`, `start` and `hangup`). A local reading of
// the scanner's parts until src/inband/inband-message.ts gains the same
// shape (branch host2): then readMessage becomes `'message' in part`.
import { INBAND_END, INBAND_PREFIX, type InbandMessage, parseInband } from '../inband/inband-message.js';
import type { ScanPart } from '../inband/inband-scanner.js';

export type V2Message =
  | (InbandMessage & { n?: string })
  | { kind: 'start'; from: number; n?: string }
  | { kind: 'hangup'; n?: string };

function fieldsOf(parts: string[]): Map<string, string> | undefined {
  const f = new Map<string, string>();
  for (const p of parts) {
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    f.set(p.slice(0, eq), p.slice(eq + 1));
  }
  return f;
}

function parseV2(body: string): V2Message | undefined {
  const [kind, ...parts] = body.split(';');
  const f = fieldsOf(parts);
  if (f === undefined) return undefined;
  const n = f.get('n');
  const withNonce = <M extends object>(m: M): M & { n?: string } => (n === undefined ? m : { ...m, n });
  if (kind === 'start') {
    const from = f.get('from');
    return from !== undefined && /^\d{1,15}$/.test(from) ? withNonce({ kind: 'start' as const, from: Number(from) }) : undefined;
  }
  if (kind === 'hangup') return withNonce({ kind: 'hangup' as const });
  const m = parseInband(body);
  return m === undefined ? undefined : withNonce(m);
}

/** The message a scanner part holds, with its nonce; undefined for plain bytes. */
export function readMessage(part: ScanPart): V2Message | undefined {
  const whole = 'raw' in part ? part.raw : 'malformed' in part ? part.malformed : undefined;
  if (whole === undefined || !whole.subarray(0, INBAND_PREFIX.length).equals(INBAND_PREFIX)) return undefined;
  if (whole.length < INBAND_PREFIX.length + INBAND_END.length || !whole.subarray(whole.length - INBAND_END.length).equals(INBAND_END)) return undefined;
  return parseV2(whole.subarray(INBAND_PREFIX.length, whole.length - INBAND_END.length).toString('latin1'));
}

/** The bytes of a client message (as encodeInband writes them). */
export function encodeV2(m: V2Message): Buffer {
  const fields = Object.entries(m)
    .filter(([k, v]) => k !== 'kind' && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 1 : 0) : String(v).replace(/[\x00-\x1f\x7f;=\\]/g, ' ')}`);
  return Buffer.concat([INBAND_PREFIX, Buffer.from([m.kind, ...fields].join(';'), 'latin1'), INBAND_END]);
}

/** The bytes of a scanner part, as they came. */
export const partBytes = (part: ScanPart): Buffer => ('plain' in part ? part.plain : 'raw' in part ? part.raw : part.malformed);
