import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import { LOCK_LIMITS, LockCodecError, modeCode, readMode, validateLockCommand } from './commands.js';
import { compareStrings, fitsHolders, type LockRecord, newRecord, sortedHolders } from './record.js';
import { COUNTER_NAMES, type LockCounters, zeroCounters } from './types.js';

/**
 * The lock table's snapshot bytes. Deterministic: locks by name, holders by (token, owner),
 * waiters in queue order (which is state), so equal tables give equal bytes. Restoring checks
 * every invariant the table relies on (record.ts), so a corrupt snapshot fails here rather
 * than in a later apply.
 *
 * ```
 * u8 version (1) | varint lastIndex | varint lastTimeMs | 8 × varint counter (types.ts order)
 * varint n | n × lock    lock   = string name | varint contended | varint h | h × holder | varint w | w × waiter
 *                        holder = string owner | u8 mode | varint token | varint expiresAtMs
 *                        waiter = string owner | u8 mode | varint ttlMs | varint queuedAtMs | varint deadlineMs
 * ```
 */

export interface LockData {
  /** The last applied entry: tokens are at most this, and the next entry's index is above it. */
  readonly lastIndex: number;
  /** Its (monotonic) time: every lease and wait still present ends after it. */
  readonly lastTimeMs: number;
  readonly counters: LockCounters;
  readonly locks: ReadonlyMap<string, LockRecord>;
}

const VERSION = 1;

export function encodeLockSnapshot(d: LockData): Uint8Array {
  const w = new ByteWriter(64 + 64 * d.locks.size);
  w.byte(VERSION);
  w.varint(d.lastIndex);
  w.varint(d.lastTimeMs);
  for (const c of COUNTER_NAMES) w.varint(d.counters[c]);
  const names = [...d.locks.keys()].sort(compareStrings);
  w.varint(names.length);
  for (const name of names) {
    const rec = d.locks.get(name)!;
    w.string(name, LOCK_LIMITS.maxNameBytes, 'lock name');
    w.varint(rec.contended);
    w.varint(rec.holders.size);
    for (const h of sortedHolders(rec)) {
      w.string(h.owner, LOCK_LIMITS.maxOwnerBytes, 'owner');
      w.byte(modeCode(h.mode));
      w.varint(h.token);
      w.varint(h.expiresAtMs);
    }
    w.varint(rec.queue.length);
    for (const q of rec.queue) {
      w.string(q.owner, LOCK_LIMITS.maxOwnerBytes, 'owner');
      w.byte(modeCode(q.mode));
      w.varint(q.ttlMs);
      w.varint(q.queuedAtMs);
      w.varint(q.deadlineMs);
    }
  }
  return w.finish();
}

export function decodeLockSnapshot(bytes: Uint8Array): LockData {
  try {
    return read(new ByteReader(bytes));
  } catch (e) {
    if (e instanceof LockCodecError && e.message.startsWith('lock snapshot: ')) throw e;
    if (e instanceof CodecError) throw new LockCodecError(`lock snapshot: ${e.message}`);
    throw e;
  }
}

function read(r: ByteReader): LockData {
  const version = r.byte();
  if (version !== VERSION) fail(`unknown version ${version}`);
  const lastIndex = r.varint();
  const lastTimeMs = r.varint();
  const counters = zeroCounters();
  for (const c of COUNTER_NAMES) counters[c] = r.varint();
  const locks = new Map<string, LockRecord>();
  // Smallest lock: a 1-byte name (2 bytes) and three 1-byte varints.
  const lockCount = r.count(5);
  let previous: string | undefined;
  for (let i = 0; i < lockCount; i++) {
    const name = r.string(LOCK_LIMITS.maxNameBytes, 'lock name');
    if (previous !== undefined && compareStrings(previous, name) >= 0)
      fail('locks not in ascending name order');
    previous = name;
    locks.set(name, readLock(r, name, lastIndex, lastTimeMs));
  }
  r.expectEnd();
  return { lastIndex, lastTimeMs, counters, locks };
}

function readLock(r: ByteReader, name: string, lastIndex: number, lastTimeMs: number): LockRecord {
  const rec = newRecord();
  rec.contended = r.varint();
  const holderCount = r.count(5);
  let last: { token: number; owner: string } | undefined;
  for (let i = 0; i < holderCount; i++) {
    const owner = r.string(LOCK_LIMITS.maxOwnerBytes, 'owner');
    const mode = readMode(r);
    const token = r.varint();
    const expiresAtMs = r.varint();
    checkNames(name, owner);
    if (token < 1 || token > lastIndex) fail(`a token ${token} outside 1..${lastIndex}`);
    if (expiresAtMs <= lastTimeMs) fail(`a lease that ended at ${expiresAtMs}, by ${lastTimeMs}`);
    if (last !== undefined && (last.token > token || (last.token === token && last.owner >= owner))) {
      fail('holders not in (token, owner) order');
    }
    if (rec.holders.has(owner)) fail('an owner holds a lock twice');
    if (!fitsHolders(rec, owner, mode)) fail('incompatible holders');
    last = { token, owner };
    rec.holders.set(owner, { owner, mode, token, expiresAtMs });
  }
  const waiterCount = r.count(6);
  const waiting = new Set<string>();
  for (let i = 0; i < waiterCount; i++) {
    const owner = r.string(LOCK_LIMITS.maxOwnerBytes, 'owner');
    const mode = readMode(r);
    const ttlMs = r.varint();
    const queuedAtMs = r.varint();
    const deadlineMs = r.varint();
    checkNames(name, owner);
    if (ttlMs < 1 || ttlMs > LOCK_LIMITS.maxTtlMs) fail(`a waiter's ttlMs ${ttlMs}`);
    if (
      queuedAtMs > lastTimeMs ||
      deadlineMs <= lastTimeMs ||
      deadlineMs - queuedAtMs > LOCK_LIMITS.maxWaitMs
    ) {
      fail(`a wait from ${queuedAtMs} to ${deadlineMs} at ${lastTimeMs}`);
    }
    if (waiting.has(owner)) fail('an owner waits twice for one lock');
    const held = rec.holders.get(owner);
    if (held !== undefined && (i > 0 || held.mode !== 'shared' || mode !== 'exclusive')) {
      fail('a holder waits other than as an upgrade at the front');
    }
    waiting.add(owner);
    rec.queue.push({ owner, mode, ttlMs, queuedAtMs, deadlineMs });
  }
  if (holderCount === 0 && waiterCount === 0) fail('a lock with no holders and no waiters');
  const head = rec.queue[0];
  if (head !== undefined && fitsHolders(rec, head.owner, head.mode)) fail('the head of a queue is grantable');
  return rec;
}

function checkNames(name: string, owner: string): void {
  try {
    validateLockCommand({ op: 'cancel', name, owner });
  } catch (e) {
    if (e instanceof LockCodecError) fail(e.message);
    throw e;
  }
}

function fail(message: string): never {
  throw new LockCodecError(`lock snapshot: ${message}`);
}
