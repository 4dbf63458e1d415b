import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import {
  checkInt,
  checkQueueName,
  checkString,
  MAX_DEDUP_KEY_BYTES,
  MAX_MAX_DELIVERIES,
  MAX_MAX_LEN,
  MAX_PAYLOAD_BYTES,
  MAX_PUSH_PAYLOADS,
  MAX_QUEUE_MS,
  MAX_QUEUE_NAME_BYTES,
  QueueCodecError,
} from './commands.js';
import {
  COUNTER_NAMES,
  DEFAULT_QUEUE_CONFIG,
  type DedupRow,
  MESSAGE_STATES,
  type MessageRow,
  type MessageState,
  type QueueConfig,
  type QueueRow,
  type QueueRows,
} from './types.js';

/**
 * The queue machine's rows: their keys, their order, their validation, and two byte formats —
 * the snapshot (every row of a machine) and one message row on its own.
 *
 * Snapshot, deterministic for equal states whatever order the rows come in: queues by name,
 * each with its messages by (index, pos) and its dedup keys by key (code-unit order).
 * ```
 * u8 version (1) | varint q | q × queue
 * queue   = string name | varint maxDeliveries | varint visibilityMs | varint maxLen
 *           | varint pushed | varint acked | varint redelivered | varint deadLettered
 *           | varint m | m × message | varint d | d × dedup
 * message = varint index | varint pos | u8 state (0 ready, 1 inflight, 2 delayed, 3 dead)
 *           | varint deliveries | varint visibleAtMs | bool hasKey | [string dedupKey] | bytes payload
 * dedup   = string key | varint index | varint count | varint expiresAtMs
 * ```
 * Decoding checks everything `validateRows` checks, so a corrupt snapshot fails here rather
 * than in a later apply.
 */

/** Code-unit order, the same on every replica (no locale). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The key of a message row in `QueueChanges.messages`: unambiguous, the id is after the last NUL. */
export function messageKey(queue: string, index: number, pos: number): string {
  return `${queue}\u0000${index}-${pos}`;
}

/** The key of a dedup row in `QueueChanges.dedup`: the queue's length makes it unambiguous. */
export function dedupRowKey(queue: string, key: string): string {
  return `${queue.length}:${queue}\u0000${key}`;
}

export function isDefaultConfig(c: QueueConfig): boolean {
  return (
    c.maxDeliveries === DEFAULT_QUEUE_CONFIG.maxDeliveries &&
    c.visibilityMs === DEFAULT_QUEUE_CONFIG.visibilityMs &&
    c.maxLen === DEFAULT_QUEUE_CONFIG.maxLen
  );
}

export function compareMessageRows(a: MessageRow, b: MessageRow): number {
  return compareStrings(a.queue, b.queue) || a.index - b.index || a.pos - b.pos;
}

export function compareDedupRows(a: DedupRow, b: DedupRow): number {
  return compareStrings(a.queue, b.queue) || compareStrings(a.key, b.key);
}

/** The same rows in the order `rows()` gives them (copies of the arrays, not of the rows). */
export function sortRows(rows: QueueRows): QueueRows {
  return {
    queues: [...rows.queues].sort((a, b) => compareStrings(a.name, b.name)),
    messages: [...rows.messages].sort(compareMessageRows),
    dedup: [...rows.dedup].sort(compareDedupRows),
  };
}

/**
 * Throws a `QueueCodecError` unless the rows are a state the machine can be in: every field in
 * its domain, no duplicates, every message and dedup row in a queue that has a row, and no
 * queue row that the machine would have dropped (nothing in it, default config).
 */
export function validateRows(rows: QueueRows): void {
  try {
    check(rows);
  } catch (e) {
    if (e instanceof QueueCodecError && e.message.startsWith('queue rows: ')) throw e;
    if (e instanceof CodecError) throw new QueueCodecError(`queue rows: ${e.message}`);
    throw e;
  }
}

function check(rows: QueueRows): void {
  /** name → whether something lives in it. */
  const queues = new Map<string, { row: QueueRow; used: boolean }>();
  for (const q of rows.queues) {
    checkQueueName(q.name);
    if (queues.has(q.name)) fail(`queue ${JSON.stringify(q.name)} has two rows`);
    checkInt(q.maxDeliveries, 0, MAX_MAX_DELIVERIES, 'maxDeliveries');
    checkInt(q.visibilityMs, 1, MAX_QUEUE_MS, 'visibilityMs');
    checkInt(q.maxLen, 0, MAX_MAX_LEN, 'maxLen');
    for (const c of COUNTER_NAMES) checkInt(q[c], 0, Number.MAX_SAFE_INTEGER, c);
    queues.set(q.name, { row: q, used: false });
  }
  const ids = new Set<string>();
  for (const m of rows.messages) {
    checkMessageRow(m);
    const q = queues.get(m.queue);
    if (q === undefined) fail(`a message in queue ${JSON.stringify(m.queue)}, which has no row`);
    q.used = true;
    const key = messageKey(m.queue, m.index, m.pos);
    if (ids.has(key)) fail(`message ${m.index}-${m.pos} of ${JSON.stringify(m.queue)} has two rows`);
    ids.add(key);
  }
  const keys = new Set<string>();
  for (const d of rows.dedup) {
    checkDedupRow(d);
    const q = queues.get(d.queue);
    if (q === undefined) fail(`a dedup key in queue ${JSON.stringify(d.queue)}, which has no row`);
    q.used = true;
    const key = dedupRowKey(d.queue, d.key);
    if (keys.has(key)) fail(`dedup key ${JSON.stringify(d.key)} of ${JSON.stringify(d.queue)} has two rows`);
    keys.add(key);
  }
  for (const [name, q] of queues) {
    if (!q.used && isDefaultConfig(q.row))
      fail(`queue ${JSON.stringify(name)} is empty with the default config`);
  }
}

