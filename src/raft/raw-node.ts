import { AssertionError, assert } from '../lib/assert.js';
import { type RaftConfig, validateConfig } from './config.js';
import { Raft } from './raft.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  GroupId,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  Ready,
  Role,
  SnapshotMetadata,
  SoftState,
} from './types.js';

export interface FollowerProgress {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly isLearner: boolean;
}

export interface Status {
  readonly groupId: GroupId;
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  /** Leader only: replication state of every member. */
  readonly progress: ReadonlyMap<NodeId, FollowerProgress> | null;
}

/** What `advance()` must acknowledge: recorded when the Ready is handed out. */
interface Outstanding {
  readonly lastEntry: Entry | undefined;
  readonly snapshot: SnapshotMetadata | null;
  readonly committedEntries: readonly Entry[];
}

const textEncoder = new TextEncoder();

/**
 * The public face of one replica of one Raft group (etcd's `RawNode`). Single-threaded and
 * synchronous: inputs are method calls, output is the `Ready` batch; it owns no timers, no
 * sockets and no files, and keeps no state outside the instance, so a process may host any
 * number of groups.
 */
export class RawNode {
  readonly #raft: Raft;
  #prevSoftState: SoftState;
  #prevHardState: HardState;
  #outstanding: Outstanding | null = null;

  constructor(config: RaftConfig) {
    this.#raft = new Raft(validateConfig(config));
    this.#prevSoftState = this.#softState();
    this.#prevHardState = this.#hardState();
  }

  get groupId(): GroupId {
    return this.#raft.groupId;
  }

  get id(): NodeId {
    return this.#raft.id;
  }

  get role(): Role {
    return this.#raft.role;
  }

  get term(): number {
    return this.#raft.term;
  }

  get leaderId(): NodeId | null {
    return this.#raft.leaderId;
  }

  /** Ticks since a follower last heard its leader (or since the leader last confirmed a quorum). */
  get electionElapsed(): number {
    return this.#raft.electionElapsed;
  }

  get commitIndex(): number {
    return this.#raft.log.committed;
  }

  get appliedIndex(): number {
    return this.#raft.log.applied;
  }

  /** Advances logical time by one tick (election and heartbeat timers, leases). */
  tick(): void {
    this.#raft.tick();
  }

  /** Feeds a message from a peer. Messages for another group or replica are refused loudly. */
  step(message: Message): void {
    if (message.groupId !== this.#raft.groupId || message.to !== this.#raft.id) {
      throw new AssertionError(
        `message for ${message.to} in group ${message.groupId} stepped into ${this.#raft.id} in group ${this.#raft.groupId}`,
      );
    }
    this.#raft.step(message);
  }

  /** Starts an election now (tests, and bootstrapping a single-voter group without waiting). */
  campaign(): void {
    this.#raft.campaign(false);
  }

  /** Appends `data` as a normal entry if this replica leads; returns where it went. */
  propose(data: Uint8Array): ProposeResult {
    return this.#raft.propose('normal', data);
  }

  /**
   * Proposes a single-server membership change. It takes effect on each replica when that
   * replica's runtime applies the entry (acknowledged by `advance()`); no other change is
   * accepted until then.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    return this.#raft.proposeConfChange(change);
  }

  /**
   * Asks for a linearizable read. A `ReadState` with this context appears in a later Ready once
   * leadership is confirmed; serve the read when applied ≥ its index. Followers forward to the
   * leader. False means refused now (no known leader, or too many reads pending).
   */
  readIndex(context: Uint8Array | string): boolean {
    return this.#raft.readIndex(typeof context === 'string' ? textEncoder.encode(context) : context);
  }

  /** Leader only: hands leadership to the voter `to`. False when not leader or `to` is no voter. */
  transferLeader(to: NodeId): boolean {
    return this.#raft.transferLeader(to);
  }

  reportUnreachable(id: NodeId): void {
    this.#raft.reportUnreachable(id);
  }

