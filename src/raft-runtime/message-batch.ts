import { ByteReader, ByteWriter } from '../lib/byte-codec.js';
import { decodeMessage, encodeMessage } from '../raft/codec.js';
import type { Message } from '../raft/types.js';

/**
 * Raft messages of every group bound for one peer in one processing round travel as one bus
 * frame: a count, then each message length-prefixed. Idle groups' heartbeats to the same peer
 * thereby share a frame (and a syscall) instead of costing one each.
 */
export function encodeMessageBatch(messages: readonly Message[]): Uint8Array {
  const encoded = messages.map(encodeMessage);
  let size = 8;
  for (const e of encoded) size += e.byteLength + 5;
  const w = new ByteWriter(size);
  w.varint(encoded.length);
  for (const e of encoded) w.bytes(e);
  return w.finish();
}

/** Throws `CodecError` on anything malformed; the caller drops the peer's frame. */
export function decodeMessageBatch(payload: Uint8Array): Message[] {
  const r = new ByteReader(payload);
  const n = r.count(2);
  const out: Message[] = [];
  // Each message is decoded (its byte fields copied) at once, so a view suffices here.
  for (let i = 0; i < n; i++) out.push(decodeMessage(r.bytesView()));
  r.expectEnd();
  return out;
}
