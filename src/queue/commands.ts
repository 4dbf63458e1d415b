import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';

/**
 * The commands of the queue state machine (state-machine.ts), and their entry encoding. They
 * live in a partition group's log, so the encoding is binary, versioned and validated field by
 * field: a command that encodes always decodes to an equal command, whatever decodes re-encodes
 * to the same bytes, and garbage throws one `QueueCodecError`.
 *
 * ```
 * u8 version (1) | u8 op | fields
 * push   (1)  string queue | varint delayMs | u8 flags (1 dedupKey, 2 maxLength) | [string dedupKey] | varint n | n × bytes payload | [varint maxLength]
 * pop    (2)  string queue | varint count | bool hasVisibility | [varint visibilityMs]
 * ack    (3)  string queue | varint n | n × (varint index | varint pos)
 * nack   (4)  string queue | varint index | varint pos | varint delayMs
 * extend (5)  string queue | varint index | varint pos | varint ms
 * config (6)  string queue | u8 mask (1 maxDeliveries, 2 visibilityMs, 4 maxLen) | the masked fields, in that order
 * tick   (7)
 * redrive (8) string queue | varint count | bool drop
 * ```
 * Queue names and dedup keys are 1..1024 bytes of well-formed UTF-8; message ids are
 * `${index}-${pos}` (index 1..2^53 - 1, pos 0..9999, no leading zeros) and travel as two
 * varints. Bounds are in `QUEUE_LIMITS`.
 */

export type QueueCommand =
  /** delayMs 0: ready at once; otherwise delayed until timeMs + delayMs. */
  | {
      readonly op: 'push';
      readonly queue: string;
      readonly payloads: readonly Uint8Array[];
      readonly dedupKey?: string;
      readonly delayMs: number;
      /**
       * The proposing node's `queue-max-length`: the push is refused if the queue would hold more
       * messages than this, dead letters included. It travels in the entry so every replica
       * decides the same, whatever its own configuration. Absent in entries written before it.
       */
      readonly maxLength?: number;
    }
  /** visibilityMs undefined: the queue's configured visibility. */
  | { readonly op: 'pop'; readonly queue: string; readonly count: number; readonly visibilityMs?: number }
  | { readonly op: 'ack'; readonly queue: string; readonly ids: readonly string[] }
  | { readonly op: 'nack'; readonly queue: string; readonly id: string; readonly delayMs: number }
  | { readonly op: 'extend'; readonly queue: string; readonly id: string; readonly ms: number }
  /** Fields left out keep their value; with none it only reports. */
  | {
      readonly op: 'config';
      readonly queue: string;
      readonly maxDeliveries?: number;
      readonly visibilityMs?: number;
      readonly maxLen?: number;
    }
  /** Carries only the leader's time: whatever is due by then is processed. */
  | { readonly op: 'tick' }
  /**
   * The `count` oldest dead letters go back to ready with their delivery count reset (a
   * redrive, after the cause was fixed), or with `drop` are deleted.
   */
  | { readonly op: 'redrive'; readonly queue: string; readonly count: number; readonly drop: boolean };

export type QueueOp = QueueCommand['op'];

export class QueueCodecError extends CodecError {
  override name = 'QueueCodecError';
}

export const MAX_QUEUE_NAME_BYTES = 1024;
export const MAX_DEDUP_KEY_BYTES = 1024;
export const MAX_POP_COUNT = 10_000;
export const MAX_ACK_IDS = 10_000;
export const MAX_PUSH_PAYLOADS = 10_000;
export const MAX_PAYLOAD_BYTES = 512 * 1024;
/**
 * All payloads of one push together. The entry must fit one bus frame (16 MiB) with room for
 * the Raft message around it: a bigger one was committed by no follower and wedged its partition.
 */
export const MAX_PUSH_BYTES = 8 * 1024 * 1024;
/** 7 days: the bound of every delay, visibility and extension. */
export const MAX_QUEUE_MS = 7 * 86_400_000;
export const MAX_MAX_DELIVERIES = 1_000_000;
export const MAX_MAX_LEN = 1_000_000_000;