  hasReady(): boolean {
    if (this.#outstanding !== null) return false;
    const r = this.#raft;
    r.flushAppends();
    return (
      r.msgs.length > 0 ||
      r.log.unstable.entries.length > 0 ||
      r.log.unstable.snapshot !== null ||
      r.snapshotChunks.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommittedEntries() ||
      r.leaderId !== this.#prevSoftState.leaderId ||
      r.role !== this.#prevSoftState.role ||
      r.term !== this.#prevHardState.term ||
      r.vote !== this.#prevHardState.vote ||
      r.log.committed !== this.#prevHardState.commit
    );
  }

  /** Takes the pending work. Call `advance()` after handling it before taking another. */
  ready(): Ready {
    assert(this.#outstanding === null, 'ready() called again before advance()');
    const r = this.#raft;
    r.flushAppends();
    const prevHard = this.#prevHardState;
    const softChanged = r.leaderId !== this.#prevSoftState.leaderId || r.role !== this.#prevSoftState.role;
    const hardChanged =
      r.term !== prevHard.term || r.vote !== prevHard.vote || r.log.committed !== prevHard.commit;
    const softState = softChanged ? this.#softState() : null;
    const hardState = hardChanged ? this.#hardState() : null;
    const unstable = r.log.unstable.entries;
    const entries = unstable.length === 0 ? NONE : unstable.slice();
    const snapshot = r.log.unstable.snapshot;
    const committed = r.log.nextCommittedEntries(r.cfg.maxApplyBytes);
    const committedEntries = committed.length === 0 ? NONE : committed;
    const rd: Ready = {
      softState,
      hardState,
      entries,
      snapshot,
      snapshotChunks: takeAll(r.snapshotChunks),
      committedEntries,
      messages: takeAll(r.msgs),
      readStates: takeAll(r.readStates),
      mustSync:
        entries.length > 0 || snapshot !== null || r.term !== prevHard.term || r.vote !== prevHard.vote,
    };
    if (softState !== null) this.#prevSoftState = softState;
    if (hardState !== null) this.#prevHardState = hardState;
    this.#outstanding = { lastEntry: entries[entries.length - 1], snapshot, committedEntries };
    return rd;
  }

  /** The runtime persisted, sent and applied everything in the last Ready. */
  advance(): void {
    const done = this.#outstanding;
    assert(done !== null, 'advance() without an outstanding Ready');
    this.#outstanding = null;
    const log = this.#raft.log;
    if (done.lastEntry !== undefined) log.unstable.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (done.snapshot !== null) {
      log.unstable.stableSnapshotTo(done.snapshot.index);
      if (done.snapshot.index > log.applied) log.appliedTo(done.snapshot.index);
    }
    const applied = done.committedEntries;
    if (applied.length > 0) {
      for (const e of applied) {
        if (e.type === 'confChange') this.#raft.applyConfChangeEntry(e);
      }
      const last = applied[applied.length - 1]!.index;
      if (last > log.applied) log.appliedTo(last);
      this.#raft.reduceUncommittedBytes(applied);
    }
  }

  status(): Status {
    const r = this.#raft;
    let progress: Map<NodeId, FollowerProgress> | null = null;
    if (r.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of r.tracker.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner });
      }
    }
    return {
      groupId: r.groupId,
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      leaderId: r.leaderId,
      commitIndex: r.log.committed,
      appliedIndex: r.log.applied,
      lastIndex: r.log.lastIndex(),
      confState: r.tracker.confState(),
      progress,
    };
  }

  #softState(): SoftState {
    return { leaderId: this.#raft.leaderId, role: this.#raft.role };
  }

  #hardState(): HardState {
    return { term: this.#raft.term, vote: this.#raft.vote, commit: this.#raft.log.committed };
  }
}

/** The empty batch: Readies are assembled per message and most of their lists are empty. */
const NONE: readonly never[] = Object.freeze([]);

/** Moves the items out of a buffer the core keeps appending to. */
function takeAll<T>(buffer: T[]): readonly T[] {
  if (buffer.length === 0) return NONE;
  const items = buffer.slice();
  buffer.length = 0;
  return items;
}
