import {
  type CacheBoundMessage,
  type CacheInput,
  type CacheLine,
  type CacheMessage,
  type CacheState,
  type CacheStepContext,
  CoherenceError,
  type Completion,
  cacheStep,
  EMPTY_LINE,
  isStable,
  type LocalOp,
  type NodeId,
  type Protocol,
  type Stored,
  valueBytes,
} from './protocol.js';

/**
 * A node's cache controller (DESIGN.md §8): one line per key, driven by the local operations
 * the service asks for and the coherence messages it delivers. Pure: it returns the messages
 * to send and the operations that completed, and never sends or waits itself, so the service,
 * the tests and the model checker drive it alike.
 */

/** A local read or write waiting for its line to leave a transient state, in arrival order. */
export type WaitingOp = Extract<LocalOp, { kind: 'Load' | 'Store' }>;

/** A key's line plus the local operations queued behind its transaction. */
export interface Slot {
  readonly line: CacheLine;
  readonly waiting: readonly WaitingOp[];
}

export const EMPTY_SLOT: Slot = { line: EMPTY_LINE, waiting: [] };

/** The rule `slotStep` reports when a local operation joins a slot's queue. */
export const QUEUED = 'queued';

export interface SlotStepResult {
  readonly slot: Slot;
  readonly send: readonly CacheMessage[];
  readonly completed: readonly Completion[];
  /** Every table row that fired (`state:event`), stalls included. */
  readonly rules: readonly string[];
  /** The table actions that ran, in order (for counters). */
  readonly actions: readonly string[];
}

/**
 * One input to a key's slot. A read or write that arrives while others wait, or that the table
 * stalls, joins the queue; an evict of a line with queued operations does nothing (the line is
 * busy). After a message, queued operations run in order until one stalls again.
 *
 * Operations that are in flight together are concurrent: the cache orders them (a read may be
 * served from the S copy while a write waits for M), so a caller that needs its own operations
 * ordered waits for each before the next, as a Redis connection does.
 */
export function slotStep(
  protocol: Protocol,
  slot: Slot,
  input: CacheInput,
  ctx: CacheStepContext,
): SlotStepResult {
  const send: CacheMessage[] = [];
  const completed: Completion[] = [];
  const rules: string[] = [];
  const actions: string[] = [];
  let { line, waiting } = slot;
  const local = 'kind' in input;
  if (local && input.kind === 'Evict' && waiting.length > 0) {
    return { slot, send, completed, rules: ['busy:Evict'], actions };
  }
  if (local && input.kind !== 'Evict' && waiting.length > 0) {
    return { slot: { line, waiting: [...waiting, input] }, send, completed, rules: [QUEUED], actions };
  }
  const r = cacheStep(protocol, line, input, ctx);
  rules.push(r.rule);
  if (r.stalled) {
    if (!local || input.kind === 'Evict') {
      throw new CoherenceError(`${protocol} cache ${ctx.node} key '${ctx.key}': ${r.rule} stalled`);
    }
    rules.push(QUEUED);
    return { slot: { line, waiting: [input] }, send, completed, rules, actions };
  }
  line = r.line;
  send.push(...r.send);
  completed.push(...r.completed);
  actions.push(...r.actions);
  while (waiting.length > 0) {
    const [head, ...rest] = waiting;
    const w = cacheStep(protocol, line, head!, ctx);
    if (w.stalled) break;
    rules.push(w.rule);
    actions.push(...w.actions);
    line = w.line;
    waiting = rest;
    send.push(...w.send);
    completed.push(...w.completed);
  }
  return { slot: { line, waiting }, send, completed, rules, actions };
}

// ---------------------------------------------------------------------------------------------

export type LocalResult =
  | { readonly hit: true; readonly value: Stored; readonly send: readonly CacheMessage[] }
  | { readonly hit: false; readonly requestId: number; readonly send: readonly CacheMessage[] };

export interface ReceiveResult {
  readonly send: readonly CacheMessage[];
  readonly completed: readonly Completion[];
}

export interface NodeCacheOptions {
  readonly node: NodeId;
  readonly protocol: Protocol;
  /** The key's home node (its directory) under the current ring. */
  readonly homeOf: (key: string) => NodeId;
  /** Bound on keys plus values held, least recently used lines evicted beyond it. */
  readonly maxBytes?: number;
}

export interface NodeCacheCounters {
  readHits: number;
  readMisses: number;
  writeHits: number;
  /** Writes that needed the home: from I (misses) and from S/O (upgrades). */
  writeMisses: number;
  upgrades: number;
  /** Operations that waited behind another on the same key. */
  queued: number;
  invalidationsReceived: number;
  forwardsReceived: number;
  /** Dirty values sent home: PutM, PutO, and WbData on a forwarded read (MESI). */
  writebacks: number;
  /** Lines given up, by `evict` or by the byte bound. */
  evictions: number;
  /** Of those, by the byte bound. */
  capacityEvictions: number;
}

