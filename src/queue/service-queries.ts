import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import { MAX_POP_COUNT, MAX_QUEUE_NAME_BYTES } from './commands.js';

/**
 * The read-only requests of the queue service, answered by a node that hosts a replica of the
 * queue's partition (the cluster's `query` forward): reads after a ReadIndex barrier, and
 * `wait`, which returns once the queue has ready messages on that replica or time is up.
 *
 * ```
 * u8 version (1) | u8 op | string queue | varint count (peek, dead; else 0)
 * ```
 */
export type QueueQuery =
  | { readonly op: 'len' | 'stats' | 'config' | 'wait'; readonly queue: string }
  | { readonly op: 'peek' | 'dead'; readonly queue: string; readonly count: number };

const VERSION = 1;
const OPS = ['len', 'stats', 'config', 'wait', 'peek', 'dead'] as const;

export function encodeQueueQuery(q: QueueQuery): Uint8Array {
  const w = new ByteWriter(16 + q.queue.length);
  w.byte(VERSION);
  w.byte(OPS.indexOf(q.op));
  w.string(q.queue, MAX_QUEUE_NAME_BYTES, 'queue name');
  w.varint(q.op === 'peek' || q.op === 'dead' ? q.count : 0);
  return w.finish();
}

export function decodeQueueQuery(bytes: Uint8Array): QueueQuery {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new CodecError(`unknown queue query version ${version}`);
  const op = OPS[r.byte()];
  if (op === undefined) throw new CodecError('unknown queue query op');
  const queue = r.string(MAX_QUEUE_NAME_BYTES, 'queue name');
  const count = r.varint();
  r.expectEnd();
  if (op === 'peek' || op === 'dead') {
    if (count < 1 || count > MAX_POP_COUNT) throw new CodecError(`count ${count} out of range`);
    return { op, queue, count };
  }
  return { op, queue };
}
