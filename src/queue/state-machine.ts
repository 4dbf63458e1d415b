import { assert } from '../lib/assert.js';
import { formatMessageId, QueueCodecError, type QueueCommand, validateQueueCommand } from './commands.js';
import { type QueueDeadline, QueueDeadlineHeap } from './deadline-heap.js';
import { compareStrings, dedupRowKey, isDefaultConfig, messageKey, validateRows } from './rows.js';
import { SortedList } from './sorted-list.js';
import {
  COUNTER_NAMES,
  DEDUP_WINDOW_MS,
  DEFAULT_QUEUE_CONFIG,
  type DedupRow,
  type MessageRow,
  type MessageState,
  type QueueApplyContext,
  type QueueChanges,
  type QueueConfig,
  type QueueCounters,
  type QueueEvent,
  type QueueMessage,
  type QueueOutcome,
  type QueueResult,
  type QueueRow,
  type QueueRows,
  type QueueStats,
  type QueueTotals,
  type TopQueue,
  zeroCounters,
} from './types.js';

export type { QueueCommand } from './commands.js';
export { formatMessageId, parseMessageId, QUEUE_LIMITS } from './commands.js';
export { dedupRowKey, messageKey } from './rows.js';
export type {
  DedupRow,
  MessageRow,
  MessageState,
  QueueApplyContext,
  QueueChanges,
  QueueConfig,
  QueueCounters,
  QueueEvent,
  QueueMessage,
  QueueOutcome,
  QueueResult,
  QueueRow,
  QueueRows,
  QueueStats,
  QueueTotals,
  TopQueue,
} from './types.js';
export { DEDUP_WINDOW_MS, DEFAULT_QUEUE_CONFIG } from './types.js';

/** A message as the machine keeps it; `index`, `pos`, `id`, `payload`, `dedupKey` never change. */
interface Message {
  readonly index: number;
  readonly pos: number;
  readonly id: string;
  readonly payload: Uint8Array;
  readonly dedupKey: string | null;
  state: MessageState;
  deliveries: number;
  /** inflight: lease end; delayed: when it becomes ready; 0 otherwise. */
  visibleAtMs: number;
}

interface DedupEntry {
  readonly index: number;
  readonly count: number;
  readonly expiresAtMs: number;
}

interface QueueRecord {
  readonly name: string;
  /** Replaced, never mutated, so it can be handed out. */
  config: QueueConfig;
  readonly counters: QueueCounters;
  /**
   * Every message (any state) by id. Insertion order is id order: messages are only created
   * by pushes, whose indexes increase, and `fromRows` inserts them sorted. `rows()` relies on it.
   */
  readonly messages: Map<string, Message>;
  readonly ready: SortedList<Message>;
  readonly dead: SortedList<Message>;
  inflight: number;
  delayed: number;
  readonly dedup: Map<string, DedupEntry>;
}

export interface QueueMachineOptions {
  /**
   * Record what changed for `takeChanges()` (default true). A caller that never takes the
   * changes (a pure simulation, a benchmark) turns it off so the record cannot grow.
   */
  readonly trackChanges?: boolean;
}

const compareMessages = (a: Message, b: Message): number => a.index - b.index || a.pos - b.pos;

/**
 * Most payload bytes one pop, peek or dead-letter listing returns (at least one message): the
 * reply crosses the bus in one frame, and frames end at 16 MiB. COUNT 10000 of 512 KiB
 * messages would otherwise build a reply no frame can carry, and a pop's leases would be taken
 * for messages the client never sees until they expire.
 */
export const MAX_REPLY_PAYLOAD_BYTES = 8 * 1024 * 1024;

function withinReplyBytes(messages: readonly Message[]): readonly Message[] {
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    bytes += messages[i]!.payload.byteLength;
    if (i > 0 && bytes > MAX_REPLY_PAYLOAD_BYTES) return messages.slice(0, i);
  }
  return messages;
}

