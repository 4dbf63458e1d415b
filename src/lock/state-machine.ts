import { assert } from '../lib/assert.js';
import { globMatch } from '../lib/glob.js';
import { LockCodecError, type LockCommand, type LockMode, validateLockCommand } from './commands.js';
import { type Deadline, DeadlineHeap } from './deadline-heap.js';
import {
  blockersAt,
  compareStrings,
  fitsHolders,
  type LockRecord,
  newRecord,
  sortedHolders,
  waitIndex,
} from './record.js';
import { decodeLockSnapshot, encodeLockSnapshot } from './snapshot.js';
import {
  type Hold,
  type HoldOf,
  type LockApplyContext,
  type LockCounters,
  type LockEvent,
  type LockOutcome,
  type LockResult,
  type LockStatus,
  type Wait,
  zeroCounters,
} from './types.js';
import { findCycle } from './wait-for.js';

export type { LockCommand, LockMode } from './commands.js';
export type {
  HoldOf,
  LockApplyContext,
  LockCounters,
  LockEvent,
  LockOutcome,
  LockResult,
  LockStatus,
} from './types.js';

/**
 * Group 0's lock table (DESIGN.md §6; README.md in this folder has the rules and the reasons).
 * Pure and deterministic: time is the entry's `timeMs`, tokens are entry indexes, and every
 * order that can be observed (events, cycles, snapshots) is a sorted or FIFO order, never a
 * hash or insertion order that a restored replica could have differently.
 *
 * In short: shared is compatible with shared, exclusive with nothing; waiting is FIFO per
 * lock; a re-acquire renews and keeps its token (holds are not counted: one release frees);
 * a sole shared holder upgrades at once, otherwise its upgrade waits at the front of the queue
 * keeping its shared hold; a request whose wait would close a cycle in the wait-for graph is
 * refused with the cycle and not queued. Every apply first expires the leases and waits due
 * by its time (`tick` does nothing else), so what holds at time T never depends on when the
 * leader got round to proposing a tick.
 */
export class LockTable {
  readonly #locks: Map<string, LockRecord>;
  /** Derived indexes, rebuilt on restore: owner → names it holds / waits for. */
  readonly #holdsOf = new Map<string, Set<string>>();
  readonly #waitsOf = new Map<string, Set<string>>();
  readonly #deadlines = new DeadlineHeap();
  /** Holds plus waits, to tell when the heap is mostly stale. */
  #live = 0;
  readonly #counters: LockCounters;
  #lastIndex: number;
  #lastTimeMs: number;
  /** The entry being applied. */
  #index = 0;
  #now = 0;
  #events: LockEvent[] = [];

