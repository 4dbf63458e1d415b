import type { Hold, LockMode, Wait } from './types.js';

/**
 * One live lock: its holders and its FIFO queue. A lock with neither is deleted from the
 * table, which is what keeps per-lock data (the contention count) bounded.
 *
 * Invariants (the table keeps them after every apply; snapshot restore checks them):
 * - holders are all shared, or one exclusive;
 * - an owner appears at most once in the queue; the only holder that also waits is a shared
 *   holder waiting to upgrade to exclusive, and that wait is at the front;
 * - the head of the queue cannot be granted (a grant pass ran after every change).
 */
export interface LockRecord {
  readonly holders: Map<string, Hold>;
  readonly queue: Wait[];
  contended: number;
}

export function newRecord(): LockRecord {
  return { holders: new Map(), queue: [], contended: 0 };
}

export function compatible(a: LockMode, b: LockMode): boolean {
  return a === 'shared' && b === 'shared';
}

/** Whether `owner` could hold in `mode` beside the other holders (its own hold does not count). */
export function fitsHolders(rec: LockRecord, owner: string, mode: LockMode): boolean {
  for (const h of rec.holders.values()) if (h.owner !== owner && !compatible(h.mode, mode)) return false;
  return true;
}

export function isUpgrade(rec: LockRecord, w: Wait): boolean {
  return rec.holders.has(w.owner);
}

export function waitIndex(rec: LockRecord, owner: string): number {
  return rec.queue.findIndex((w) => w.owner === owner);
}

/**
 * The owners the wait at `position` depends on: the other holders it is incompatible with,
 * and the waiters ahead of it it is incompatible with. FIFO makes the latter real: nobody is
 * granted before the waiters ahead, and an incompatible one ahead must be granted and then
 * release first. A compatible waiter ahead is no dependency: the two are granted together.
 */
export function blockersAt(rec: LockRecord, position: number, into: Set<string>): void {
  const w = rec.queue[position];
  if (w === undefined) return;
  for (const h of rec.holders.values()) {
    if (h.owner !== w.owner && !compatible(h.mode, w.mode)) into.add(h.owner);
  }
  for (let i = 0; i < position; i++) {
    const ahead = rec.queue[i]!;
    if (!compatible(ahead.mode, w.mode)) into.add(ahead.owner);
  }
}

/** Holders in their canonical order: by token, then owner (equal tokens: one grant pass). */
export function sortedHolders(rec: LockRecord): Hold[] {
  return [...rec.holders.values()].sort(byTokenThenOwner);
}

export function byTokenThenOwner(a: Hold, b: Hold): number {
  return a.token - b.token || compareStrings(a.owner, b.owner);
}

/** Code-unit order, the same on every replica (no locale). */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