/**
 * A partition's queues (DESIGN.md §7). Pure and deterministic: time is the entry's `timeMs`,
 * message ids are entry indexes, and every observable order (events, rows, snapshot) is a
 * sorted or id order.
 *
 * The state is exactly the rows of types.ts (queues, messages, dedup keys): everything else
 * here (ready and dead lists, counts, the deadline heap) is derived from them, so
 * `fromRows(m.rows())` behaves exactly as `m` does. In particular the machine keeps no "last
 * time": it takes `ctx.timeMs` as given (the runtime makes it monotonic).
 *
 * Every apply first processes what is due by its time (`<= timeMs`) — inflight leases that ran
 * out go back to ready (`redelivered`) or, when MAXDELIVERIES > 0 and the message has had that
 * many deliveries, to dead (`deadLettered`); delayed messages whose time came become ready;
 * dedup keys older than the window go — and only then executes the command. `tick` does
 * nothing else; the leader proposes one at `nextDeadlineMs()`. Invalid commands are `ERR`
 * results (time still passes), never exceptions; only a non-increasing index or a bad time
 * throws (an `AssertionError`: the runtime is broken).
 *
 * The rules:
 * - FIFO by id: a pop leases the first ready messages in id order, wherever they came from (a
 *   redelivered message goes back to its place, not to the end). Each pop counts a delivery.
 * - push: a dedup key seen within DEDUP_WINDOW_MS (from the first push; duplicates do not
 *   extend it) answers the first push's ids with `duplicate`; otherwise MAXLEN (> 0) refuses
 *   a push that would take ready + inflight + delayed above it (LIMIT, nothing changes), and
 *   so does the proposing node's queue-max-length carried in the entry, counting dead letters.
 * - ack deletes messages in any state but dead; nack returns an inflight message (dead if it
 *   has had MAXDELIVERIES, else delayed or ready); extend sets an inflight lease to now + ms.
 * - config changes apply from then on: a lower MAXLEN drops nothing, a lower MAXDELIVERIES
 *   is checked at the next lease expiry or nack.
 * - Dead messages are kept: no command removes them yet (ack ignores them); reads show them.
 *
 * A queue record exists while it has a message (any state, dead too), a dedup key or a
 * non-default config; when it has none of them it is dropped, and its counters with it (a
 * queue that comes back starts from zero). So memory is bounded by live messages and keys.
 */
export class QueueStateMachine {
  readonly #queues = new Map<string, QueueRecord>();
  readonly #deadlines = new QueueDeadlineHeap();
  /** inflight + delayed messages + dedup keys over all queues: the live heap entries. */
  #timed = 0;
  /** The highest index applied or seen in the rows: indexes must go up (message ids depend on it). */
  #lastIndex = 0;
  /** The entry being applied. */
  #index = 0;
  #now = 0;
  #events: QueueEvent[] = [];
  readonly #gained = new Set<string>();
  /** Queues whose record may have become droppable in this apply. */
  readonly #touched = new Set<string>();
  readonly #track: boolean;
  #dirtyQueues = new Set<string>();
  #dirtyMessages = new Map<string, { queue: string; index: number; pos: number }>();
  #dirtyDedup = new Map<string, { queue: string; key: string }>();

  private constructor(options: QueueMachineOptions) {
    this.#track = options.trackChanges ?? true;
  }

  static empty(options: QueueMachineOptions = {}): QueueStateMachine {
    return new QueueStateMachine(options);
  }