export const QUEUE_LIMITS = {
  maxQueueNameBytes: MAX_QUEUE_NAME_BYTES,
  maxDedupKeyBytes: MAX_DEDUP_KEY_BYTES,
  maxPopCount: MAX_POP_COUNT,
  maxAckIds: MAX_ACK_IDS,
  maxPushPayloads: MAX_PUSH_PAYLOADS,
  maxPayloadBytes: MAX_PAYLOAD_BYTES,
  maxPushBytes: MAX_PUSH_BYTES,
  maxMs: MAX_QUEUE_MS,
  maxMaxDeliveries: MAX_MAX_DELIVERIES,
  maxMaxLen: MAX_MAX_LEN,
} as const;

const VERSION = 1;
const OP_CODES: Readonly<Record<QueueOp, number>> = {
  push: 1,
  pop: 2,
  ack: 3,
  nack: 4,
  extend: 5,
  config: 6,
  tick: 7,
  redrive: 8,
};
const OPS_BY_CODE: readonly (QueueOp | undefined)[] = [
  undefined,
  'push',
  'pop',
  'ack',
  'nack',
  'extend',
  'config',
  'tick',
  'redrive',
];
const PUSH_DEDUP_KEY = 1;
const PUSH_MAX_LENGTH = 2;
const CONFIG_MAX_DELIVERIES = 1;
const CONFIG_VISIBILITY = 2;
const CONFIG_MAX_LEN = 4;

/** `${index}-${pos}`. */
export function formatMessageId(index: number, pos: number): string {
  return `${index}-${pos}`;
}

const ID_PATTERN = /^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,4})$/;

/** The parts of a canonical message id, or undefined for anything else. */
export function parseMessageId(id: string): { index: number; pos: number } | undefined {
  const m = ID_PATTERN.exec(id);
  if (m === null) return undefined;
  const index = Number(m[1]);
  const pos = Number(m[2]);
  if (index < 1 || !Number.isSafeInteger(index) || pos >= MAX_PUSH_PAYLOADS) return undefined;
  return { index, pos };
}

export function encodeQueueCommand(c: QueueCommand): Uint8Array {
  // Validating on the way out means a bad command fails at the proposer with the decoder's
  // message instead of being committed and refused by every node.
  validateQueueCommand(c);
  if (c.op === 'tick') return Uint8Array.of(VERSION, OP_CODES.tick);
  let capacity = 32 + 3 * c.queue.length;
  if (c.op === 'push') for (const p of c.payloads) capacity += p.byteLength + 4;
  if (c.op === 'ack') capacity += 12 * c.ids.length;
  const w = new ByteWriter(capacity);
  w.byte(VERSION);
  w.byte(OP_CODES[c.op]);
  w.string(c.queue, MAX_QUEUE_NAME_BYTES, 'queue name');
  switch (c.op) {
    case 'push':
      w.varint(c.delayMs);
      // Flags 0 and 1 are the `bool hasKey` of entries written before maxLength existed.
      w.byte(
        (c.dedupKey !== undefined ? PUSH_DEDUP_KEY : 0) | (c.maxLength !== undefined ? PUSH_MAX_LENGTH : 0),
      );
      if (c.dedupKey !== undefined) w.string(c.dedupKey, MAX_DEDUP_KEY_BYTES, 'dedup key');
      w.varint(c.payloads.length);
      for (const p of c.payloads) w.bytes(p);
      if (c.maxLength !== undefined) w.varint(c.maxLength);
      break;
    case 'pop':
      w.varint(c.count);
      w.bool(c.visibilityMs !== undefined);
      if (c.visibilityMs !== undefined) w.varint(c.visibilityMs);
      break;
    case 'ack':
      w.varint(c.ids.length);
      for (const id of c.ids) writeId(w, id);
      break;
    case 'nack':
      writeId(w, c.id);
      w.varint(c.delayMs);
      break;
    case 'extend':
      writeId(w, c.id);
      w.varint(c.ms);
      break;
    case 'config': {
      const mask =
        (c.maxDeliveries !== undefined ? CONFIG_MAX_DELIVERIES : 0) |
        (c.visibilityMs !== undefined ? CONFIG_VISIBILITY : 0) |
        (c.maxLen !== undefined ? CONFIG_MAX_LEN : 0);
      w.byte(mask);
      if (c.maxDeliveries !== undefined) w.varint(c.maxDeliveries);
      if (c.visibilityMs !== undefined) w.varint(c.visibilityMs);
      if (c.maxLen !== undefined) w.varint(c.maxLen);
      break;
    }
    case 'redrive':
      w.varint(c.count);
      w.bool(c.drop);
      break;
  }
  return w.finish();
}

