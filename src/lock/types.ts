import type { LockMode } from './commands.js';

export type { LockMode } from './commands.js';

/** Where an entry sits in group 0's log, and the leader's time stamped into it. */
export interface LockApplyContext {
  readonly index: number;
  readonly timeMs: number;
}

/** The answer to the command's own caller. */
export type LockResult =
  /** Held now. A new hold's token is the entry's index; a re-acquire keeps the hold's token. */
  | { readonly kind: 'granted'; readonly token: number }
  /** Waiting; a `granted` or `waitTimedOut` event ends it (or the caller's own `cancel`). */
  | { readonly kind: 'queued' }
  /** Not granted and waitMs was 0 (the client gets nil). */
  | { readonly kind: 'refused' }
  /** Waiting would close this cycle of owners, which starts and ends with the requester. */
  | { readonly kind: 'deadlock'; readonly cycle: readonly string[] }
  | { readonly kind: 'released' }
  | { readonly kind: 'renewed' }
  /** release/renew: the owner holds no such lock; cancel: the owner was not waiting for it. */
  | { readonly kind: 'notHeld' }
  | { readonly kind: 'cancelled' }
  | { readonly kind: 'ticked' }
  /** `ERR ...`: an invalid command or a token that is not the hold's. Nothing changed. */
  | { readonly kind: 'error'; readonly message: string };

/** What an apply did to owners other than the caller, for every node to wake its local clients. */
export type LockEvent =
  /** A waiter got the lock; token is the index of the entry that granted it. */
  | {
      readonly kind: 'granted';
      readonly name: string;
      readonly owner: string;
      readonly mode: LockMode;
      readonly token: number;
      /** Leader time between queueing and this grant, for the wait-time metric. */
      readonly waitedMs: number;
    }
  | { readonly kind: 'expired'; readonly name: string; readonly owner: string; readonly token: number }
  | { readonly kind: 'waitTimedOut'; readonly name: string; readonly owner: string };

export interface LockOutcome {
  readonly result: LockResult;
  /** In a deterministic order: what fell due first (by lock name), then the command's effects. */
  readonly events: readonly LockEvent[];
}

export interface Hold {
  readonly owner: string;
  readonly mode: LockMode;
  readonly token: number;
  readonly expiresAtMs: number;
}

export interface Wait {
  readonly owner: string;
  readonly mode: LockMode;
  /** The lease the hold gets when granted. */
  readonly ttlMs: number;
  readonly queuedAtMs: number;
  readonly deadlineMs: number;
}

export interface LockStatus {
  readonly mode: LockMode | 'free';
  /** By token, then owner. */
  readonly holders: readonly { owner: string; token: number; expiresAtMs: number }[];
  /** Queue order: the first is granted next. */
  readonly waiters: readonly { owner: string; mode: LockMode; deadlineMs: number }[];
  /** Requests for this lock not granted at once since it was last free with nobody waiting. */
  readonly contended: number;
}

export interface HoldOf {
  readonly name: string;
  readonly mode: LockMode;
  readonly token: number;
  readonly expiresAtMs: number;
}

/** Totals since the table was created; replicated, so equal on every replica. */
export interface LockCounters {
  /** New holds (fresh tokens): immediate, from the queue, upgrades. Not re-acquires. */
  grants: number;
  /** Releases that released a hold. */
  releases: number;
  expirations: number;
  /** Requests that were queued. */
  waits: number;
  /** Leader time waited, summed over the waiters that were granted. */
  waitedMs: number;
  waitTimeouts: number;
  cancels: number;
  deadlocks: number;
}

export const COUNTER_NAMES: readonly (keyof LockCounters)[] = [
  'grants',
  'releases',
  'expirations',
  'waits',
  'waitedMs',
  'waitTimeouts',
  'cancels',
  'deadlocks',
];

export function zeroCounters(): LockCounters {
  return {
    grants: 0,
    releases: 0,
    expirations: 0,
    waits: 0,
    waitedMs: 0,
    waitTimeouts: 0,
    cancels: 0,
    deadlocks: 0,
  };
}