  /**
   * The machine whose `rows()` are these (in any order). Throws a `QueueCodecError` for rows
   * the machine could not be in (rows.ts `validateRows`). Payloads are kept, not copied.
   */
  static fromRows(
    queues: Iterable<QueueRow>,
    messages: Iterable<MessageRow>,
    dedup: Iterable<DedupRow>,
    options: QueueMachineOptions = {},
  ): QueueStateMachine {
    const rows: QueueRows = { queues: [...queues], messages: [...messages], dedup: [...dedup] };
    validateRows(rows);
    const m = new QueueStateMachine(options);
    for (const q of rows.queues) {
      const rec = newRecord(q.name);
      rec.config = configOf(q);
      for (const c of COUNTER_NAMES) rec.counters[c] = q[c];
      m.#queues.set(q.name, rec);
    }
    const sorted = [...rows.messages].sort((a, b) => a.index - b.index || a.pos - b.pos);
    for (const row of sorted) {
      const rec = m.#queues.get(row.queue)!;
      const msg: Message = {
        index: row.index,
        pos: row.pos,
        id: formatMessageId(row.index, row.pos),
        payload: row.payload,
        dedupKey: row.dedupKey,
        state: row.state,
        deliveries: row.deliveries,
        visibleAtMs: row.visibleAtMs,
      };
      rec.messages.set(msg.id, msg);
      m.#lastIndex = Math.max(m.#lastIndex, row.index);
      switch (msg.state) {
        case 'ready':
          rec.ready.insert(msg);
          break;
        case 'dead':
          rec.dead.insert(msg);
          break;
        case 'inflight':
          rec.inflight += 1;
          m.#timeMessage(rec, msg);
          break;
        case 'delayed':
          rec.delayed += 1;
          m.#timeMessage(rec, msg);
          break;
      }
    }
    for (const row of rows.dedup) {
      const rec = m.#queues.get(row.queue)!;
      rec.dedup.set(row.key, { index: row.index, count: row.count, expiresAtMs: row.expiresAtMs });
      m.#lastIndex = Math.max(m.#lastIndex, row.index);
      m.#timed += 1;
      m.#deadlines.push({ atMs: row.expiresAtMs, queue: row.queue, kind: 'dedup', key: row.key });
    }
    return m;
  }

