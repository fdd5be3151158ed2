// The messages carried in frames (docs/protocol.md, part 1). Control messages
// are JSON objects (unknown fields are ignored, so either side may add some
// in a later version); data frames carry raw bytes; resize is binary.
import type { DetachKeys } from '../front/detach-key.js';
import { type Frame, FrameType, type FrameTypeValue, ProtocolError, encodeFrame } from './frames.js';

export interface AttachRequest {
  /** Protocol version the front speaks. */
  v: number;
  readOnly: boolean;
  force: boolean;
  /** The front will send a sync frame (its rx) before output starts. */
  sync: boolean;
  rows: number;
  cols: number;
  /** Where the client connects from (SSH_CLIENT's first word), for -l and utmp. */
  clientAddr: string;
  /** The front's SSH_AUTH_SOCK, which the session's stable agent path follows. */
  agentSocket: string;
  updateUtmp: boolean;
}

/** The first Part 1 version whose host runs the in-band handshake and serves the relay. */
export const RELAY_PROTOCOL_VERSION = 2;

/** Version 2: the host runs the in-band handshake, and serves the native relay (src/relay/). */
export interface AttachRequestV2 extends Omit<AttachRequest, 'v' | 'sync'> {
  v: 2;
  /** The client speaks Part 2 (it sent ATSR_ID): the host runs the handshake. */
  inband: boolean;
  /** The front's TERM: which terminal reset (and repaint) the host may send. */
  term: string;
  /** The detach key or sequence the host applies to this client's input. */
  detach: DetachKeys;
  /**
   * A plain attach (not inband) whose front showed the screen up to this
   * output offset (docs/protocol.md, "The screen on attach"): the stream
   * starts there. Absent: from what no client was sent.
   */
  from?: number;
  /** The program is asked to redraw on a read-write plain attach (`-R winch|ctrl_l`). */
  redraw?: 'winch' | 'ctrl_l';
}

/** end (v2): the relay exits with `code` after writing `message` (if any) and a newline to stderr. */
export interface EndNotice {
  code: number;
  message: string;
}

export interface Welcome {
  v: number;
  name: string;
  /** False when this attach created the session. */
  resumed: boolean;
  out: number;
  in: number;
  bufferSize: number;
}

export interface SyncRequest {
  /** Output the client has already received, or null for "whatever no client was sent". */
  rx: number | null;
}

export interface Loss {
  /** Bytes of output the ring no longer held. */
  lost: number;
  /** The offset the stream continues from. */
  from: number;
}

export interface ExitNotice {
  status: number;
  /** The final output offset: everything before it was sent first. */
  out: number;
}

export interface Refused {
  reason: 'busy' | 'exiting' | 'protocol';
  message: string;
}

export interface Detached {
  reason: 'taken-over' | 'hung-up';
  message: string;
}

export interface SessionStatus {
  /** The host's protocol version; absent before version 2. */
  v?: number;
  name: string;
  pid: number;
  owner: string;
  uid: number;
  command: string[];
  createdAt: string;
  attached: boolean;
  viewers: number;
  detachedSince: string | null;
  clientAddr: string;
  exited: boolean;
  exitStatus: number | null;
  out: number;
  in: number;
  bufferSize: number;
}

export interface Resize {
  rows: number;
  cols: number;
}

// ---- encoding -------------------------------------------------------------

export const encodeJson = (type: FrameTypeValue, msg: object): Buffer =>
  encodeFrame(type, Buffer.from(JSON.stringify(msg), 'utf8'));

export function encodeResize(size: Resize): Buffer {
  const p = Buffer.allocUnsafe(4);
  p.writeUInt16BE(size.rows, 0);
  p.writeUInt16BE(size.cols, 2);
  return encodeFrame(FrameType.resize, p);
}

export function encodeEnd(end: EndNotice): Buffer {
  return encodeFrame(FrameType.end, Buffer.concat([Buffer.from([end.code & 0xff]), Buffer.from(end.message, 'utf8')]));
}

// ---- decoding with validation ----------------------------------------------

type Shape = Record<string, 'number' | 'boolean' | 'string' | 'offset' | 'offset|null' | 'string[]' | 'string|null' | 'number|null'>;

