// The server side of the in-band resume handshake (docs/protocol.md, part 2).
import type { AtsrOptions } from '../cli/options.js';
import type { SyncHandshake } from '../front/attach-session.js';

export function makeFrontHandshake(_opts: AtsrOptions): SyncHandshake | undefined {
  return undefined;
}