  apply(cmd: QueueCommand, ctx: QueueApplyContext): QueueOutcome {
    assert(
      Number.isSafeInteger(ctx.index) && ctx.index > this.#lastIndex,
      `queue entry index ${ctx.index} after ${this.#lastIndex}`,
    );
    assert(Number.isSafeInteger(ctx.timeMs) && ctx.timeMs >= 0, `bad queue entry time ${ctx.timeMs}`);
    this.#index = this.#lastIndex = ctx.index;
    this.#now = ctx.timeMs;
    this.#events = [];
    this.#gained.clear();
    this.#touched.clear();
    this.#processDue();
    const result = this.#execute(cmd);
    for (const name of this.#touched) this.#dropIfIdle(name);
    if (this.#deadlines.size > 64 + 2 * this.#timed) this.#compactDeadlines();
    return { result, events: this.#events };
  }

  // -------------------------------------------------------------------------------------------
  // Reads: no replicated state changes (after a Raft read barrier).

  /** Ready messages in the queue. */
  len(queue: string): number {
    return this.#queues.get(queue)?.ready.size ?? 0;
  }

  /** The first `count` ready messages, in id order (what a pop would take). */
  peek(queue: string, count: number): QueueMessage[] {
    const rec = this.#queues.get(queue);
    if (rec === undefined || count <= 0) return [];
    return withinReplyBytes(rec.ready.take(count)).map(toQueueMessage);
  }

  /** The first `count` dead-lettered messages, in id order. */
  dead(queue: string, count: number): QueueMessage[] {
    const rec = this.#queues.get(queue);
    if (rec === undefined || count <= 0) return [];
    return withinReplyBytes(rec.dead.take(count)).map(toQueueMessage);
  }

  /** One message in any state (undefined if there is no such message). */
  message(
    queue: string,
    id: string,
  ): (QueueMessage & { readonly state: MessageState; readonly visibleAtMs: number }) | undefined {
    const m = this.#queues.get(queue)?.messages.get(id);
    if (m === undefined) return undefined;
    return {
      id: m.id,
      payload: m.payload,
      deliveries: m.deliveries,
      state: m.state,
      visibleAtMs: m.visibleAtMs,
    };
  }

  /** All zeros for a queue with no record. */
  stats(queue: string): QueueStats {
    const rec = this.#queues.get(queue);
    if (rec === undefined) return { ready: 0, inflight: 0, delayed: 0, dead: 0, ...zeroCounters() };
    return statsOf(rec);
  }

  /** The default config for a queue with no record. */
  config(queue: string): QueueConfig {
    return this.#queues.get(queue)?.config ?? DEFAULT_QUEUE_CONFIG;
  }

  /** Names of the queue records, ascending (code-unit order). */
  queueNames(): string[] {
    return [...this.#queues.keys()].sort(compareStrings);
  }

  get queueCount(): number {
    return this.#queues.size;
  }

  /** The earliest lease end, delay end or dedup expiry: when the leader should propose a `tick`. */
  nextDeadlineMs(): number | undefined {
    for (let d = this.#deadlines.peek(); d !== undefined; d = this.#deadlines.peek()) {
      if (this.#isLive(d)) return d.atMs;
      this.#deadlines.pop();
    }
    return undefined;
  }

  totals(): QueueTotals {
    const t: QueueTotals = {
      queues: this.#queues.size,
      ready: 0,
      inflight: 0,
      delayed: 0,
      dead: 0,
      ...zeroCounters(),
    };
    for (const rec of this.#queues.values()) {
      const s = statsOf(rec);
      for (const k of Object.keys(s) as (keyof QueueStats)[]) t[k] += s[k];
    }
    return t;
  }

  /** The `n` deepest queues (ready + inflight + delayed), deepest first, ties by name. */
  topQueues(n: number): TopQueue[] {
    const all: TopQueue[] = [];
    for (const rec of this.#queues.values()) {
      const { ready, inflight, delayed } = {
        ready: rec.ready.size,
        inflight: rec.inflight,
        delayed: rec.delayed,
      };
      all.push({
        queue: rec.name,
        depth: ready + inflight + delayed,
        ready,
        inflight,
        delayed,
        dead: rec.dead.size,
      });
    }
    all.sort((a, b) => b.depth - a.depth || compareStrings(a.queue, b.queue));
    return all.slice(0, Math.max(0, n));
  }

  // -------------------------------------------------------------------------------------------
  // Rows

  /** The whole state: queues by name, messages by (queue, index, pos), dedup by (queue, key). */
  rows(): QueueRows {
    const queues: QueueRow[] = [];
    const messages: MessageRow[] = [];
    const dedup: DedupRow[] = [];
    for (const name of this.queueNames()) {
      const rec = this.#queues.get(name)!;
      queues.push(queueRowOf(rec));
      for (const m of rec.messages.values()) messages.push(messageRowOf(name, m));
      for (const key of [...rec.dedup.keys()].sort(compareStrings))
        dedup.push(dedupRowOf(name, key, rec.dedup.get(key)!));
    }
    return { queues, messages, dedup };
  }

  /**
   * The rows changed since the last call, each at its current state (null: deleted), and
   * forgets them. Applying every `takeChanges()` in turn to a copy of an earlier `rows()`
   * gives `rows()`.
   */
  takeChanges(): QueueChanges {
    const queues = new Map<string, QueueRow | null>();
    for (const name of this.#dirtyQueues) {
      const rec = this.#queues.get(name);
      queues.set(name, rec === undefined ? null : queueRowOf(rec));
    }
    const messages: QueueChanges['messages'] = new Map();
    for (const [key, { queue, index, pos }] of this.#dirtyMessages) {
      const m = this.#queues.get(queue)?.messages.get(formatMessageId(index, pos));
      messages.set(key, { queue, index, pos, row: m === undefined ? null : messageRowOf(queue, m) });
    }
    const dedup: QueueChanges['dedup'] = new Map();
    for (const [rowKey, { queue, key }] of this.#dirtyDedup) {
      const d = this.#queues.get(queue)?.dedup.get(key);
      dedup.set(rowKey, { queue, key, row: d === undefined ? null : dedupRowOf(queue, key, d) });
    }
    this.#dirtyQueues = new Set();
    this.#dirtyMessages = new Map();
    this.#dirtyDedup = new Map();
    return { queues, messages, dedup };
  }

  // -------------------------------------------------------------------------------------------
  // Commands

  #execute(cmd: QueueCommand): QueueResult {
    try {
      // Decoded commands are valid already; this catches ones built in code.
      validateQueueCommand(cmd);
    } catch (e) {
      if (e instanceof QueueCodecError)
        return { kind: 'error', code: 'ERR', message: `invalid queue command: ${e.message}` };
      throw e;
    }
    switch (cmd.op) {
      case 'push':
        return this.#push(cmd);
      case 'pop':
        return this.#pop(cmd.queue, cmd.count, cmd.visibilityMs);
      case 'ack':
        return this.#ack(cmd.queue, cmd.ids);
      case 'nack':
        return this.#nack(cmd.queue, cmd.id, cmd.delayMs);
      case 'extend': {
        const rec = this.#queues.get(cmd.queue);
        const m = rec?.messages.get(cmd.id);
        if (rec === undefined || m === undefined || m.state !== 'inflight') return ZERO;
        m.visibleAtMs = this.#now + cmd.ms;
        this.#timeMessage(rec, m, false);
        this.#markMessage(rec.name, m);
        return ONE;
      }
      case 'config':
        return this.#configure(cmd);
      case 'tick':
        return TICKED;
      case 'redrive':
        return this.#redrive(cmd.queue, cmd.count, cmd.drop);
    }
  }

  /** The oldest dead letters back to ready (deliveries from 0), or deleted with `drop`. */
  #redrive(queue: string, count: number, drop: boolean): QueueResult {
    const rec = this.#queues.get(queue);
    if (rec === undefined) return { kind: 'count', n: 0 };
    const letters = rec.dead.take(count);
    for (const m of letters) {
      rec.dead.delete(m);
      if (drop) {
        rec.messages.delete(m.id);
        this.#markMessage(rec.name, m);
      } else {
        m.deliveries = 0;
        this.#toReady(rec, m);
      }
    }
    this.#touched.add(rec.name);
    return { kind: 'count', n: letters.length };
  }

  #push(cmd: Extract<QueueCommand, { op: 'push' }>): QueueResult {
    let rec = this.#queues.get(cmd.queue);
    const key = cmd.dedupKey ?? null;
    if (key !== null) {
      // Within the window by construction: expired keys went before the command.
      const seen = rec?.dedup.get(key);
      if (seen !== undefined) return { kind: 'pushed', ids: idsOf(seen.index, seen.count), duplicate: true };
    }
    const n = cmd.payloads.length;
    const { maxLen } = rec?.config ?? DEFAULT_QUEUE_CONFIG;
    if (maxLen > 0 && (rec === undefined ? 0 : liveCount(rec)) + n > maxLen) {
      return { kind: 'error', code: 'LIMIT', message: `queue '${cmd.queue}' is at MAXLEN ${maxLen}` };
    }
    // The node-wide cap bounds memory, so it counts every message held, dead letters too.
    const held = rec === undefined ? 0 : rec.messages.size;
    if (cmd.maxLength !== undefined && held + n > cmd.maxLength) {
      return {
        kind: 'error',
        code: 'LIMIT',
        message: `queue '${cmd.queue}' holds ${held} messages (dead letters included); ${n} more would exceed queue-max-length ${cmd.maxLength}`,
      };
    }
    rec ??= this.#create(cmd.queue);
    const delayed = cmd.delayMs > 0;
    const ids: string[] = [];
    for (let pos = 0; pos < n; pos++) {
      const m: Message = {
        index: this.#index,
        pos,
        id: formatMessageId(this.#index, pos),
        payload: cmd.payloads[pos]!,
        dedupKey: key,
        state: delayed ? 'delayed' : 'ready',
        deliveries: 0,
        visibleAtMs: delayed ? this.#now + cmd.delayMs : 0,
      };
      rec.messages.set(m.id, m);
      ids.push(m.id);
      if (delayed) {
        rec.delayed += 1;
        this.#timeMessage(rec, m);
      } else {
        rec.ready.insert(m);
      }
      this.#markMessage(rec.name, m);
    }
    rec.counters.pushed += n;
    this.#markQueue(rec.name);
    if (key !== null) {
      const entry: DedupEntry = { index: this.#index, count: n, expiresAtMs: this.#now + DEDUP_WINDOW_MS };
      rec.dedup.set(key, entry);
      this.#timed += 1;
      this.#deadlines.push({ atMs: entry.expiresAtMs, queue: rec.name, kind: 'dedup', key });
      this.#markDedup(rec.name, key);
    }
    if (!delayed) this.#gain(rec.name);
    return { kind: 'pushed', ids };
  }

  #pop(queue: string, count: number, visibilityMs: number | undefined): QueueResult {
    const rec = this.#queues.get(queue);
    if (rec === undefined || rec.ready.size === 0) return { kind: 'popped', messages: [] };
    const until = this.#now + (visibilityMs ?? rec.config.visibilityMs);
    const messages: QueueMessage[] = [];
    for (const m of withinReplyBytes(rec.ready.take(count))) {
      rec.ready.shift();
      m.state = 'inflight';
      m.deliveries += 1;
      m.visibleAtMs = until;
      rec.inflight += 1;
      this.#timeMessage(rec, m);
      this.#markMessage(queue, m);
      messages.push(toQueueMessage(m));
    }
    return { kind: 'popped', messages };
  }

  #ack(queue: string, ids: readonly string[]): QueueResult {
    const rec = this.#queues.get(queue);
    if (rec === undefined) return ZERO;
    let n = 0;
    for (const id of ids) {
      const m = rec.messages.get(id);
      if (m === undefined || m.state === 'dead') continue;
      this.#remove(rec, m);
      n += 1;
    }
    if (n === 0) return ZERO;
    rec.counters.acked += n;
    this.#markQueue(queue);
    this.#touched.add(queue);
    return { kind: 'count', n };
  }

  #nack(queue: string, id: string, delayMs: number): QueueResult {
    const rec = this.#queues.get(queue);
    const m = rec?.messages.get(id);
    if (rec === undefined || m === undefined || m.state !== 'inflight') return ZERO;
    this.#leaveInflight(rec);
    if (this.#exhausted(rec, m)) {
      this.#toDead(rec, m);
    } else if (delayMs > 0) {
      m.state = 'delayed';
      m.visibleAtMs = this.#now + delayMs;
      rec.delayed += 1;
      this.#timeMessage(rec, m);
      this.#markMessage(queue, m);
    } else {
      this.#toReady(rec, m);
    }
    return ONE;
  }

  #configure(cmd: Extract<QueueCommand, { op: 'config' }>): QueueResult {
    let rec = this.#queues.get(cmd.queue);
    const old = rec?.config ?? DEFAULT_QUEUE_CONFIG;
    const next: QueueConfig = Object.freeze({
      maxDeliveries: cmd.maxDeliveries ?? old.maxDeliveries,
      visibilityMs: cmd.visibilityMs ?? old.visibilityMs,
      maxLen: cmd.maxLen ?? old.maxLen,
    });
    if (
      next.maxDeliveries === old.maxDeliveries &&
      next.visibilityMs === old.visibilityMs &&
      next.maxLen === old.maxLen
    ) {
      return { kind: 'config', config: old };
    }
    // Changes take effect from now on: a lower MAXLEN refuses pushes but drops nothing; a lower
    // MAXDELIVERIES applies at the next lease expiry or nack.
    rec ??= this.#create(cmd.queue);
    rec.config = isDefaultConfig(next) ? DEFAULT_QUEUE_CONFIG : next;
    this.#markQueue(rec.name);
    this.#touched.add(rec.name);
    return { kind: 'config', config: rec.config };
  }