/** One message row on its own (the queue's existence is not checked). */
export function checkMessageRow(m: MessageRow): void {
  checkQueueName(m.queue);
  checkInt(m.index, 1, Number.MAX_SAFE_INTEGER, 'message index');
  checkInt(m.pos, 0, MAX_PUSH_PAYLOADS - 1, 'message position');
  if (!(m.payload instanceof Uint8Array)) fail('a payload is not a Uint8Array');
  if (m.payload.byteLength > MAX_PAYLOAD_BYTES) fail(`a payload of ${m.payload.byteLength} bytes`);
  if (!MESSAGE_STATES.includes(m.state)) fail(`message state ${JSON.stringify(m.state)}`);
  checkInt(m.deliveries, 0, Number.MAX_SAFE_INTEGER, 'deliveries');
  checkInt(m.visibleAtMs, 0, Number.MAX_SAFE_INTEGER, 'visibleAtMs');
  if ((m.state === 'ready' || m.state === 'dead') && m.visibleAtMs !== 0) {
    fail(`a ${m.state} message with visibleAtMs ${m.visibleAtMs}`);
  }
  if (m.state === 'inflight' && m.deliveries === 0) fail('an inflight message never delivered');
  if (m.dedupKey !== null) checkString(m.dedupKey, MAX_DEDUP_KEY_BYTES, 'dedup key');
}

export function checkDedupRow(d: DedupRow): void {
  checkQueueName(d.queue);
  checkString(d.key, MAX_DEDUP_KEY_BYTES, 'dedup key');
  checkInt(d.index, 1, Number.MAX_SAFE_INTEGER, 'dedup index');
  checkInt(d.count, 1, MAX_PUSH_PAYLOADS, 'dedup count');
  checkInt(d.expiresAtMs, 0, Number.MAX_SAFE_INTEGER, 'expiresAtMs');
}