export function decodeQueueCommand(bytes: Uint8Array): QueueCommand {
  try {
    const command = read(new ByteReader(bytes));
    validateQueueCommand(command);
    return command;
  } catch (e) {
    if (e instanceof QueueCodecError) throw e;
    if (e instanceof CodecError) throw new QueueCodecError(e.message);
    throw e;
  }
}

function read(r: ByteReader): QueueCommand {
  const version = r.byte();
  if (version !== VERSION) throw new QueueCodecError(`unknown queue command version ${version}`);
  const code = r.byte();
  const op = OPS_BY_CODE[code];
  if (op === undefined) throw new QueueCodecError(`unknown queue command op ${code}`);
  let c: QueueCommand;
  if (op === 'tick') {
    c = { op };
  } else {
    const queue = r.string(MAX_QUEUE_NAME_BYTES, 'queue name');
    switch (op) {
      case 'push': {
        const delayMs = r.varint();
        const flags = r.byte();
        if (flags > (PUSH_DEDUP_KEY | PUSH_MAX_LENGTH))
          throw new QueueCodecError(`unknown push flags ${flags}`);
        const dedupKey = flags & PUSH_DEDUP_KEY ? r.string(MAX_DEDUP_KEY_BYTES, 'dedup key') : undefined;
        // Every payload takes at least its 1-byte length.
        const n = r.count(1);
        if (n > MAX_PUSH_PAYLOADS) throw new QueueCodecError(`${n} payloads, more than ${MAX_PUSH_PAYLOADS}`);
        const payloads: Uint8Array[] = [];
        for (let i = 0; i < n; i++) payloads.push(r.bytes());
        const push: {
          op: 'push';
          queue: string;
          payloads: Uint8Array[];
          delayMs: number;
          dedupKey?: string;
          maxLength?: number;
        } = { op, queue, payloads, delayMs };
        if (dedupKey !== undefined) push.dedupKey = dedupKey;
        if (flags & PUSH_MAX_LENGTH) push.maxLength = r.varint();
        c = push;
        break;
      }
      case 'pop': {
        const count = r.varint();
        c = r.bool() ? { op, queue, count, visibilityMs: r.varint() } : { op, queue, count };
        break;
      }
      case 'ack': {
        const n = r.count(2);
        if (n > MAX_ACK_IDS) throw new QueueCodecError(`${n} ids, more than ${MAX_ACK_IDS}`);
        const ids: string[] = [];
        for (let i = 0; i < n; i++) ids.push(readId(r));
        c = { op, queue, ids };
        break;
      }
      case 'nack':
        c = { op, queue, id: readId(r), delayMs: r.varint() };
        break;
      case 'extend':
        c = { op, queue, id: readId(r), ms: r.varint() };
        break;
      case 'config': {
        const mask = r.byte();
        if (mask > 7) throw new QueueCodecError(`unknown queue config fields in mask ${mask}`);
        const out: {
          op: 'config';
          queue: string;
          maxDeliveries?: number;
          visibilityMs?: number;
          maxLen?: number;
        } = { op, queue };
        if (mask & CONFIG_MAX_DELIVERIES) out.maxDeliveries = r.varint();
        if (mask & CONFIG_VISIBILITY) out.visibilityMs = r.varint();
        if (mask & CONFIG_MAX_LEN) out.maxLen = r.varint();
        c = out;
        break;
      }
      case 'redrive': {
        c = { op, queue, count: r.varint(), drop: r.bool() };
        break;
      }
    }
  }
  r.expectEnd();
  return c;
}

function writeId(w: ByteWriter, id: string): void {
  const parsed = parseMessageId(id);
  if (parsed === undefined) throw new QueueCodecError(`invalid message id ${JSON.stringify(id)}`);
  w.varint(parsed.index);
  w.varint(parsed.pos);
}

function readId(r: ByteReader): string {
  const index = r.varint();
  const pos = r.varint();
  if (index < 1) throw new QueueCodecError(`message id index ${index} is below 1`);
  if (pos >= MAX_PUSH_PAYLOADS)
    throw new QueueCodecError(`message id position ${pos} outside 0..${MAX_PUSH_PAYLOADS - 1}`);
  return formatMessageId(index, pos);
}