  // -------------------------------------------------------------------------------------------
  // Time

  /**
   * Processes everything due by now, in (queue, kind, id or key) order so that the events come
   * out the same on every replica whatever their heaps hold.
   */
  #processDue(): void {
    const due: QueueDeadline[] = [];
    for (let d = this.#deadlines.peek(); d !== undefined && d.atMs <= this.#now; d = this.#deadlines.peek()) {
      this.#deadlines.pop();
      if (this.#isLive(d)) due.push(d);
    }
    if (due.length === 0) return;
    due.sort(compareDeadlines);
    for (const d of due) {
      // A message extended to the same time twice has two entries: the second finds it done.
      if (!this.#isLive(d)) continue;
      const rec = this.#queues.get(d.queue)!;
      this.#touched.add(rec.name);
      if (d.kind === 'dedup') {
        rec.dedup.delete(d.key);
        this.#timed -= 1;
        this.#markDedup(rec.name, d.key);
        continue;
      }
      const m = rec.messages.get(d.id)!;
      if (m.state === 'inflight') {
        this.#leaveInflight(rec);
        if (this.#exhausted(rec, m)) {
          this.#toDead(rec, m);
        } else {
          rec.counters.redelivered += 1;
          this.#markQueue(rec.name);
          this.#toReady(rec, m);
        }
      } else {
        rec.delayed -= 1;
        this.#timed -= 1;
        this.#toReady(rec, m);
      }
    }
  }

  #isLive(d: QueueDeadline): boolean {
    const rec = this.#queues.get(d.queue);
    if (rec === undefined) return false;
    if (d.kind === 'dedup') return rec.dedup.get(d.key)?.expiresAtMs === d.atMs;
    const m = rec.messages.get(d.id);
    return m !== undefined && (m.state === 'inflight' || m.state === 'delayed') && m.visibleAtMs === d.atMs;
  }

