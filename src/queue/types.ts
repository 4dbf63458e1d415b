/**
 * The types of the queue state machine (state-machine.ts): what an apply answers, what it tells
 * the service, the replicated configuration and counters, and the three kinds of rows that ARE
 * the machine's state (the SQLite store persists exactly these; rows.ts snapshots them).
 */

/** Where an entry sits in the partition's log, and the leader's time stamped into it. */
export interface QueueApplyContext {
  readonly index: number;
  readonly timeMs: number;
}

/** How long a `DEDUP` key makes later pushes with the same key duplicates: 5 minutes. */
export const DEDUP_WINDOW_MS = 5 * 60_000;

export interface QueueConfig {
  /** Deliveries after which an expired or nacked lease dead-letters the message; 0 = unlimited. */
  readonly maxDeliveries: number;
  /** The lease of a pop that names no VISIBILITY. */
  readonly visibilityMs: number;
  /** Refuse pushes beyond this many ready + inflight + delayed messages; 0 = unlimited. */
  readonly maxLen: number;
}

export const DEFAULT_QUEUE_CONFIG: QueueConfig = Object.freeze({
  maxDeliveries: 5,
  visibilityMs: 30_000,
  maxLen: 0,
});

/**
 * Totals since the queue's record was created; replicated, so equal on every replica. A queue
 * record is dropped when it holds nothing and has the default config, which resets them.
 */
export interface QueueCounters {
  /** Messages pushed (duplicates refused by dedup and pushes refused by MAXLEN are not counted). */
  pushed: number;
  /** Messages deleted by an ack. */
  acked: number;
  /** Inflight messages whose lease ran out and that went back to ready. */
  redelivered: number;
  /** Messages moved to the dead-letter list (lease expiry or nack after MAXDELIVERIES). */
  deadLettered: number;
}

export const COUNTER_NAMES: readonly (keyof QueueCounters)[] = [
  'pushed',
  'acked',
  'redelivered',
  'deadLettered',
];

export function zeroCounters(): QueueCounters {
  return { pushed: 0, acked: 0, redelivered: 0, deadLettered: 0 };
}

export type MessageState = 'ready' | 'inflight' | 'delayed' | 'dead';

export const MESSAGE_STATES: readonly MessageState[] = ['ready', 'inflight', 'delayed', 'dead'];

/** A message as a consumer sees it. `payload` is shared with the machine: never mutate it. */
export interface QueueMessage {
  /** `${index}-${pos}`: the push entry's log index and the position in that push. */
  readonly id: string;
  readonly payload: Uint8Array;
  /** Pops so far, this one included when it came from a pop. */
  readonly deliveries: number;
}

export interface QueueStats extends QueueCounters {
  ready: number;
  inflight: number;
  delayed: number;
  dead: number;
}

/** Across all queues of the machine; `queues` is the number of queue records. */
export interface QueueTotals extends QueueStats {
  queues: number;
}

/** For bounded-cardinality metrics; depth = ready + inflight + delayed (what MAXLEN counts). */
export interface TopQueue {
  readonly queue: string;
  readonly depth: number;
  readonly ready: number;
  readonly inflight: number;
  readonly delayed: number;
  readonly dead: number;
}

export type QueueErrorCode = 'ERR' | 'LIMIT';

/** The answer to the command's own caller. */
export type QueueResult =
  /** `duplicate`: the dedup key was seen within the window; these are the first push's ids. */
  | { readonly kind: 'pushed'; readonly ids: readonly string[]; readonly duplicate?: true }
  /** In id order; may be empty. */
  | { readonly kind: 'popped'; readonly messages: readonly QueueMessage[] }
  /** ack: messages deleted; nack, extend: 1 or 0. */
  | { readonly kind: 'count'; readonly n: number }
  /** The configuration after the command. */
  | { readonly kind: 'config'; readonly config: QueueConfig }
  | { readonly kind: 'ticked' }
  /** `-CODE message`: an invalid command (ERR) or a refused push (LIMIT). Nothing changed. */
  | { readonly kind: 'error'; readonly code: QueueErrorCode; readonly message: string };

/** What an apply made poppable, for the leader to wake blocked pops. */
export type QueueEvent = { readonly kind: 'ready'; readonly queue: string };

export interface QueueOutcome {
  readonly result: QueueResult;
  /**
   * At most one per queue, in the order the queues first gained ready messages: what fell due
   * (queues in name order), then the command's own effect.
   */
  readonly events: readonly QueueEvent[];
}

// ---------------------------------------------------------------------------------------------
// Rows: the machine's whole state. `fromRows(rows())` behaves identically to the original.

/** One per queue record: configuration and counters. */
export interface QueueRow extends QueueConfig, QueueCounters {
  readonly name: string;
}

/** One per message, in any state. */
export interface MessageRow {
  readonly queue: string;
  /** The log index of the push entry. */
  readonly index: number;
  /** 0-based position in that push. */
  readonly pos: number;
  readonly payload: Uint8Array;
  readonly state: MessageState;
  readonly deliveries: number;
  /** inflight: lease end; delayed: when it becomes ready; 0 for ready and dead. */
  readonly visibleAtMs: number;
  /** The dedup key of the push that created it, if any. */
  readonly dedupKey: string | null;
}

/** One per live dedup key: the push's ids are `${index}-0` .. `${index}-${count - 1}`. */
export interface DedupRow {
  readonly queue: string;
  readonly key: string;
  readonly index: number;
  readonly count: number;
  readonly expiresAtMs: number;
}

export interface QueueRows {
  readonly queues: readonly QueueRow[];
  readonly messages: readonly MessageRow[];
  readonly dedup: readonly DedupRow[];
}

/**
 * Rows changed since the last `takeChanges()`, each at its latest state; `null` = deleted
 * (possibly a row that was created and deleted in between: deleting it is a no-op).
 * Keys: `queues` by name, `messages` by `messageKey(queue, index, pos)`, `dedup` by
 * `dedupKey(queue, key)` (both in state-machine.ts).
 */
export interface QueueChanges {
  readonly queues: Map<string, QueueRow | null>;
  readonly messages: Map<
    string,
    { readonly queue: string; readonly index: number; readonly pos: number; readonly row: MessageRow | null }
  >;
  readonly dedup: Map<
    string,
    { readonly queue: string; readonly key: string; readonly row: DedupRow | null }
  >;
}
