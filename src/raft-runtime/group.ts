import type { Random } from '../lib/random.js';
import { RawNode } from '../raft/raw-node.js';
import type { Entry, Ready } from '../raft/types.js';
import type { Reply } from '../resp/reply.js';
import type { GroupStorage } from './group-storage.js';
import { type DurableStateMachine, isDurable, type StateMachine } from './machine.js';
import type { MachineRows } from './machine-rows.js';
import { SessionMachine } from './sessions.js';

/**
 * Reasons a proposal failed *after* its entry was appended to the leader's log: it may still
 * commit under the next leader, so whoever asked must not be told it was not applied.
 */
export const APPENDED_BUT_UNKNOWN: ReadonlySet<RaftUnavailable['reason']> = new Set([
  'leadershipLost',
  'superseded',
  'closed',
]);

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
  /** Where a durable machine's applied index and sessions are stored. */
  readonly machineRows: MachineRows;
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
  /** A machine keeping its state in tables (DurableStateMachine), or null. */
  readonly #durable: DurableStateMachine | null;
  readonly #machineRows: MachineRows;
  /** The durable machine applied or restored something not yet written. */
  #unsaved = false;
  /** Its stored sessions are to be replaced wholesale (after a restore). */
  #rewriteSessions = false;

  constructor(o: GroupOptions) {
    this.groupId = o.groupId;
    this.storage = o.storage;
    this.machine = new SessionMachine(o.machine);
    this.#durable = isDurable(o.machine) ? o.machine : null;
    this.#machineRows = o.machineRows;
    const snapshotIndex = o.storage.snapshot().index;
    const stored = this.#durable === null ? undefined : o.machineRows.applied(o.groupId);
    if (this.#durable !== null && stored !== undefined && stored.index >= snapshotIndex) {
      // The machine's tables are at least as new as the snapshot: open there, replay the rest.
      this.machine.trackChanges();
      this.#durable.load();
      this.machine.loadSessions(stored.timeMs, o.machineRows.sessions(o.groupId));
      this.#applied = stored.index;
    } else {
      if (this.#durable !== null) this.#restoredDurable();
      this.machine.restore(o.storage.snapshotData());
      this.#applied = snapshotIndex;
    }
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
      if (this.#durable !== null) this.#restoredDurable();
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

  /** Whether this replica's apply phase writes to the database (inside the host's batch). */
  get durable(): boolean {
    return this.#durable !== null;
  }

  /**
   * Writes what the durable machine applied since the last call, with the applied index and
   * the changed sessions, into the open transaction. A no-op for other machines.
   */
  persistApplied(): void {
    if (this.#durable === null || !this.#unsaved) return;
    this.#durable.persist();
    const sessions = this.machine.takeChangedSessions(this.#rewriteSessions);
    const applied = { index: this.#applied, timeMs: this.machine.timeMs };
    this.#machineRows.write(this.groupId, applied, sessions, this.#rewriteSessions);
    this.#unsaved = false;
    this.#rewriteSessions = false;
  }

  /** Deletes the durable machine's rows, inside the caller's transaction (replica removed). */
  destroyDurable(): void {
    this.#durable?.destroy();
  }

  #restoredDurable(): void {
    this.machine.trackChanges();
    this.#unsaved = true;
    this.#rewriteSessions = true;
  }

  #applyEntry(e: Entry): void {
    this.#unsaved = this.#durable !== null;
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
