import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Random } from '../lib/random.js';
import type { ConfState, Message, Ready } from '../raft/types.js';
import type { Reply } from '../resp/reply.js';
import { GroupReplica, RaftUnavailable } from './group.js';
import type { StateMachine } from './machine.js';
import { decodeMessageBatch, encodeMessageBatch } from './message-batch.js';
import type { RaftDb } from './raft-db.js';

export interface RaftHostOptions {
  readonly nodeId: string;
  readonly db: RaftDb;
  /** Hands one frame of Raft messages to the bus; false when it could not be queued. */
  readonly send: (peerId: string, payload: Uint8Array) => boolean;
  /** Puts the frames handed over so far on the wire now (before the host blocks in fsync). */
  readonly flush: () => void;
  /** The application state machine of a group (a fresh, empty one each call). */
  readonly machineFor: (groupId: number) => StateMachine;
  readonly random: Random;
  readonly tickMs: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly maxInflightMsgs: number;
  readonly maxMsgBytes: number;
  readonly snapshotChunkBytes: number;
  /** Applied entries beyond the last snapshot before the group snapshots and compacts. */
  readonly snapshotAfterEntries: number;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
  /** A group's leader, this replica's role or the applied configuration changed here. */
  readonly onGroupChange?: (groupId: number) => void;
}

export interface HostStats {
  readonly readyCycles: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly messagesDropped: number;
  readonly snapshotsTaken: number;
  readonly eventLoopDelayP99Ms: number;
  readonly eventLoopDelayMaxMs: number;
}

/** Entries kept in the log behind a snapshot, so a follower a little behind catches up by appends. */
const RETAIN_AFTER_SNAPSHOT_ENTRIES = 1000;

/**
 * Drives every Raft group of this node (DESIGN.md §4): ticks them, steps messages from the bus,
 * and runs their Ready cycles together so that one SQLite transaction persists all groups'
 * entries (group commit) before any of their messages leave, then applies what committed.
 * It decides nothing about Raft; the core does.
 */
export class RaftHost {
  readonly nodeId: string;
  readonly #o: RaftHostOptions;
  readonly #groups = new Map<number, GroupReplica>();
  readonly #dirty = new Set<GroupReplica>();
  #scheduled = false;
  #ticker: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #delay = monitorEventLoopDelay({ resolution: 10 });
  #stats = { readyCycles: 0, messagesSent: 0, messagesReceived: 0, messagesDropped: 0, snapshotsTaken: 0 };

  constructor(options: RaftHostOptions) {
    this.nodeId = options.nodeId;
    this.#o = options;
  }

  /** Opens every group stored in the database and starts the tick timer. */
  start(): void {
    for (const id of this.#o.db.groupIds()) {
      const storage = this.#o.db.openGroup(id);
      if (storage !== undefined) this.#add(id, storage);
    }
    this.#delay.enable();
    this.#ticker = setInterval(() => this.tick(), this.#o.tickMs);
    this.#ticker.unref();
  }