function fail(message: string): never {
  throw new QueueCodecError(`queue rows: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Snapshot

const SNAPSHOT_VERSION = 1;

/** Throws a `QueueCodecError` for rows that `validateRows` refuses. */
export function encodeSnapshot(rows: QueueRows): Uint8Array {
  validateRows(rows);
  const sorted = sortRows(rows);
  let capacity = 16;
  for (const m of sorted.messages) capacity += m.payload.byteLength + 16;
  const w = new ByteWriter(capacity + 64 * sorted.queues.length + 32 * sorted.dedup.length);
  w.byte(SNAPSHOT_VERSION);
  w.varint(sorted.queues.length);
  let mi = 0;
  let di = 0;
  for (const q of sorted.queues) {
    w.string(q.name, MAX_QUEUE_NAME_BYTES, 'queue name');
    w.varint(q.maxDeliveries);
    w.varint(q.visibilityMs);
    w.varint(q.maxLen);
    for (const c of COUNTER_NAMES) w.varint(q[c]);
    // Rows sort by queue name first, so each queue's rows are one run.
    let end = mi;
    while (end < sorted.messages.length && sorted.messages[end]!.queue === q.name) end++;
    w.varint(end - mi);
    for (; mi < end; mi++) writeMessageFields(w, sorted.messages[mi]!);
    end = di;
    while (end < sorted.dedup.length && sorted.dedup[end]!.queue === q.name) end++;
    w.varint(end - di);
    for (; di < end; di++) {
      const d = sorted.dedup[di]!;
      w.string(d.key, MAX_DEDUP_KEY_BYTES, 'dedup key');
      w.varint(d.index);
      w.varint(d.count);
      w.varint(d.expiresAtMs);
    }
  }
  return w.finish();
}

/** Throws a `QueueCodecError` for bytes that are not a valid snapshot. */
export function decodeSnapshot(bytes: Uint8Array): QueueRows {
  let rows: QueueRows;
  try {
    rows = readSnapshot(new ByteReader(bytes));
  } catch (e) {
    if (e instanceof QueueCodecError && e.message.startsWith('queue snapshot: ')) throw e;
    if (e instanceof CodecError) throw new QueueCodecError(`queue snapshot: ${e.message}`);
    throw e;
  }
  validateRows(rows);
  return rows;
}

function readSnapshot(r: ByteReader): QueueRows {
  const version = r.byte();
  if (version !== SNAPSHOT_VERSION) snapshotFail(`unknown version ${version}`);
  const queues: QueueRow[] = [];
  const messages: MessageRow[] = [];
  const dedup: DedupRow[] = [];
  // Smallest queue: a 1-byte name (2 bytes) and nine 1-byte varints.
  const queueCount = r.count(11);
  let previous: string | undefined;
  for (let i = 0; i < queueCount; i++) {
    const name = r.string(MAX_QUEUE_NAME_BYTES, 'queue name');
    if (previous !== undefined && compareStrings(previous, name) >= 0)
      snapshotFail('queues not in ascending name order');
    previous = name;
    queues.push({
      name,
      maxDeliveries: r.varint(),
      visibilityMs: r.varint(),
      maxLen: r.varint(),
      pushed: r.varint(),
      acked: r.varint(),
      redelivered: r.varint(),
      deadLettered: r.varint(),
    });
    // Smallest message: five 1-byte fields, a bool and an empty payload's length.
    const messageCount = r.count(7);
    let last: MessageRow | undefined;
    for (let j = 0; j < messageCount; j++) {
      const m = readMessageFields(r, name);
      if (last !== undefined && (last.index > m.index || (last.index === m.index && last.pos >= m.pos))) {
        snapshotFail('messages not in ascending id order');
      }
      last = m;
      messages.push(m);
    }
    // Smallest dedup row: a 1-byte key (2 bytes) and three 1-byte varints.
    const dedupCount = r.count(5);
    let lastKey: string | undefined;
    for (let j = 0; j < dedupCount; j++) {
      const key = r.string(MAX_DEDUP_KEY_BYTES, 'dedup key');
      if (lastKey !== undefined && compareStrings(lastKey, key) >= 0)
        snapshotFail('dedup keys not in ascending order');
      lastKey = key;
      dedup.push({ queue: name, key, index: r.varint(), count: r.varint(), expiresAtMs: r.varint() });
    }
  }
  r.expectEnd();
  return { queues, messages, dedup };
}

function snapshotFail(message: string): never {
  throw new QueueCodecError(`queue snapshot: ${message}`);
}

function writeMessageFields(w: ByteWriter, m: MessageRow): void {
  w.varint(m.index);
  w.varint(m.pos);
  w.byte(MESSAGE_STATES.indexOf(m.state));
  w.varint(m.deliveries);
  w.varint(m.visibleAtMs);
  w.bool(m.dedupKey !== null);
  if (m.dedupKey !== null) w.string(m.dedupKey, MAX_DEDUP_KEY_BYTES, 'dedup key');
  w.bytes(m.payload);
}

function readMessageFields(r: ByteReader, queue: string): MessageRow {
  const index = r.varint();
  const pos = r.varint();
  const stateCode = r.byte();
  const state: MessageState | undefined = MESSAGE_STATES[stateCode];
  if (state === undefined) throw new QueueCodecError(`unknown message state ${stateCode}`);
  const deliveries = r.varint();
  const visibleAtMs = r.varint();
  const dedupKey = r.bool() ? r.string(MAX_DEDUP_KEY_BYTES, 'dedup key') : null;
  const payload = r.bytes();
  return { queue, index, pos, payload, state, deliveries, visibleAtMs, dedupKey };
}

// ---------------------------------------------------------------------------------------------
// One message row: `u8 version (1) | string queue | message (as in the snapshot)`.

const MESSAGE_ROW_VERSION = 1;

export function encodeMessageRow(m: MessageRow): Uint8Array {
  try {
    checkMessageRow(m);
  } catch (e) {
    if (e instanceof CodecError && !(e instanceof QueueCodecError)) throw new QueueCodecError(e.message);
    throw e;
  }
  const w = new ByteWriter(32 + 3 * m.queue.length + m.payload.byteLength);
  w.byte(MESSAGE_ROW_VERSION);
  w.string(m.queue, MAX_QUEUE_NAME_BYTES, 'queue name');
  writeMessageFields(w, m);
  return w.finish();
}

export function decodeMessageRow(bytes: Uint8Array): MessageRow {
  try {
    const r = new ByteReader(bytes);
    const version = r.byte();
    if (version !== MESSAGE_ROW_VERSION) throw new QueueCodecError(`unknown message row version ${version}`);
    const queue = r.string(MAX_QUEUE_NAME_BYTES, 'queue name');
    const m = readMessageFields(r, queue);
    r.expectEnd();
    checkMessageRow(m);
    return m;
  } catch (e) {
    if (e instanceof QueueCodecError) throw e;
    if (e instanceof CodecError) throw new QueueCodecError(e.message);
    throw e;
  }
}