  private constructor(bytes: Uint8Array) {
    const d = decodeLockSnapshot(bytes);
    this.#locks = new Map(d.locks);
    this.#counters = { ...d.counters };
    this.#lastIndex = d.lastIndex;
    this.#lastTimeMs = d.lastTimeMs;
    for (const [name, rec] of this.#locks) {
      for (const owner of rec.holders.keys()) addTo(this.#holdsOf, owner, name);
      for (const w of rec.queue) addTo(this.#waitsOf, w.owner, name);
      this.#live += rec.holders.size + rec.queue.length;
    }
    this.#deadlines.reset(this.#liveDeadlines());
  }

  static empty(): LockTable {
    return new LockTable(EMPTY_SNAPSHOT);
  }

  /** Throws a `LockCodecError` for bytes that are not a valid snapshot. */
  static restore(bytes: Uint8Array): LockTable {
    return new LockTable(bytes);
  }

  snapshot(): Uint8Array {
    return encodeLockSnapshot({
      lastIndex: this.#lastIndex,
      lastTimeMs: this.#lastTimeMs,
      counters: this.#counters,
      locks: this.#locks,
    });
  }

  apply(cmd: LockCommand, ctx: LockApplyContext): LockOutcome {
    assert(
      Number.isSafeInteger(ctx.index) && ctx.index > this.#lastIndex,
      `lock entry index ${ctx.index} after ${this.#lastIndex}`,
    );
    assert(Number.isSafeInteger(ctx.timeMs) && ctx.timeMs >= 0, `bad lock entry time ${ctx.timeMs}`);
    this.#index = this.#lastIndex = ctx.index;
    // The runtime makes time monotonic already; a lease must never come back to life regardless.
    this.#now = this.#lastTimeMs = Math.max(ctx.timeMs, this.#lastTimeMs);
    this.#events = [];
    this.#expireDue();
    const result = this.#execute(cmd);
    if (this.#deadlines.size > 64 + 2 * this.#live) this.#deadlines.reset(this.#liveDeadlines());
    return { result, events: this.#events };
  }

  /** The earliest lease end or wait deadline: when the leader should propose a `tick`. */
  nextDeadlineMs(): number | null {
    for (let d = this.#deadlines.peek(); d !== undefined; d = this.#deadlines.peek()) {
      if (this.#isLive(d)) return d.atMs;
      this.#deadlines.pop();
    }
    return null;
  }

  /** Live locks: each has at least one holder (a lock nobody holds grants its queue's head). */
  get size(): number {
    return this.#locks.size;
  }

  /** Requests waiting for `name` (cheap: for admission checks on every acquire). */
  waiterCount(name: string): number {
    return this.#locks.get(name)?.queue.length ?? 0;
  }

  status(name: string): LockStatus | undefined {
    const rec = this.#locks.get(name);
    if (rec === undefined) return undefined;
    const holders = sortedHolders(rec);
    return {
      mode: holders[0]?.mode ?? 'free',
      holders: holders.map((h) => ({ owner: h.owner, token: h.token, expiresAtMs: h.expiresAtMs })),
      waiters: rec.queue.map((w) => ({ owner: w.owner, mode: w.mode, deadlineMs: w.deadlineMs })),
      contended: rec.contended,
    };
  }

  /** Names of live locks matching a Redis glob, ascending, at most `count`. */
  list(pattern?: string, count = Number.POSITIVE_INFINITY): string[] {
    const out: string[] = [];
    for (const name of [...this.#locks.keys()].sort(compareStrings)) {
      if (out.length >= count) break;
      if (pattern === undefined || globMatch(pattern, name)) out.push(name);
    }
    return out;
  }

  holdsOf(owner: string): HoldOf[] {
    const names = [...(this.#holdsOf.get(owner) ?? [])].sort(compareStrings);
    return names.map((name) => {
      const h = this.#locks.get(name)!.holders.get(owner)!;
      return { name, mode: h.mode, token: h.token, expiresAtMs: h.expiresAtMs };
    });
  }

  counters(): LockCounters {
    return { ...this.#counters };
  }

  /** The `n` live locks with the most contention, most first (ties by name). */
  topContended(n: number): { name: string; contended: number }[] {
    const all: { name: string; contended: number }[] = [];
    for (const [name, rec] of this.#locks)
      if (rec.contended > 0) all.push({ name, contended: rec.contended });
    all.sort((a, b) => b.contended - a.contended || compareStrings(a.name, b.name));
    return all.slice(0, n);
  }

  #execute(cmd: LockCommand): LockResult {
    try {
      // Decoded commands are valid already; this catches ones built in code.
      validateLockCommand(cmd);
    } catch (e) {
      if (e instanceof LockCodecError)
        return { kind: 'error', message: `ERR invalid lock command: ${e.message}` };
      throw e;
    }
    switch (cmd.op) {
      case 'acquire':
        return this.#acquire(cmd);
      case 'release':
        return this.#release(cmd.name, cmd.owner, cmd.token);
      case 'renew': {
        const rec = this.#locks.get(cmd.name);
        const held = rec?.holders.get(cmd.owner);
        if (rec === undefined || held === undefined) return NOT_HELD;
        this.#setHold(cmd.name, rec, { ...held, expiresAtMs: this.#now + cmd.ttlMs });
        return { kind: 'renewed' };
      }
      case 'cancel':
        return this.#cancel(cmd.name, cmd.owner);
      case 'tick':
        return { kind: 'ticked' };
    }
  }

  #acquire(c: Extract<LockCommand, { op: 'acquire' }>): LockResult {
    let rec = this.#locks.get(c.name);
    const held = rec?.holders.get(c.owner);
    if (rec !== undefined && held !== undefined && (held.mode === c.mode || held.mode === 'exclusive')) {
      // Already satisfied: a re-acquire is a renewal and keeps the token.
      this.#setHold(c.name, rec, { ...held, expiresAtMs: this.#now + c.ttlMs });
      return { kind: 'granted', token: held.token };
    }
    const position = rec === undefined ? -1 : waitIndex(rec, c.owner);
    if (rec !== undefined && position >= 0) return this.#askAgain(c, rec, position);
    if (rec !== undefined && held !== undefined) {
      // Shared → exclusive. Granted now only to a sole holder; else it waits at the front.
      if (fitsHolders(rec, c.owner, 'exclusive'))
        return this.#grantNow(c.name, rec, c.owner, 'exclusive', c.ttlMs);
      return this.#waitOrRefuse(c, rec, 0);
    }
    if (rec === undefined) {
      rec = newRecord();
      this.#locks.set(c.name, rec);
    }
    if (rec.queue.length === 0 && fitsHolders(rec, c.owner, c.mode)) {
      return this.#grantNow(c.name, rec, c.owner, c.mode, c.ttlMs);
    }
    return this.#waitOrRefuse(c, rec, rec.queue.length);
  }

  /** The owner is waiting already: the newer request restates the wait (one wait per owner and lock). */
  #askAgain(c: Extract<LockCommand, { op: 'acquire' }>, rec: LockRecord, position: number): LockResult {
    const w = rec.queue[position]!;
    if (w.mode !== c.mode)
      return { kind: 'error', message: `ERR owner is already waiting for this lock in ${w.mode} mode` };
    rec.contended += 1;
    if (c.waitMs === 0) return REFUSED;
    const updated: Wait = { ...w, ttlMs: c.ttlMs, deadlineMs: this.#now + c.waitMs };
    rec.queue[position] = updated;
    this.#deadlines.push({ atMs: updated.deadlineMs, name: c.name, owner: c.owner, kind: 'wait' });
    return QUEUED;
  }

  #grantNow(name: string, rec: LockRecord, owner: string, mode: LockMode, ttlMs: number): LockResult {
    this.#setHold(name, rec, { owner, mode, token: this.#index, expiresAtMs: this.#now + ttlMs });
    this.#counters.grants += 1;
    return { kind: 'granted', token: this.#index };
  }

  #waitOrRefuse(c: Extract<LockCommand, { op: 'acquire' }>, rec: LockRecord, position: number): LockResult {
    rec.contended += 1;
    if (c.waitMs === 0) return REFUSED;
    const wait: Wait = {
      owner: c.owner,
      mode: c.mode,
      ttlMs: c.ttlMs,
      queuedAtMs: this.#now,
      deadlineMs: this.#now + c.waitMs,
    };
    // Queue it, then look for a cycle through it; if there is one, take it out again.
    rec.queue.splice(position, 0, wait);
    addTo(this.#waitsOf, c.owner, c.name);
    const cycle = findCycle(c.owner, (owner) => this.#waitsFor(owner));
    if (cycle !== undefined) {
      rec.queue.splice(position, 1);
      removeFrom(this.#waitsOf, c.owner, c.name);
      this.#counters.deadlocks += 1;
      return { kind: 'deadlock', cycle };
    }
    this.#live += 1;
    this.#counters.waits += 1;
    this.#deadlines.push({ atMs: wait.deadlineMs, name: c.name, owner: c.owner, kind: 'wait' });
    return QUEUED;
  }

  #release(name: string, owner: string, token: number | undefined): LockResult {
    const rec = this.#locks.get(name);
    const held = rec?.holders.get(owner);
    if (rec === undefined || held === undefined) return NOT_HELD;
    if (token !== undefined && token !== held.token) {
      return { kind: 'error', message: `ERR token ${token} does not match the hold's token ${held.token}` };
    }
    // A pending upgrade of this owner stays queued, now as a plain exclusive wait.
    this.#removeHold(name, rec, owner);
    this.#counters.releases += 1;
    this.#settle(name, rec);
    return { kind: 'released' };
  }

  #cancel(name: string, owner: string): LockResult {
    const rec = this.#locks.get(name);
    const position = rec === undefined ? -1 : waitIndex(rec, owner);
    if (rec === undefined || position < 0) return NOT_HELD;
    this.#removeWait(name, rec, position);
    this.#counters.cancels += 1;
    // Whoever waited behind it only for it may go now.
    this.#settle(name, rec);
    return { kind: 'cancelled' };
  }

  /** Expires what is due by now, lock by lock in name order: leases, then waits, then grants. */
  #expireDue(): void {
    const due = new Set<string>();
    for (let d = this.#deadlines.peek(); d !== undefined && d.atMs <= this.#now; d = this.#deadlines.peek()) {
      this.#deadlines.pop();
      if (this.#isLive(d)) due.add(d.name);
    }
    for (const name of [...due].sort(compareStrings)) {
      const rec = this.#locks.get(name)!;
      for (const h of sortedHolders(rec)) {
        if (h.expiresAtMs > this.#now) continue;
        this.#removeHold(name, rec, h.owner);
        this.#counters.expirations += 1;
        this.#events.push({ kind: 'expired', name, owner: h.owner, token: h.token });
      }
      for (let i = 0; i < rec.queue.length; ) {
        const w = rec.queue[i]!;
        if (w.deadlineMs > this.#now) {
          i++;
          continue;
        }
        this.#removeWait(name, rec, i);
        this.#counters.waitTimeouts += 1;
        this.#events.push({ kind: 'waitTimedOut', name, owner: w.owner });
      }
      this.#settle(name, rec);
    }
  }

  /** After holders or waiters went away: grant from the head of the queue; drop the lock if idle. */
  #settle(name: string, rec: LockRecord): void {
    for (let head = rec.queue[0]; head !== undefined; head = rec.queue[0]) {
      if (!fitsHolders(rec, head.owner, head.mode)) break;
      this.#removeWait(name, rec, 0);
      this.#setHold(name, rec, {
        owner: head.owner,
        mode: head.mode,
        token: this.#index,
        expiresAtMs: this.#now + head.ttlMs,
      });
      const waitedMs = this.#now - head.queuedAtMs;
      this.#counters.grants += 1;
      this.#counters.waitedMs += waitedMs;
      this.#events.push({
        kind: 'granted',
        name,
        owner: head.owner,
        mode: head.mode,
        token: this.#index,
        waitedMs,
      });
    }
    if (rec.holders.size === 0 && rec.queue.length === 0) this.#locks.delete(name);
  }

  /** Successors in the wait-for graph, sorted so every replica finds the same cycle. */
  #waitsFor(owner: string): string[] {
    const out = new Set<string>();
    for (const name of this.#waitsOf.get(owner) ?? []) {
      const rec = this.#locks.get(name)!;
      blockersAt(rec, waitIndex(rec, owner), out);
    }
    return [...out].sort(compareStrings);
  }

  /** Adds or replaces a hold. */
  #setHold(name: string, rec: LockRecord, h: Hold): void {
    if (!rec.holders.has(h.owner)) {
      this.#live += 1;
      addTo(this.#holdsOf, h.owner, name);
    }
    rec.holders.set(h.owner, h);
    this.#deadlines.push({ atMs: h.expiresAtMs, name, owner: h.owner, kind: 'hold' });
  }

  #removeHold(name: string, rec: LockRecord, owner: string): void {
    rec.holders.delete(owner);
    removeFrom(this.#holdsOf, owner, name);
    this.#live -= 1;
  }

  #removeWait(name: string, rec: LockRecord, position: number): void {
    const [w] = rec.queue.splice(position, 1);
    removeFrom(this.#waitsOf, w!.owner, name);
    this.#live -= 1;
  }

  /** Whether a heap entry still describes a lease or wait (it is not stale). */
  #isLive(d: Deadline): boolean {
    const rec = this.#locks.get(d.name);
    if (rec === undefined) return false;
    if (d.kind === 'hold') return rec.holders.get(d.owner)?.expiresAtMs === d.atMs;
    const position = waitIndex(rec, d.owner);
    return position >= 0 && rec.queue[position]!.deadlineMs === d.atMs;
  }

  #liveDeadlines(): Deadline[] {
    const out: Deadline[] = [];
    for (const [name, rec] of this.#locks) {
      for (const h of rec.holders.values())
        out.push({ atMs: h.expiresAtMs, name, owner: h.owner, kind: 'hold' });
      for (const w of rec.queue) out.push({ atMs: w.deadlineMs, name, owner: w.owner, kind: 'wait' });
    }
    return out;
  }
}

const EMPTY_SNAPSHOT = encodeLockSnapshot({
  lastIndex: 0,
  lastTimeMs: 0,
  counters: zeroCounters(),
  locks: new Map(),
});

const NOT_HELD: LockResult = { kind: 'notHeld' };
const REFUSED: LockResult = { kind: 'refused' };
const QUEUED: LockResult = { kind: 'queued' };

function addTo(index: Map<string, Set<string>>, owner: string, name: string): void {
  let names = index.get(owner);
  if (names === undefined) {
    names = new Set();
    index.set(owner, names);
  }
  names.add(name);
}

function removeFrom(index: Map<string, Set<string>>, owner: string, name: string): void {
  const names = index.get(owner);
  if (names === undefined) return;
  names.delete(name);
  if (names.size === 0) index.delete(owner);
}