  /** Drops stale heap entries, and duplicates (one message extended to the same time twice). */
  #compactDeadlines(): void {
    const seen = new Set<string>();
    this.#deadlines.retain((d) => {
      if (!this.#isLive(d)) return false;
      const key =
        d.kind === 'dedup' ? `d${dedupRowKey(d.queue, d.key)}` : `m${messageKey(d.queue, d.index, d.pos)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  // -------------------------------------------------------------------------------------------
  // State transitions

  /** Puts the message's `visibleAtMs` in the heap; `counted`: it just became inflight or delayed. */
  #timeMessage(rec: QueueRecord, m: Message, counted = true): void {
    if (counted) this.#timed += 1;
    this.#deadlines.push({
      atMs: m.visibleAtMs,
      queue: rec.name,
      kind: 'message',
      id: m.id,
      index: m.index,
      pos: m.pos,
    });
  }

  #leaveInflight(rec: QueueRecord): void {
    rec.inflight -= 1;
    this.#timed -= 1;
  }

  #exhausted(rec: QueueRecord, m: Message): boolean {
    const { maxDeliveries } = rec.config;
    return maxDeliveries > 0 && m.deliveries >= maxDeliveries;
  }

  #toReady(rec: QueueRecord, m: Message): void {
    m.state = 'ready';
    m.visibleAtMs = 0;
    rec.ready.insert(m);
    this.#markMessage(rec.name, m);
    this.#gain(rec.name);
  }

  #toDead(rec: QueueRecord, m: Message): void {
    m.state = 'dead';
    m.visibleAtMs = 0;
    rec.dead.insert(m);
    rec.counters.deadLettered += 1;
    this.#markQueue(rec.name);
    this.#markMessage(rec.name, m);
  }

  /** Deletes a message that is not dead (an ack). */
  #remove(rec: QueueRecord, m: Message): void {
    rec.messages.delete(m.id);
    switch (m.state) {
      case 'ready':
        rec.ready.delete(m);
        break;
      case 'inflight':
        rec.inflight -= 1;
        this.#timed -= 1;
        break;
      case 'delayed':
        rec.delayed -= 1;
        this.#timed -= 1;
        break;
      case 'dead':
        assert(false, 'a dead message cannot be removed');
    }
    this.#markMessage(rec.name, m);
  }

  #create(name: string): QueueRecord {
    const rec = newRecord(name);
    this.#queues.set(name, rec);
    this.#markQueue(name);
    this.#touched.add(name);
    return rec;
  }

  #dropIfIdle(name: string): void {
    const rec = this.#queues.get(name);
    if (rec === undefined || rec.messages.size > 0 || rec.dedup.size > 0 || !isDefaultConfig(rec.config))
      return;
    this.#queues.delete(name);
    this.#markQueue(name);
  }

  #gain(queue: string): void {
    if (this.#gained.has(queue)) return;
    this.#gained.add(queue);
    this.#events.push({ kind: 'ready', queue });
  }

  #markQueue(name: string): void {
    if (this.#track) this.#dirtyQueues.add(name);
  }

  #markMessage(queue: string, m: Message): void {
    if (this.#track)
      this.#dirtyMessages.set(messageKey(queue, m.index, m.pos), { queue, index: m.index, pos: m.pos });
  }

  #markDedup(queue: string, key: string): void {
    if (this.#track) this.#dirtyDedup.set(dedupRowKey(queue, key), { queue, key });
  }
}

const ZERO: QueueResult = { kind: 'count', n: 0 };
const ONE: QueueResult = { kind: 'count', n: 1 };
const TICKED: QueueResult = { kind: 'ticked' };

function newRecord(name: string): QueueRecord {
  return {
    name,
    config: DEFAULT_QUEUE_CONFIG,
    counters: zeroCounters(),
    messages: new Map(),
    ready: new SortedList(compareMessages),
    dead: new SortedList(compareMessages),
    inflight: 0,
    delayed: 0,
    dedup: new Map(),
  };
}

function configOf(c: QueueConfig): QueueConfig {
  if (isDefaultConfig(c)) return DEFAULT_QUEUE_CONFIG;
  return Object.freeze({ maxDeliveries: c.maxDeliveries, visibilityMs: c.visibilityMs, maxLen: c.maxLen });
}

/** What MAXLEN counts. */
function liveCount(rec: QueueRecord): number {
  return rec.ready.size + rec.inflight + rec.delayed;
}

function idsOf(index: number, count: number): string[] {
  const ids: string[] = [];
  for (let pos = 0; pos < count; pos++) ids.push(formatMessageId(index, pos));
  return ids;
}

function compareDeadlines(a: QueueDeadline, b: QueueDeadline): number {
  const byQueue = compareStrings(a.queue, b.queue);
  if (byQueue !== 0) return byQueue;
  if (a.kind === 'message') return b.kind === 'message' ? a.index - b.index || a.pos - b.pos : -1;
  return b.kind === 'dedup' ? compareStrings(a.key, b.key) : 1;
}

function toQueueMessage(m: Message): QueueMessage {
  return { id: m.id, payload: m.payload, deliveries: m.deliveries };
}

function statsOf(rec: QueueRecord): QueueStats {
  return {
    ready: rec.ready.size,
    inflight: rec.inflight,
    delayed: rec.delayed,
    dead: rec.dead.size,
    ...rec.counters,
  };
}

function queueRowOf(rec: QueueRecord): QueueRow {
  return { name: rec.name, ...rec.config, ...rec.counters };
}

function messageRowOf(queue: string, m: Message): MessageRow {
  return {
    queue,
    index: m.index,
    pos: m.pos,
    payload: m.payload,
    state: m.state,
    deliveries: m.deliveries,
    visibleAtMs: m.visibleAtMs,
    dedupKey: m.dedupKey,
  };
}

function dedupRowOf(queue: string, key: string, d: DedupEntry): DedupRow {
  return { queue, key, index: d.index, count: d.count, expiresAtMs: d.expiresAtMs };
}