/** Throws a `QueueCodecError` naming the first field that is out of its domain. */
export function validateQueueCommand(c: QueueCommand): void {
  if (typeof c !== 'object' || c === null) throw new QueueCodecError('a queue command is not an object');
  if (c.op === 'tick') return;
  if (!Object.hasOwn(OP_CODES, c.op as string)) {
    throw new QueueCodecError(`unknown queue command op '${String((c as { op: unknown }).op)}'`);
  }
  checkQueueName(c.queue);
  switch (c.op) {
    case 'push': {
      checkInt(c.delayMs, 0, MAX_QUEUE_MS, 'delayMs');
      if (c.dedupKey !== undefined) checkString(c.dedupKey, MAX_DEDUP_KEY_BYTES, 'dedup key');
      if (c.maxLength !== undefined) checkInt(c.maxLength, 1, MAX_MAX_LEN, 'maxLength');
      if (!Array.isArray(c.payloads)) throw new QueueCodecError('payloads is not an array');
      checkInt(c.payloads.length, 1, MAX_PUSH_PAYLOADS, 'number of payloads');
      let total = 0;
      for (const p of c.payloads) {
        if (!(p instanceof Uint8Array)) throw new QueueCodecError('a payload is not a Uint8Array');
        if (p.byteLength > MAX_PAYLOAD_BYTES) {
          throw new QueueCodecError(`a payload of ${p.byteLength} bytes, more than ${MAX_PAYLOAD_BYTES}`);
        }
        total += p.byteLength;
      }
      if (total > MAX_PUSH_BYTES) {
        throw new QueueCodecError(`payloads of ${total} bytes in one push, more than ${MAX_PUSH_BYTES}`);
      }
      return;
    }
    case 'pop':
      checkInt(c.count, 1, MAX_POP_COUNT, 'count');
      if (c.visibilityMs !== undefined) checkInt(c.visibilityMs, 1, MAX_QUEUE_MS, 'visibilityMs');
      return;
    case 'ack':
      if (!Array.isArray(c.ids)) throw new QueueCodecError('ids is not an array');
      checkInt(c.ids.length, 1, MAX_ACK_IDS, 'number of ids');
      for (const id of c.ids) checkId(id);
      return;
    case 'nack':
      checkId(c.id);
      checkInt(c.delayMs, 0, MAX_QUEUE_MS, 'delayMs');
      return;
    case 'extend':
      checkId(c.id);
      checkInt(c.ms, 0, MAX_QUEUE_MS, 'ms');
      return;
    case 'config':
      if (c.maxDeliveries !== undefined) checkInt(c.maxDeliveries, 0, MAX_MAX_DELIVERIES, 'maxDeliveries');
      if (c.visibilityMs !== undefined) checkInt(c.visibilityMs, 1, MAX_QUEUE_MS, 'visibilityMs');
      if (c.maxLen !== undefined) checkInt(c.maxLen, 0, MAX_MAX_LEN, 'maxLen');
      return;
    case 'redrive':
      checkInt(c.count, 1, MAX_POP_COUNT, 'count');
      if (typeof c.drop !== 'boolean') throw new QueueCodecError('drop is not a boolean');
      return;
  }
}

export function checkQueueName(name: unknown): void {
  checkString(name, MAX_QUEUE_NAME_BYTES, 'queue name');
}

function checkId(id: unknown): void {
  if (typeof id !== 'string' || parseMessageId(id) === undefined) {
    throw new QueueCodecError(`invalid message id ${JSON.stringify(id)}`);
  }
}

export function checkInt(n: unknown, min: number, max: number, what: string): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new QueueCodecError(`${what} ${String(n)} outside ${min}..${max}`);
  }
}

/** A lone surrogate would not survive the trip through UTF-8; anything else is a fine name. */
const LONE_SURROGATE = /\p{Cs}/u;

export function checkString(s: unknown, maxBytes: number, what: string): void {
  if (typeof s !== 'string') throw new QueueCodecError(`${what} is not a string`);
  if (LONE_SURROGATE.test(s)) throw new QueueCodecError(`${what} is not well-formed Unicode`);
  const n = utf8Length(s);
  if (n === 0 || n > maxBytes)
    throw new QueueCodecError(`${what} must be 1..${maxBytes} UTF-8 bytes, got ${n}`);
}

/** UTF-8 length of a well-formed string, without encoding it (this runs on every apply). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++; // the low surrogate of the pair
    } else n += 3;
  }
  return n;
}
