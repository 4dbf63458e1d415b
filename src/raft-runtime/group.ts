import type { Random } from '../lib/random.js';
import { RawNode } from '../raft/raw-node.js';
import type { Entry, Ready } from '../raft/types.js';
import type { Reply } from '../resp/reply.js';
import type { GroupStorage } from './group-storage.js';
import type { StateMachine } from './machine.js';
import { SessionMachine } from './sessions.js';

/** Why a local proposal or read did not complete; the caller retries elsewhere or later. */
export class RaftUnavailable extends Error {
  override name = 'RaftUnavailable';
  constructor(
    readonly reason:
      | 'notLeader'
      | 'transferring'
      | 'overloaded'
      | 'confChangePending'
      | 'invalidConfChange'
      | 'leadershipLost'
      | 'superseded'
      | 'closed'
      | 'noLeader',
    readonly leaderId: string | null,
    message: string,
  ) {
    super(message);
  }
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (reply: Reply | undefined) => void;
  readonly reject: (e: Error) => void;
}

interface ConfirmedRead {
  readonly index: number;
  readonly read: PendingRead;
}

interface PendingRead {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
  /** The tick it was asked at: a read whose request or answer was lost is failed after a while. */
  readonly askedAtTick: number;
}

/** Read contexts are ASCII (`group:seq`), made here. */
const latin1 = new TextDecoder('latin1');

/** Ticks after which an unconfirmed read is failed (its message or its answer was lost). */
const READ_TIMEOUT_TICKS = 40;

export interface GroupOptions {
  readonly groupId: number;
  readonly nodeId: string;
  readonly storage: GroupStorage;
  readonly machine: StateMachine;
  readonly random: Random;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly maxInflightMsgs: number;
  readonly maxMsgBytes: number;
  readonly snapshotChunkBytes: number;
  readonly logger: (line: string) => void;
}

/**
 * One replica of one group on this node: the Raft core, its storage, its state machine, and the
 * callers waiting on it. The host runs the Ready cycle across all groups (so one transaction
 * persists them all); this class supplies each phase.
 */
export class GroupReplica {
  readonly groupId: number;
  readonly raw: RawNode;
  readonly storage: GroupStorage;
  readonly machine: SessionMachine;
  readonly #proposals = new Map<number, PendingProposal>();
  readonly #reads = new Map<string, PendingRead>();
  /** Reads confirmed by the leader, waiting for apply to reach their index. */
  #confirmed: ConfirmedRead[] = [];
  #readSeq = 0;
  #ticks = 0;
  #applied: number;
  /** Snapshot bytes installed in this Ready's persist phase, restored in its apply phase. */
  #installed: Uint8Array | null = null;
  /** Set when a configuration change was applied since the host last asked. */
  #confChanged = false;

  constructor(o: GroupOptions) {
    this.groupId = o.groupId;
    this.storage = o.storage;
    this.machine = new SessionMachine(o.machine);
    this.machine.restore(o.storage.snapshotData());
    this.#applied = o.storage.snapshot().index;
    this.raw = new RawNode({
      groupId: o.groupId,
      id: o.nodeId,
      storage: o.storage,
      random: o.random,
      appliedIndex: this.#applied,
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatTicks: o.heartbeatTicks,
      maxInflightMsgs: o.maxInflightMsgs,
      maxMsgBytes: o.maxMsgBytes,
      snapshotChunkBytes: o.snapshotChunkBytes,
      logger: o.logger,
    });
  }

  /** Whether a configuration change was applied since the last call. */
  takeConfChanged(): boolean {
    const changed = this.#confChanged;
    this.#confChanged = false;
    return changed;
  }

  get appliedIndex(): number {
    return this.#applied;
  }

  get isLeader(): boolean {
    return this.raw.role === 'leader';
  }

  get pendingProposals(): number {
    return this.#proposals.size;
  }

  /** Proposes encoded envelope bytes; resolves with the state machine's reply once applied here. */
  propose(data: Uint8Array): Promise<Reply | undefined> {
    const result = this.raw.propose(data);
    if (!result.ok) {
      return Promise.reject(
        new RaftUnavailable(result.reason, this.raw.leaderId, `group ${this.groupId}: ${result.reason}`),
      );
    }
    return new Promise((resolve, reject) => {
      this.#proposals.set(result.index, { term: result.term, resolve, reject });
    });
  }

