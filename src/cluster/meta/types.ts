import type { ConfState } from '../../raft/types.js';
import type { MemberAddress } from './commands.js';

/**
 * - `up`: alive as far as group 0 has decided; in the ring.
 * - `down`: silent past down-after-ms. Still in the ring and keeps its replicas: a short
 *   outage must not move data.
 * - `evicted`: down past reassign-after-ms. Out of the ring, so its replicas are re-created
 *   elsewhere; `up` brings it back in.
 * - `leaving`: draining after CLUSTER.LEAVE. Out of the ring for good; `remove` ends it.
 */
export type MemberState = 'up' | 'down' | 'evicted' | 'leaving';

export const MEMBER_STATES: readonly MemberState[] = ['up', 'down', 'evicted', 'leaving'];

export interface Member extends MemberAddress {
  readonly state: MemberState;
  /** Log index of the entry that added it (the `init` entry for the founder). */
  readonly joinedIndex: number;
  /** Leader timestamp of the entry that last changed `state` (or added the member). */
  readonly stateSinceMs: number;
}

/**
 * Where a group's replicas should be. Order carries preference: for a partition, the ring's
 * placement order (the first is the natural leader); for group 0, join order.
 */
export interface DesiredConf {
  readonly voters: readonly string[];
  readonly learners: readonly string[];
}

export type MetaResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** Where an entry sits in the log and the leader's clock stamped into it. */
export interface MetaApplyContext {
  readonly index: number;
  readonly timeMs: number;
}

/** The whole replicated state as plain data: what a snapshot holds. */
export interface MetaData {
  readonly initialized: boolean;
  readonly partitions: number;
  readonly replicas: number;
  readonly metaVotersMax: number;
  readonly epoch: number;
  /** Ascending `joinedIndex`. */
  readonly members: readonly Member[];
  /** Group 0's desired voters, ascending id. Every one is a member. */
  readonly metaVoters: readonly string[];
  /** Ids removed for good, ascending. */
  readonly removed: readonly string[];
  /** Reported configurations by group, ascending group; voters and learners ascending. */
  readonly observed: ReadonlyMap<number, ConfState>;
}

export const EMPTY_META_DATA: MetaData = {
  initialized: false,
  partitions: 0,
  replicas: 0,
  metaVotersMax: 0,
  epoch: 0,
  members: [],
  metaVoters: [],
  removed: [],
  observed: new Map(),
};
