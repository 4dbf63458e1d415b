import type Database from 'better-sqlite3';
import type { DedupRow, MessageRow, QueueChanges, QueueRow } from './types.js';

/**
 * The queue tables of `raft.sqlite`: every partition's queues, messages and deduplication keys,
 * keyed by group id. Only rows change; the state machine decides which. Written inside the
 * Raft host's apply transaction, together with the group's applied index, so the tables and the
 * index never disagree (DESIGN.md §7).
 */
export const QUEUE_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS queue_queues (
  group_id       INTEGER NOT NULL,
  name           TEXT NOT NULL,
  max_deliveries INTEGER NOT NULL,
  visibility_ms  INTEGER NOT NULL,
  max_len        INTEGER NOT NULL,
  pushed         INTEGER NOT NULL,
  acked          INTEGER NOT NULL,
  redelivered    INTEGER NOT NULL,
  dead_lettered  INTEGER NOT NULL,
  PRIMARY KEY (group_id, name)
) STRICT, WITHOUT ROWID;

-- A message is (idx, pos) in its partition: the push entry's log index and its place in that
-- push (unique in the partition whatever the queue). state: 0 ready, 1 in flight, 2 delayed,
-- 3 dead. Keyed without a rowid: a round of pushes to a partition then touches one B-tree
-- leaf, not a table page and an index page (measured: the WAL bytes per push are what limit
-- a node that leads many partitions).
CREATE TABLE IF NOT EXISTS queue_messages (
  group_id      INTEGER NOT NULL,
  idx           INTEGER NOT NULL,
  pos           INTEGER NOT NULL,
  queue         TEXT NOT NULL,
  state         INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
  deliveries    INTEGER NOT NULL,
  visible_at_ms INTEGER NOT NULL,
  dedup_key     TEXT,
  payload       BLOB NOT NULL,
  PRIMARY KEY (group_id, idx, pos)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS queue_dedup (
  group_id      INTEGER NOT NULL,
  queue         TEXT NOT NULL,
  key           TEXT NOT NULL,
  idx           INTEGER NOT NULL,
  count         INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (group_id, queue, key)
) STRICT, WITHOUT ROWID;
`;

const STATES = ['ready', 'inflight', 'delayed', 'dead'] as const;
type StoredState = (typeof STATES)[number];

type QueueDbRow = [string, number, number, number, number, number, number, number];
type MessageDbRow = [string, number, number, number, number, number, string | null, Buffer];
type DedupDbRow = [string, string, number, number, number];

/** The prepared statements over one database handle, shared by every partition's machine. */
export class QueueTables {
  readonly #upsertQueue: Database.Statement<
    [number, string, number, number, number, number, number, number, number]
  >;
  readonly #deleteQueue: Database.Statement<[number, string]>;
  readonly #upsertMessage: Database.Statement<
    [number, number, number, string, number, number, number, string | null, Uint8Array]
  >;
  readonly #deleteMessage: Database.Statement<[number, number, number]>;
  readonly #upsertDedup: Database.Statement<[number, string, string, number, number, number]>;
  readonly #deleteDedup: Database.Statement<[number, string, string]>;
  readonly #selectQueues: Database.Statement<[number], QueueDbRow>;
  readonly #selectMessages: Database.Statement<[number], MessageDbRow>;
  readonly #selectDedup: Database.Statement<[number], DedupDbRow>;
  readonly #deleteGroup: readonly Database.Statement<[number]>[];

  constructor(sqlite: Database.Database) {
    sqlite.exec(QUEUE_SCHEMA_SQL);
    this.#upsertQueue = sqlite.prepare(
      `INSERT INTO queue_queues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, name) DO UPDATE SET
         max_deliveries = excluded.max_deliveries, visibility_ms = excluded.visibility_ms,
         max_len = excluded.max_len, pushed = excluded.pushed, acked = excluded.acked,
         redelivered = excluded.redelivered, dead_lettered = excluded.dead_lettered`,
    );
    this.#deleteQueue = sqlite.prepare('DELETE FROM queue_queues WHERE group_id = ? AND name = ?');
    this.#upsertMessage = sqlite.prepare(
      `INSERT INTO queue_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, idx, pos) DO UPDATE SET
         state = excluded.state, deliveries = excluded.deliveries,
         visible_at_ms = excluded.visible_at_ms`,
    );
    this.#deleteMessage = sqlite.prepare(
      'DELETE FROM queue_messages WHERE group_id = ? AND idx = ? AND pos = ?',
    );
    this.#upsertDedup = sqlite.prepare(
      `INSERT INTO queue_dedup VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_id, queue, key) DO UPDATE SET
         idx = excluded.idx, count = excluded.count, expires_at_ms = excluded.expires_at_ms`,
    );
    this.#deleteDedup = sqlite.prepare(
      'DELETE FROM queue_dedup WHERE group_id = ? AND queue = ? AND key = ?',
    );
    this.#selectQueues = sqlite
      .prepare<[number], QueueDbRow>(
        `SELECT name, max_deliveries, visibility_ms, max_len, pushed, acked, redelivered, dead_lettered
         FROM queue_queues WHERE group_id = ? ORDER BY name`,
      )
      .raw();
    this.#selectMessages = sqlite
      .prepare<[number], MessageDbRow>(
        `SELECT queue, idx, pos, state, deliveries, visible_at_ms, dedup_key, payload
         FROM queue_messages WHERE group_id = ? ORDER BY idx, pos`,
      )
      .raw();
    this.#selectDedup = sqlite
      .prepare<[number], DedupDbRow>(
        `SELECT queue, key, idx, count, expires_at_ms FROM queue_dedup
         WHERE group_id = ? ORDER BY queue, key`,
      )
      .raw();
    this.#deleteGroup = ['queue_queues', 'queue_messages', 'queue_dedup'].map((table) =>
      sqlite.prepare<[number]>(`DELETE FROM ${table} WHERE group_id = ?`),
    );
  }

  /** Every stored row of partition `groupId`. */
  load(groupId: number): { queues: QueueRow[]; messages: MessageRow[]; dedup: DedupRow[] } {
    const queues = this.#selectQueues.all(groupId).map(
      ([name, maxDeliveries, visibilityMs, maxLen, pushed, acked, redelivered, deadLettered]): QueueRow => ({
        name,
        maxDeliveries,
        visibilityMs,
        maxLen,
        pushed,
        acked,
        redelivered,
        deadLettered,
      }),
    );
    const messages = this.#selectMessages.all(groupId).map(
      ([queue, index, pos, state, deliveries, visibleAtMs, dedupKey, payload]): MessageRow => ({
        queue,
        index,
        pos,
        payload: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength),
        state: storedState(state),
        deliveries,
        visibleAtMs,
        dedupKey,
      }),
    );
    const dedup = this.#selectDedup
      .all(groupId)
      .map(
        ([queue, key, index, count, expiresAtMs]): DedupRow => ({ queue, key, index, count, expiresAtMs }),
      );
    return { queues, messages, dedup };
  }

  /** Writes changed rows (null: deleted). Inside the caller's transaction. */
  write(groupId: number, changes: QueueChanges): void {
    for (const [name, row] of changes.queues) {
      if (row === null) this.#deleteQueue.run(groupId, name);
      else
        this.#upsertQueue.run(
          groupId,
          row.name,
          row.maxDeliveries,
          row.visibilityMs,
          row.maxLen,
          row.pushed,
          row.acked,
          row.redelivered,
          row.deadLettered,
        );
    }
    for (const { index, pos, row } of changes.messages.values()) {
      if (row === null) this.#deleteMessage.run(groupId, index, pos);
      else
        this.#upsertMessage.run(
          groupId,
          row.index,
          row.pos,
          row.queue,
          STATES.indexOf(row.state),
          row.deliveries,
          row.visibleAtMs,
          row.dedupKey,
          row.payload,
        );
    }
    for (const { queue, key, row } of changes.dedup.values()) {
      if (row === null) this.#deleteDedup.run(groupId, queue, key);
      else this.#upsertDedup.run(groupId, row.queue, row.key, row.index, row.count, row.expiresAtMs);
    }
  }

  /** Replaces every row of a partition (a snapshot was installed). Inside a transaction. */
  replace(
    groupId: number,
    rows: {
      readonly queues: readonly QueueRow[];
      readonly messages: readonly MessageRow[];
      readonly dedup: readonly DedupRow[];
    },
  ): void {
    this.deleteGroup(groupId);
    const changes: QueueChanges = {
      queues: new Map(rows.queues.map((q) => [q.name, q])),
      messages: new Map(
        rows.messages.map((m, i) => [String(i), { queue: m.queue, index: m.index, pos: m.pos, row: m }]),
      ),
      dedup: new Map(rows.dedup.map((d, i) => [String(i), { queue: d.queue, key: d.key, row: d }])),
    };
    this.write(groupId, changes);
  }

  deleteGroup(groupId: number): void {
    for (const statement of this.#deleteGroup) statement.run(groupId);
  }
}

function storedState(n: number): StoredState {
  const state = STATES[n];
  if (state === undefined) throw new Error(`queue_messages holds unknown state ${n}`);
  return state;
}