/** Per-line overhead counted against `maxBytes` besides key and value bytes. */
export const LINE_OVERHEAD_BYTES = 64;

/**
 * The per-node cache: a map key → slot in least-recently-used order, bounded by bytes. Every
 * method returns the messages the service must send; `receive` also returns the operations
 * the message completed. Request ids are this node's, increasing from 1.
 */
export class NodeCache {
  readonly node: NodeId;
  readonly protocol: Protocol;
  readonly #homeOf: (key: string) => NodeId;
  readonly #maxBytes: number;
  /** In LRU order: a touched key is moved to the end. Lines in I with nothing pending are absent. */
  readonly #slots = new Map<string, Slot>();
  /**
   * The key last moved to the end of `#slots`, if it is still there. A hit on it skips the move:
   * a Map that deletes and re-adds one key on every read rehashes every few reads.
   */
  #mru: string | undefined;
  #bytes = 0;
  /** Bytes of lines already being evicted (waiting for PutAck): trimming cannot gain them again. */
  #leavingBytes = 0;
  #nextRequestId = 1;
  readonly #counters: NodeCacheCounters = {
    readHits: 0,
    readMisses: 0,
    writeHits: 0,
    writeMisses: 0,
    upgrades: 0,
    queued: 0,
    invalidationsReceived: 0,
    forwardsReceived: 0,
    writebacks: 0,
    evictions: 0,
    capacityEvictions: 0,
  };

  constructor(options: NodeCacheOptions) {
    this.node = options.node;
    this.protocol = options.protocol;
    this.#homeOf = options.homeOf;
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  }

  /** A hit completes at once; a miss returns the request to wait for in `receive`'s completions. */
  read(key: string): LocalResult {
    // The common case without the table: a Load on a stable readable line with nothing pending
    // or queued is the tables' `hit` row (no state change, no message) — only the recency moves.
    const slot = this.#slots.get(key);
    if (
      slot !== undefined &&
      slot.line.pending === null &&
      slot.waiting.length === 0 &&
      FAST_HIT_STATES.has(slot.line.state)
    ) {
      this.#nextRequestId++;
      this.#counters.readHits++;
      if (this.#mru !== key) {
        this.#slots.delete(key);
        this.#slots.set(key, slot);
        this.#mru = key;
      }
      return { hit: true, value: slot.line.value, send: NO_MESSAGES };
    }
    return this.#local(key, { kind: 'Load', requestId: this.#nextRequestId++ });
  }

  /** `null` deletes (the key reads as nil afterwards). */
  write(key: string, value: Stored): LocalResult {
    return this.#local(key, { kind: 'Store', requestId: this.#nextRequestId++, value });
  }

  /** Give the line up (writing it back if dirty). Nothing happens to a line in transition. */
  evict(key: string): { readonly send: readonly CacheMessage[] } {
    const slot = this.#slots.get(key);
    if (slot === undefined) return { send: [] };
    const r = this.#step(key, slot, { kind: 'Evict', requestId: this.#nextRequestId++ });
    if (r.send.length > 0) this.#counters.evictions++;
    return { send: r.send };
  }

  /** A message addressed to this node's cache (`!isHomeMessage(m)`). */
  receive(message: CacheBoundMessage): ReceiveResult {
    if (message.to !== this.node) {
      throw new CoherenceError(`cache ${this.node}: ${message.type} addressed to ${message.to}`);
    }
    const r = this.#step(message.key, this.#slots.get(message.key) ?? EMPTY_SLOT, message);
    const send = [...r.send, ...this.#trim(message.key)];
    return { send, completed: r.completed };
  }

  /** The line's state (I when absent) and value, for INFO-style introspection and tests. */
  peek(key: string): { state: CacheState; value: Stored; waiting: number } {
    const s = this.#slots.get(key);
    return { state: s?.line.state ?? 'I', value: s?.line.value ?? null, waiting: s?.waiting.length ?? 0 };
  }

  /** Lines held per state (absent lines are not counted as I). */
  linesByState(): Partial<Record<CacheState, number>> {
    const out: Partial<Record<CacheState, number>> = {};
    for (const s of this.#slots.values()) out[s.line.state] = (out[s.line.state] ?? 0) + 1;
    return out;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#slots.size;
  }

  counters(): Readonly<NodeCacheCounters> {
    return { ...this.#counters };
  }

  /**
   * Forget the lines of the keys `pred` selects, without any message: for a ring change, when
   * their home has moved and the old home forgets them too (and messages of the old epoch are
   * discarded by the service). Dirty values are lost (this is a cache); operations waiting on
   * those lines never complete here, so their request ids are returned for the service to fail.
   */
  dropWhere(pred: (key: string) => boolean): { failed: number[]; dirtyLost: number } {
    const failed: number[] = [];
    let dirtyLost = 0;
    for (const [key, slot] of this.#slots) {
      if (!pred(key)) continue;
      const { line } = slot;
      if (line.state === 'M' || line.state === 'O' || line.state === 'MI_A' || line.state === 'OI_A')
        dirtyLost++;
      if (line.pending !== null && line.pending.op !== 'evict') failed.push(line.pending.requestId);
      for (const w of slot.waiting) failed.push(w.requestId);
      this.#account(key, slot, -1);
      this.#slots.delete(key);
    }
    this.#mru = undefined;
    return { failed, dirtyLost };
  }

  #local(key: string, op: LocalOp & { kind: 'Load' | 'Store' }): LocalResult {
    const slot = this.#slots.get(key) ?? EMPTY_SLOT;
    const r = this.#step(key, slot, op);
    const send = [...r.send, ...this.#trim(key)];
    const done = r.completed.find((c) => c.requestId === op.requestId);
    if (done !== undefined) return { hit: true, value: done.value, send };
    return { hit: false, requestId: op.requestId, send };
  }

  #step(key: string, slot: Slot, input: CacheInput): SlotStepResult {
    const r = slotStep(this.protocol, slot, input, { node: this.node, home: this.#homeOf(key), key });
    this.#count(r, input);
    if (this.#slots.delete(key)) this.#account(key, slot, -1);
    const s = r.slot;
    if (s.line.state !== 'I' || s.line.pending !== null || s.waiting.length > 0) {
      this.#slots.set(key, s);
      this.#account(key, s, 1);
      this.#mru = key;
    } else if (this.#mru === key) {
      this.#mru = undefined;
    }
    return r;
  }

  #account(key: string, slot: Slot, sign: 1 | -1): void {
    const n = sign * slotBytes(key, slot);
    this.#bytes += n;
    if (LEAVING_STATES.has(slot.line.state)) this.#leavingBytes += n;
  }

  #count(r: SlotStepResult, input: CacheInput): void {
    const c = this.#counters;
    for (const rule of r.rules) if (rule === QUEUED) c.queued++;
    for (const a of r.actions) {
      if (a === 'hit') c.readHits++;
      else if (a === 'sendGetS') c.readMisses++;
      else if (a === 'store') c.writeHits++;
      else if (a === 'sendGetM') c.writeMisses++;
      else if (a === 'sendPutM' || a === 'sendPutO' || a === 'sendWbData') c.writebacks++;
    }
    if (r.rules.includes('S:Store') || r.rules.includes('O:Store')) c.upgrades++;
    if ('type' in input) {
      if (input.type === 'Inv') c.invalidationsReceived++;
      if (input.type === 'FwdGetS' || input.type === 'FwdGetM') c.forwardsReceived++;
    }
  }

  /** Evict least recently used stable lines (not `keep`) while over the byte bound. */
  #trim(keep: string): CacheMessage[] {
    const send: CacheMessage[] = [];
    // Lines move to the end of the map as they are evicted; they are then skipped as unstable.
    for (const [key, slot] of this.#slots) {
      if (this.#bytes - this.#leavingBytes <= this.#maxBytes) break;
      if (key === keep || !isStable(slot.line.state) || slot.waiting.length > 0) continue;
      const r = this.#step(key, slot, { kind: 'Evict', requestId: this.#nextRequestId++ });
      if (r.send.length > 0) {
        this.#counters.evictions++;
        this.#counters.capacityEvictions++;
      }
      send.push(...r.send);
    }
    return send;
  }
}

/** Stable states a Load hits in (CACHE_TABLES: `hit`, state unchanged). */
const FAST_HIT_STATES: ReadonlySet<CacheState> = new Set(['S', 'E', 'O', 'M']);
const NO_MESSAGES: readonly CacheMessage[] = Object.freeze([]);

const LEAVING_STATES: ReadonlySet<CacheState> = new Set(['MI_A', 'EI_A', 'OI_A', 'SI_A', 'II_A']);

function slotBytes(key: string, slot: Slot): number {
  let n = LINE_OVERHEAD_BYTES + Buffer.byteLength(key, 'utf8') + valueBytes(slot.line.value);
  for (const w of slot.waiting) if (w.kind === 'Store') n += valueBytes(w.value);
  if (slot.line.pending?.op === 'write') n += valueBytes(slot.line.pending.value);
  return n;
}