function parseObject(frame: Frame): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(frame.payload.toString('utf8'));
  } catch {
    throw new ProtocolError(`frame 0x${frame.type.toString(16)}: payload is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError(`frame 0x${frame.type.toString(16)}: payload is not an object`);
  }
  return value as Record<string, unknown>;
}

const isOffset = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

function check(frame: Frame, shape: Shape): Record<string, unknown> {
  const obj = parseObject(frame);
  for (const [key, kind] of Object.entries(shape)) {
    const v = obj[key];
    const ok =
      kind === 'offset' ? isOffset(v)
      : kind === 'offset|null' ? v === null || isOffset(v)
      : kind === 'string[]' ? Array.isArray(v) && v.every((s) => typeof s === 'string')
      : kind === 'string|null' ? v === null || typeof v === 'string'
      : kind === 'number|null' ? v === null || typeof v === 'number'
      : typeof v === kind;
    if (!ok) throw new ProtocolError(`frame 0x${frame.type.toString(16)}: field '${key}' is missing or not ${kind}`);
  }
  return obj;
}

export const decodeAttach = (f: Frame): AttachRequest =>
  check(f, {
    v: 'offset', readOnly: 'boolean', force: 'boolean', sync: 'boolean', rows: 'offset', cols: 'offset',
    clientAddr: 'string', agentSocket: 'string', updateUtmp: 'boolean',
  }) as unknown as AttachRequest;

/** The version an attach frame declares (its JSON's `v`), for picking its decoder. */
export const attachVersion = (f: Frame): number => {
  const v = parseObject(f).v;
  return Number.isSafeInteger(v) ? (v as number) : 1;
};

export function decodeAttachV2(f: Frame): AttachRequestV2 {
  const req = check(f, {
    v: 'offset', readOnly: 'boolean', force: 'boolean', rows: 'offset', cols: 'offset', clientAddr: 'string',
    agentSocket: 'string', updateUtmp: 'boolean', inband: 'boolean', term: 'string',
  }) as unknown as AttachRequestV2;
  if (!isDetachRule(req.detach)) throw new ProtocolError(`frame 0x${f.type.toString(16)}: field 'detach' is not a detach rule`);
  if (req.from !== undefined && !isOffset(req.from)) throw new ProtocolError(`frame 0x${f.type.toString(16)}: field 'from' is not an offset`);
  if (req.redraw !== undefined && req.redraw !== 'winch' && req.redraw !== 'ctrl_l') {
    throw new ProtocolError(`frame 0x${f.type.toString(16)}: field 'redraw' is not winch or ctrl_l`);
  }
  return req;
}

function isDetachRule(d: unknown): d is DetachKeys {
  if (typeof d !== 'object' || d === null) return false;
  const r = d as Record<string, unknown>;
  if (r.kind === 'none' || r.kind === 'escape') return true;
  return r.kind === 'key' && Number.isInteger(r.key) && (r.key as number) >= 0 && (r.key as number) <= 0xff;
}

export function decodeEnd(f: Frame): EndNotice {
  if (f.payload.length < 1) throw new ProtocolError('end frame without an exit code');
  return { code: f.payload[0]!, message: f.payload.subarray(1).toString('utf8') };
}

export const decodeWelcome = (f: Frame): Welcome =>
  check(f, { v: 'offset', name: 'string', resumed: 'boolean', out: 'offset', in: 'offset', bufferSize: 'offset' }) as unknown as Welcome;

export const decodeSync = (f: Frame): SyncRequest => check(f, { rx: 'offset|null' }) as unknown as SyncRequest;

export const decodeLoss = (f: Frame): Loss => check(f, { lost: 'offset', from: 'offset' }) as unknown as Loss;

export const decodeExit = (f: Frame): ExitNotice => check(f, { status: 'offset', out: 'offset' }) as unknown as ExitNotice;

export const decodeRefused = (f: Frame): Refused => check(f, { reason: 'string', message: 'string' }) as unknown as Refused;

export const decodeDetached = (f: Frame): Detached => check(f, { reason: 'string', message: 'string' }) as unknown as Detached;

export const decodeStatus = (f: Frame): SessionStatus =>
  check(f, {
    name: 'string', pid: 'offset', owner: 'string', uid: 'offset', command: 'string[]', createdAt: 'string',
    attached: 'boolean', viewers: 'offset', detachedSince: 'string|null', clientAddr: 'string', exited: 'boolean',
    exitStatus: 'number|null', out: 'offset', in: 'offset', bufferSize: 'offset',
  }) as unknown as SessionStatus;

export function decodeResize(f: Frame): Resize {
  if (f.payload.length !== 4) throw new ProtocolError(`resize frame has ${f.payload.length} bytes, not 4`);
  const rows = f.payload.readUInt16BE(0);
  const cols = f.payload.readUInt16BE(2);
  if (rows === 0 || cols === 0) throw new ProtocolError('resize frame with a zero dimension');
  return { rows, cols };
}
