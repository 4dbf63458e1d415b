import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import type { CacheMessage, MessageType, Stored } from './protocol.js';

/**
 * CACHE bus frames (type 6): a batch of coherence messages from one node to another, tagged with
 * the sender's ring epoch. A receiver in another epoch drops the batch: its lines and directory
 * entries belong to a ring that no longer exists (the service flushes on every epoch change).
 *
 * ```
 * u8 version (1) | varint epoch | varint n | n × message
 * message: u8 type | string key | string from | string to | varint requestId | type's fields
 *   PutM, PutO, WbData: value      FwdGetS, Inv: string requester
 *   FwdGetM: string requester | varint acks      AckCount: varint acks
 *   Data: u8 grant (0 S, 1 E, 2 M) | varint acks | value
 * value: u8 tag (0 nil, 1 UTF-8 string, 2 bytes) | bytes
 * ```
 */

const VERSION = 1;
const TYPES: readonly MessageType[] = [
  'GetS',
  'GetM',
  'PutS',
  'PutE',
  'PutM',
  'PutO',
  'Unblock',
  'WbData',
  'FwdGetS',
  'FwdGetM',
  'Inv',
  'InvAck',
  'Data',
  'AckCount',
  'PutAck',
];
const GRANTS = ['S', 'E', 'M'] as const;
/** Keys as long as Redis allows; node ids as the bus handshake allows. */
export const MAX_CACHE_KEY_BYTES = 512 * 1024 * 1024;
const MAX_NODE_ID_BYTES = 255;
const MAX_BATCH = 1_000_000;

export interface CacheBatch {
  readonly epoch: number;
  readonly messages: readonly CacheMessage[];
}

export function encodeCacheBatch(batch: CacheBatch): Uint8Array {
  let capacity = 16;
  for (const m of batch.messages) capacity += 48 + m.key.length * 3 + valueCapacity(m);
  const w = new ByteWriter(capacity);
  w.byte(VERSION);
  w.varint(batch.epoch);
  w.varint(batch.messages.length);
  for (const m of batch.messages) writeMessage(w, m);
  return w.finish();
}

export function decodeCacheBatch(bytes: Uint8Array): CacheBatch {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new CodecError(`unknown cache frame version ${version}`);
  const epoch = r.varint();
  const n = r.varint();
  if (n > MAX_BATCH) throw new CodecError(`cache batch of ${n} messages`);
  const messages: CacheMessage[] = [];
  for (let i = 0; i < n; i++) messages.push(readMessage(r));
  r.expectEnd();
  return { epoch, messages };
}

function valueCapacity(m: CacheMessage): number {
  if (!('value' in m) || m.value === null) return 0;
  return typeof m.value === 'string' ? m.value.length * 3 : m.value.byteLength;
}

function writeMessage(w: ByteWriter, m: CacheMessage): void {
  w.byte(TYPES.indexOf(m.type));
  w.string(m.key, MAX_CACHE_KEY_BYTES, 'key');
  w.string(m.from, MAX_NODE_ID_BYTES, 'node id');
  w.string(m.to, MAX_NODE_ID_BYTES, 'node id');
  w.varint(m.requestId);
  switch (m.type) {
    case 'PutM':
    case 'PutO':
    case 'WbData':
      writeValue(w, m.value);
      break;
    case 'FwdGetS':
    case 'Inv':
      w.string(m.requester, MAX_NODE_ID_BYTES, 'node id');
      break;
    case 'FwdGetM':
      w.string(m.requester, MAX_NODE_ID_BYTES, 'node id');
      w.varint(m.acks);
      break;
    case 'AckCount':
      w.varint(m.acks);
      break;
    case 'Data':
      w.byte(GRANTS.indexOf(m.grant));
      w.varint(m.acks);
      writeValue(w, m.value);
      break;
    default:
      break;
  }
}

function readMessage(r: ByteReader): CacheMessage {
  const type = TYPES[r.byte()];
  if (type === undefined) throw new CodecError('unknown cache message type');
  const base = {
    key: r.string(MAX_CACHE_KEY_BYTES, 'key'),
    from: r.string(MAX_NODE_ID_BYTES, 'node id'),
    to: r.string(MAX_NODE_ID_BYTES, 'node id'),
    requestId: r.varint(),
  };
  switch (type) {
    case 'PutM':
    case 'PutO':
    case 'WbData':
      return { type, ...base, value: readValue(r) };
    case 'FwdGetS':
    case 'Inv':
      return { type, ...base, requester: r.string(MAX_NODE_ID_BYTES, 'node id') };
    case 'FwdGetM':
      return { type, ...base, requester: r.string(MAX_NODE_ID_BYTES, 'node id'), acks: r.varint() };
    case 'AckCount':
      return { type, ...base, acks: r.varint() };
    case 'Data': {
      const grant = GRANTS[r.byte()];
      if (grant === undefined) throw new CodecError('unknown grant');
      return { type, ...base, grant, acks: r.varint(), value: readValue(r) };
    }
    default:
      return { type, ...base };
  }
}

function writeValue(w: ByteWriter, v: Stored): void {
  if (v === null) {
    w.byte(0);
  } else if (typeof v === 'string') {
    w.byte(1);
    w.string(v, MAX_CACHE_KEY_BYTES, 'value');
  } else {
    w.byte(2);
    w.bytes(v);
  }
}

function readValue(r: ByteReader): Stored {
  const tag = r.byte();
  if (tag === 0) return null;
  if (tag === 1) return r.string(MAX_CACHE_KEY_BYTES, 'value');
  if (tag === 2) {
    // bytes() copies into a buffer of their own: the Buffer view shares it, not the frame.
    const b = r.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  throw new CodecError(`unknown value tag ${tag}`);
}
