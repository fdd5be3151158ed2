// An attach frame built by hand, byte by byte, for tests that play a
// misbehaving front on the host socket (one that never syncs, or stops reading).
export function rawAttachFrame(sync: boolean): Buffer {
  const json = JSON.stringify({ v: 1, readOnly: false, force: false, sync, rows: 24, cols: 80, clientAddr: '', agentSocket: '', updateUtmp: false });
  const header = Buffer.from([0x01, 0, 0, 0, 0]); // type attach, then the payload length
  header.writeUInt32BE(Buffer.byteLength(json), 1);
  return Buffer.concat([header, Buffer.from(json)]);
}