  groupIds(): number[] {
    return [...this.#groups.keys()].sort((a, b) => a - b);
  }

  group(groupId: number): GroupReplica | undefined {
    return this.#groups.get(groupId);
  }

  /**
   * Creates a replica. With `voters`, a brand-new group whose initial configuration they are
   * (a snapshot at index 1 holding the machine's initial state); without, an empty replica that
   * the leader will fill with a snapshot.
   */
  createGroup(groupId: number, voters?: readonly string[], initialState?: Uint8Array): GroupReplica {
    if (this.#groups.has(groupId)) return this.#groups.get(groupId)!;
    let storage: ReturnType<RaftDb['createGroup']>;
    if (voters === undefined) {
      storage = this.#o.db.createGroup(groupId);
    } else {
      const confState: ConfState = { voters: [...voters], learners: [] };
      storage = this.#o.db.createGroup(groupId, { confState, data: initialState ?? new Uint8Array(0) });
    }
    const replica = this.#add(groupId, storage);
    this.#markDirty(replica);
    return replica;
  }

  /** Removes a replica and its stored state (it was removed from the group's configuration). */
  destroyGroup(groupId: number): void {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) return;
    this.#groups.delete(groupId);
    this.#dirty.delete(replica);
    replica.close();
    this.#o.db.batch(() => {
      replica.destroyDurable();
      this.#o.db.destroyGroup(groupId);
    });
    this.#o.log('info', 'replica removed', { group: groupId });
  }

  /** Campaigns now in a group (a single-voter group after bootstrap need not wait a timeout). */
  campaign(groupId: number): void {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) return;
    replica.raw.campaign();
    this.#markDirty(replica);
  }

  /** Proposes on the local replica, which must lead. Rejects with RaftUnavailable otherwise. */
  propose(groupId: number, data: Uint8Array): Promise<Reply | undefined> {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) {
      return Promise.reject(new RaftUnavailable('notLeader', null, `group ${groupId} has no replica here`));
    }
    const p = replica.propose(data);
    this.#markDirty(replica);
    return p;
  }

  proposeConfChange(
    groupId: number,
    change: Parameters<GroupReplica['raw']['proposeConfChange']>[0],
  ): boolean {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) return false;
    const result = replica.raw.proposeConfChange(change);
    this.#markDirty(replica);
    return result.ok;
  }

  transferLeader(groupId: number, to: string): boolean {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) return false;
    const ok = replica.raw.transferLeader(to);
    this.#markDirty(replica);
    return ok;
  }

  /** Linearizable read barrier on the local replica (leader or follower). */
  read(groupId: number): Promise<void> {
    const replica = this.#groups.get(groupId);
    if (replica === undefined) {
      return Promise.reject(new RaftUnavailable('noLeader', null, `group ${groupId} has no replica here`));
    }
    const p = replica.read();
    this.#markDirty(replica);
    return p;
  }

  /** A RAFT frame from a peer. Garbage throws (the caller drops the peer). */
  receive(fromPeer: string, payload: Uint8Array): void {
    const messages = decodeMessageBatch(payload);
    for (const m of messages) {
      this.#stats.messagesReceived++;
      const replica = this.#groups.get(m.groupId);
      if (replica === undefined || m.to !== this.nodeId || m.from !== fromPeer) {
        // A group not (or no longer) hosted here; its leader retries, or has moved on.
        this.#stats.messagesDropped++;
        continue;
      }
      replica.raw.step(m);
      this.#markDirty(replica);
    }
  }

  /** The bus lost its connection to a peer: leaders stop pipelining to it until it answers again. */
  peerDown(peerId: string): void {
    for (const replica of this.#groups.values()) {
      if (replica.isLeader) {
        replica.raw.reportUnreachable(peerId);
        this.#markDirty(replica);
      }
    }
  }

  tick(): void {
    if (this.#closed) return;
    for (const replica of this.#groups.values()) {
      replica.tick();
      this.#markDirty(replica);
    }
  }

  stats(): HostStats {
    return {
      ...this.#stats,
      eventLoopDelayP99Ms: this.#delay.percentile(99) / 1e6,
      eventLoopDelayMaxMs: this.#delay.max / 1e6,
    };
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#ticker);
    this.#delay.disable();
    for (const replica of this.#groups.values()) replica.close();
    this.#groups.clear();
    this.#dirty.clear();
  }

  #add(groupId: number, storage: ReturnType<RaftDb['createGroup']>): GroupReplica {
    const replica = new GroupReplica({
      groupId,
      nodeId: this.nodeId,
      storage,
      machine: this.#o.machineFor(groupId),
      machineRows: this.#o.db.machineRows,
      random: this.#o.random,
      electionTimeoutTicks: this.#o.electionTimeoutTicks,
      heartbeatTicks: this.#o.heartbeatTicks,
      maxInflightMsgs: this.#o.maxInflightMsgs,
      maxMsgBytes: this.#o.maxMsgBytes,
      snapshotChunkBytes: this.#o.snapshotChunkBytes,
      logger: (line) => this.#o.log('info', line, { group: groupId }),
    });
    this.#groups.set(groupId, replica);
    return replica;
  }

  #markDirty(replica: GroupReplica): void {
    this.#dirty.add(replica);
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: everything that arrives in this turn of the event loop
    // (many clients' proposals, many peers' messages) joins one Ready round and one fsync.
    setImmediate(() => {
      this.#scheduled = false;
      this.#process();
    });
  }

  /** One Ready round over every dirty group. */
  #process(): void {
    if (this.#closed) return;
    const round: [GroupReplica, Ready][] = [];
    for (const replica of this.#dirty) {
      if (replica.raw.hasReady()) round.push([replica, replica.raw.ready()]);
    }
    this.#dirty.clear();
    if (round.length === 0) return;
    this.#stats.readyCycles++;

    // 1. A leader's appends and heartbeats go out before its own write (Raft thesis §10.2.1):
    //    they depend only on its term, durable since its election, and the leader cannot count
    //    an acknowledgement before this round's write has finished, because this thread handles
    //    the acknowledgement only after it. Followers then write in parallel with the leader.
    this.#send(round, true);
    this.#o.flush();

    // 2. Persist every group's Ready in one transaction (fsync per --fsync).
    this.#o.db.batch(
      () => {
        for (const [replica, rd] of round) replica.persist(rd);
      },
      { sync: round.some(([, rd]) => rd.mustSync) },
    );

    // 3. Everything else (votes, acknowledgements) only now that what it promises is durable.
    this.#send(round, false);

    // 4. Apply. Machines that keep their state in tables write it, with the applied index, in one
    //    more transaction; it need not wait for the disk: the log it derives from is durable, and
    //    a crash that loses it reopens those groups at the previous index and replays (WAL order).
    if (round.some(([replica, rd]) => replica.durable && appliesSomething(rd))) {
      this.#o.db.batch(
        () => {
          for (const [replica, rd] of round) {
            replica.apply(rd);
            replica.persistApplied();
          }
        },
        { sync: false },
      );
    } else {
      for (const [replica, rd] of round) replica.apply(rd);
    }

    // 5. Acknowledge, serve reads, snapshot where due.
    for (const [replica, rd] of round) {
      replica.raw.advance();
      replica.serveReads();
      if (replica.takeConfChanged() || rd.softState !== null) this.#o.onGroupChange?.(replica.groupId);
      this.#maybeSnapshot(replica);
      this.#dirty.add(replica);
    }
    // Work the cycle produced (further committed entries, messages) goes in the next round.
    let more = false;
    for (const replica of this.#dirty) {
      if (replica.raw.hasReady()) more = true;
    }
    if (more && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#process();
      });
    } else if (!more) {
      this.#dirty.clear();
    }
  }

  /** One frame per peer with every group's messages of the given kind (early: leader appends). */
  #send(round: readonly [GroupReplica, Ready][], early: boolean): void {
    const outbox = new Map<string, Message[]>();
    for (const [, rd] of round) {
      for (const m of rd.messages) {
        if (isEarly(m) !== early) continue;
        const list = outbox.get(m.to);
        if (list === undefined) outbox.set(m.to, [m]);
        else list.push(m);
      }
    }
    for (const [peer, messages] of outbox) {
      this.#stats.messagesSent += messages.length;
      if (!this.#o.send(peer, encodeMessageBatch(messages))) this.peerDown(peer);
    }
  }

  #maybeSnapshot(replica: GroupReplica): void {
    const storage = replica.storage;
    const applied = replica.appliedIndex;
    const last = storage.snapshot().index;
    if (applied - last < this.#o.snapshotAfterEntries) return;
    const data = replica.machine.snapshot();
    const confState = replica.raw.status().confState;
    this.#o.db.batch(() => {
      storage.createSnapshot(applied, confState, data);
      const compactTo = Math.max(last, applied - RETAIN_AFTER_SNAPSHOT_ENTRIES);
      if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    });
    this.#stats.snapshotsTaken++;
  }
}

function appliesSomething(rd: Ready): boolean {
  return rd.committedEntries.length > 0 || rd.snapshot !== null;
}

/** Messages only a leader sends whose safety rests on its term alone, not on this round's write. */
function isEarly(m: Message): boolean {
  return m.type === 'append' || m.type === 'heartbeat';
}

export { RaftUnavailable };