  /** A linearizable read barrier: resolves once this replica has applied everything committed before the call. */
  read(): Promise<void> {
    const context = `${this.groupId}:${++this.#readSeq}`;
    if (!this.raw.readIndex(context)) {
      return Promise.reject(
        new RaftUnavailable('noLeader', this.raw.leaderId, `group ${this.groupId} has no known leader`),
      );
    }
    return new Promise((resolve, reject) =>
      this.#reads.set(context, { resolve, reject, askedAtTick: this.#ticks }),
    );
  }

  /** Persist phase, inside the host's transaction. */
  persist(rd: Ready): void {
    for (const chunk of rd.snapshotChunks) this.storage.stageChunk(chunk);
    if (rd.snapshot !== null) this.#installed = this.storage.installStaged(rd.snapshot);
    if (rd.entries.length > 0) this.storage.append(rd.entries);
    if (rd.hardState !== null) this.storage.setHardState(rd.hardState);
  }

  /** Apply phase, after the transaction committed and the messages went out. */
  apply(rd: Ready): void {
    if (rd.snapshot !== null && this.#installed !== null) {
      this.machine.restore(this.#installed);
      this.#installed = null;
      this.#applied = rd.snapshot.index;
      // Proposals the snapshot covers have an unknown outcome here: callers retry (sessions dedupe).
      for (const [index, p] of this.#proposals) {
        if (index <= rd.snapshot.index) {
          this.#proposals.delete(index);
          p.reject(new RaftUnavailable('superseded', this.raw.leaderId, 'replaced by a snapshot'));
        }
      }
    }
    for (const e of rd.committedEntries) this.#applyEntry(e);
    for (const rs of rd.readStates) {
      const key = latin1.decode(rs.context);
      const read = this.#reads.get(key);
      if (read === undefined) continue;
      this.#reads.delete(key);
      this.#confirmed.push({ index: rs.index, read });
    }
    if (rd.softState !== null) {
      // Reads in flight went to a leader that is gone (or to us as one): the core dropped them.
      this.#failReads('leadershipLost');
      if (rd.softState.role !== 'leader') this.#failProposals('leadershipLost');
    }
  }

  #applyEntry(e: Entry): void {
    let reply: Reply | undefined;
    if (e.type === 'normal') reply = this.machine.apply(e.data, this.groupId, e.index, e.term);
    else this.#confChanged = true;
    this.#applied = e.index;
    const pending = this.#proposals.get(e.index);
    if (pending === undefined) return;
    this.#proposals.delete(e.index);
    if (pending.term === e.term) pending.resolve(reply);
    else
      pending.reject(new RaftUnavailable('superseded', this.raw.leaderId, 'entry replaced by a new leader'));
  }

  /** Advances this replica's clock; fails reads nobody answered within READ_TIMEOUT_TICKS. */
  tick(): void {
    this.raw.tick();
    this.#ticks++;
    if (this.#reads.size === 0 || this.#ticks % 10 !== 0) return;
    for (const [context, r] of this.#reads) {
      if (this.#ticks - r.askedAtTick < READ_TIMEOUT_TICKS) continue;
      this.#reads.delete(context);
      r.reject(
        new RaftUnavailable('noLeader', this.raw.leaderId, `group ${this.groupId}: read not confirmed`),
      );
    }
  }

  /** After advance(): releases reads whose index has been applied. */
  serveReads(): void {
    if (this.#confirmed.length === 0) return;
    const waiting: ConfirmedRead[] = [];
    for (const c of this.#confirmed) {
      if (c.index <= this.#applied) c.read.resolve();
      else waiting.push(c);
    }
    this.#confirmed = waiting;
  }

  /**
   * Leadership is gone: the proposals may still commit under the next leader, but nobody here
   * will learn of it in time. Fail them now so callers retry at once; sessions make that safe.
   */
  #failProposals(reason: 'leadershipLost' | 'closed'): void {
    for (const p of this.#proposals.values()) {
      p.reject(new RaftUnavailable(reason, this.raw.leaderId, `group ${this.groupId}: ${reason}`));
    }
    this.#proposals.clear();
  }

  #failReads(reason: 'leadershipLost' | 'closed'): void {
    for (const r of this.#reads.values()) {
      r.reject(new RaftUnavailable(reason, this.raw.leaderId, `group ${this.groupId}: ${reason}`));
    }
    this.#reads.clear();
  }

  close(): void {
    this.#failProposals('closed');
    this.#failReads('closed');
    for (const c of this.#confirmed) c.read.reject(new RaftUnavailable('closed', null, 'group closed'));
    this.#confirmed = [];
  }
}
