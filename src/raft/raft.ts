import { assert } from '../lib/assert.js';
import { decodeConfChange, encodeConfChange } from './codec.js';
import { leaseTicks, type ValidConfig } from './config.js';
import { ENTRY_OVERHEAD_BYTES, entriesBytes } from './entries.js';
import { RaftLog } from './log.js';
import { applyConfChange } from './membership.js';
import { Progress } from './progress.js';
import { ReadOnlyQueue } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import type {
  AppendMessage,
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HeartbeatMessage,
  Message,
  NodeId,
  ProposeResult,
  ReadState,
  Role,
  SnapshotChunk,
  SnapshotMessage,
  SnapshotMetadata,
  SnapshotResponse,
  VoteMessage,
} from './types.js';

const EMPTY = new Uint8Array(0);

interface IncomingSnapshot {
  readonly snapshot: SnapshotMetadata;
  /** Bytes received in order so far: the next chunk must start here. */
  offset: number;
}

/**
 * The Raft state machine of one replica of one group (etcd-io/raft's `raft`). It only reacts
 * to calls: `step` for a message, `tick` for time, `propose`/`readIndex`/`transferLeader` for
 * requests. Its output accumulates in `msgs`, `readStates`, `snapshotChunks` and the log's
 * unstable part until `RawNode` hands it out as a Ready.
 */
export class Raft {
  readonly id: NodeId;
  readonly groupId: number;
  readonly cfg: ValidConfig;
  readonly log: RaftLog;
  readonly tracker = new ProgressTracker();

  term = 0;
  vote: NodeId | null = null;
  leaderId: NodeId | null = null;
  role: Role = 'follower';

  msgs: Message[] = [];
  readStates: ReadState[] = [];
  snapshotChunks: SnapshotChunk[] = [];

  /** Ticks since the last reset of the election timer (for a leader: of the transfer timer). */
  electionElapsed = 0;
  #heartbeatElapsed = 0;
  #randomizedElectionTimeoutTicks = 0;
  /** Ticks since this replica started: the clock of the leader lease. */
  #tickCount = 0;

  /** Leader only: the transfer target, or null. */
  leadTransferee: NodeId | null = null;
  /** Leader only: index of the last configuration change that may still be unapplied. */
  #pendingConfIndex = 0;
  /**
   * Leader only: index of an entry in our log that removes us, or 0. From the moment such an
   * entry exists we accept no more proposals, so that our log never runs ahead of the voters
   * who must elect our successor (see #handOver).
   */
  #selfRemovalIndex = 0;
  #uncommittedBytes = 0;
  readonly #readOnly = new ReadOnlyQueue();
  /** Reads that arrived before this leader committed an entry of its term (thesis §6.4 step 1). */
  #readsAwaitingCommit: { context: Uint8Array; from: NodeId | null }[] = [];
  #heartbeatSeq = 0;
  /** Set once this leader sent TimeoutNow: a forced election ignores leases, so ours is void. */
  #leaseRevoked = false;
  /** Entries were appended on the leader; followers get them when the Ready is assembled. */
  #appendPending = false;

  /** Follower only: a snapshot arriving in chunks. */
  #incoming: IncomingSnapshot | null = null;

  constructor(cfg: ValidConfig) {
    this.cfg = cfg;
    this.id = cfg.id;
    this.groupId = cfg.groupId;
    const storage = cfg.storage;
    this.log = new RaftLog(storage, cfg.appliedIndex);
    const hardState = storage.initialState();
    this.tracker.setConf(this.#replayConfChanges(storage.snapshot()), (id, isLearner) =>
      this.#newProgress(id, isLearner),
    );
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.becomeFollower(this.term, null);
    this.#log(
      `started at term ${this.term}, commit ${this.log.committed}, applied ${this.log.applied}, ` +
        `last ${this.log.lastIndex()}, voters [${this.tracker.voters.join(',')}], ` +
        `learners [${this.tracker.learners.join(',')}]`,
    );
  }

  /** The configuration as of the applied index: the snapshot's, plus changes applied since. */
  #replayConfChanges(snapshot: SnapshotMetadata): ConfState {
    let conf = snapshot.confState;
    let next = Math.max(snapshot.index + 1, this.log.firstIndex());
    while (next <= this.log.applied) {
      const page = this.log.slice(next, this.log.applied + 1, this.cfg.maxApplyBytes);
      for (const e of page) {
        if (e.type !== 'confChange') continue;
        const change = decodeConfChangeOrNull(e.data);
        const applied = change === null ? 'undecodable' : applyConfChange(conf, change);
        if (typeof applied !== 'string') conf = applied;
      }
      next += page.length;
    }
    return conf;
  }

  // ---------------------------------------------------------------------------------------
  // Role transitions

  becomeFollower(term: number, leaderId: NodeId | null): void {
    this.#reset(term);
    this.leaderId = leaderId;
    this.role = 'follower';
  }

  #becomePreCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    // A pre-election changes neither term nor vote (thesis §9.6).
    this.tracker.resetVotes();
    this.leaderId = null;
    this.role = 'preCandidate';
    this.#log(`became pre-candidate at term ${this.term}`);
  }

  #becomeCandidate(): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    this.#reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.#log(`became candidate at term ${this.term}`);
  }

  #becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate becomes leader, not a ${this.role}`);
    this.#reset(this.term);
    this.leaderId = this.id;
    this.role = 'leader';
    const self = this.tracker.progress.get(this.id)!;
    self.match = this.log.lastIndex();
    self.becomeReplicate();
    // The no-op commits the entries of earlier terms (paper §5.4.2, thesis §6.4), and no
    // configuration change may be proposed before it is applied (the fix of thesis §4.1.1
    // for single-server changes across leader changes).
    this.#appendEntries([{ type: 'normal', data: EMPTY }]);
    this.#pendingConfIndex = this.log.lastIndex();
    this.#scanConfChanges(this.log.applied + 1, this.log.lastIndex(), (e, change) => {
      if (change?.type === 'remove' && change.nodeId === this.id) this.#selfRemovalIndex = e.index;
      return false;
    });
    this.#log(`became leader at term ${this.term}`);
  }

  #reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
      this.#incoming = null;
    }
    this.leaderId = null;
    this.electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#randomizedElectionTimeoutTicks = this.cfg.random.int(
      this.cfg.electionTimeoutTicks,
      2 * this.cfg.electionTimeoutTicks - 1,
    );
    this.leadTransferee = null;
    this.tracker.resetVotes();
    this.tracker.resetProgress((id, isLearner) => this.#newProgress(id, isLearner));
    this.#pendingConfIndex = 0;
    this.#selfRemovalIndex = 0;
    this.#uncommittedBytes = 0;
    this.#readOnly.clear();
    this.#readsAwaitingCommit = [];
    this.#heartbeatSeq = 0;
    this.#leaseRevoked = false;
    this.#appendPending = false;
  }

  #newProgress(id: NodeId, isLearner: boolean): Progress {
    const pr = new Progress(
      this.log.lastIndex() + 1,
      isLearner,
      this.#tickCount,
      this.cfg.maxInflightMsgs,
      this.cfg.maxInflightBytes,
    );
    if (id === this.id) pr.match = this.log.lastIndex();
    return pr;
  }

  // ---------------------------------------------------------------------------------------
  // Time

  tick(): void {
    this.#tickCount++;
    if (this.role === 'leader') this.#tickLeader();
    else this.#tickElection();
  }

  #tickElection(): void {
    this.electionElapsed++;
    if (this.#promotable() && this.electionElapsed >= this.#randomizedElectionTimeoutTicks) {
      this.electionElapsed = 0;
      this.campaign(false);
    }
  }

  #tickLeader(): void {
    this.#heartbeatElapsed++;
    this.electionElapsed++;
    if (this.cfg.checkQuorum && !this.#quorumActive()) {
      this.#log(
        `stepped down at term ${this.term}: no quorum heard from in ${this.cfg.electionTimeoutTicks} ticks`,
      );
      this.becomeFollower(this.term, null);
      return;
    }
    if (this.electionElapsed >= this.cfg.electionTimeoutTicks) {
      this.electionElapsed = 0;
      if (!this.#promotable()) {
        this.#log(`removed leader stepping down at term ${this.term}: hand-over did not complete in time`);
        this.becomeFollower(this.term, null);
        return;
      }
      if (this.leadTransferee !== null) {
        this.#log(`abandoned transfer to ${this.leadTransferee}: it did not take over in time`);
        this.leadTransferee = null;
      }
    }
    for (const pr of this.tracker.progress.values()) {
      if (pr.transfer !== null) pr.transfer.stallTicks++;
    }
    if (this.#heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#broadcastHeartbeat();
    }
  }

  /**
   * CheckQuorum over a sliding window: has a quorum of voters been heard from within the last
   * electionTimeoutTicks? A leader cut off from a majority steps down within one election
   * timeout, before the followers' leases expire and they elect someone else.
   */
  #quorumActive(): boolean {
    const now = this.#tickCount;
    const heard = this.tracker.quorumValue((id, pr) => (id === this.id ? now : pr.lastActiveTick));
    return now - heard < this.cfg.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------------------------------
  // Elections

  #promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  /** Starts an election (a pre-election first when PreVote is on, unless it is a transfer). */
  campaign(transfer: boolean): void {
    if (this.role === 'leader' || !this.#promotable()) return;
    if (this.#hasUnappliedConfChange()) {
      // Our configuration may be about to change; campaigning under the old one is unsafe.
      this.#log('cannot campaign: a committed configuration change is not applied yet');
      return;
    }
    if (this.cfg.preVote && !transfer) this.#campaign('preVote', false);
    else this.#campaign('vote', transfer);
  }

  #campaign(type: 'vote' | 'preVote', transfer: boolean): void {
    let term: number;
    if (type === 'preVote') {
      this.#becomePreCandidate();
      term = this.term + 1;
    } else {
      this.#becomeCandidate();
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tallyVotes().result === 'won') {
      this.#wonElection();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voters) {
      if (id === this.id) continue;
      this.msgs.push({
        type,
        groupId: this.groupId,
        from: this.id,
        to: id,
        term,
        lastIndex,
        lastTerm,
        transfer,
      });
    }
  }

  #wonElection(): void {
    if (this.role === 'preCandidate') {
      this.#campaign('vote', false);
    } else {
      this.#becomeLeader();
      this.#broadcastAppend();
    }
  }

  #hasUnappliedConfChange(): boolean {
    return this.#scanConfChanges(this.log.applied + 1, this.log.committed, () => true);
  }

  /**
   * Visits the configuration entries in [lo, hi] page by page (bounded memory) until `visit`
   * returns true; returns whether it did. `change` is null for an undecodable entry.
   */
  #scanConfChanges(lo: number, hi: number, visit: (e: Entry, change: ConfChange | null) => boolean): boolean {
    let next = Math.max(lo, this.log.firstIndex());
    while (next <= hi) {
      const page = this.log.slice(next, hi + 1, this.cfg.maxApplyBytes);
      for (const e of page) {
        if (e.type === 'confChange' && visit(e, decodeConfChangeOrNull(e.data))) return true;
      }
      next += page.length;
    }
    return false;
  }

  /** Paper §5.2 and §5.4.1, with PreVote (thesis §9.6) and the leader lease (thesis §4.2.3). */
  #handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'voteResponse' : 'preVoteResponse';
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leaderId === null) ||
      (m.type === 'preVote' && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A granted pre-vote answers at the proposed term, so the pre-candidate can count it.
      this.msgs.push({
        type: responseType,
        groupId: this.groupId,
        from: this.id,
        to: m.from,
        term: m.term,
        reject: false,
      });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.msgs.push({
        type: responseType,
        groupId: this.groupId,
        from: this.id,
        to: m.from,
        term: this.term,
        reject: true,
      });
    }
  }

  /**
   * Whether this replica heard from a leader within the minimum election timeout, in which
   * case it ignores vote requests (thesis §4.2.3) so that a removed or partitioned server
   * cannot disrupt a healthy leader. With leader leases, a replica that just started is
   * treated as in lease too: it may have acknowledged a lease before it crashed.
   */
  #inLease(): boolean {
    if (!this.cfg.checkQuorum || this.electionElapsed >= this.cfg.electionTimeoutTicks) return false;
    if (this.leaderId !== null) return true;
    return this.cfg.readOnly === 'lease' && this.#tickCount < this.cfg.electionTimeoutTicks;
  }

  // ---------------------------------------------------------------------------------------
  // Messages

  step(m: Message): void {
    if (m.term === 0) {
      // Only forwarded reads travel without a term; anything else without one is malformed.
      if (m.type !== 'readIndex') return;
    } else if (m.term > this.term) {
      if ((m.type === 'vote' || m.type === 'preVote') && !m.transfer && this.#inLease()) {
        this.#log(`ignored ${m.type} from ${m.from} at term ${m.term}: leader lease`);
        return;
      }
      if (m.type === 'preVote' || (m.type === 'preVoteResponse' && !m.reject)) {
        // Neither moves our term: a pre-vote is a question, a grant is counted at its term.
      } else {
        this.#log(`saw term ${m.term} in ${m.type} from ${m.from}, was ${this.term}`);
        const leader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot' ? m.from : null;
        this.becomeFollower(m.term, leader);
      }
    } else if (m.term < this.term) {
      this.#stepStale(m);
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') {
      this.#handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        this.#stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.#stepCandidate(m);
        break;
      case 'follower':
        this.#stepFollower(m);
        break;
    }
  }

  /**
   * A message from an older term. A stale leader learns our term from the response, so it
   * steps down; without this, CheckQuorum or PreVote could leave it stranded (etcd #5451).
   */
  #stepStale(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // A rejection of index 0 carries the term and nothing else a leader could act upon.
      this.#sendAppendResponse(m.from, 0, true, 0, 0);
    } else if (m.type === 'preVote') {
      this.msgs.push({
        type: 'preVoteResponse',
        groupId: this.groupId,
        from: this.id,
        to: m.from,
        term: this.term,
        reject: true,
      });
    }
  }

  #stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        this.electionElapsed = 0;
        this.leaderId = m.from;
        this.#stepFromLeader(m);
        break;
      case 'timeoutNow':
        this.#log(`received timeoutNow from ${m.from} at term ${this.term}: campaigning`);
        this.campaign(true);
        break;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        break;
    }
  }

  #stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
      case 'heartbeat':
      case 'snapshot':
        // Another server won this term (paper §5.2).
        this.becomeFollower(m.term, m.from);
        this.#stepFromLeader(m);
        break;
      case 'voteResponse':
      case 'preVoteResponse': {
        const expected = this.role === 'preCandidate' ? 'preVoteResponse' : 'voteResponse';
        if (m.type !== expected) return;
        this.tracker.recordVote(m.from, !m.reject);
        const { granted, rejected, result } = this.tracker.tallyVotes();
        this.#log(
          `${m.type} from ${m.from}: ${m.reject ? 'rejected' : 'granted'} (${granted} for, ${rejected} against)`,
        );
        if (result === 'won') this.#wonElection();
        else if (result === 'lost') this.becomeFollower(this.term, null);
        break;
      }
      default:
        break;
    }
  }

  #stepFromLeader(m: AppendMessage | HeartbeatMessage | SnapshotMessage): void {
    if (m.type === 'append') this.#handleAppend(m);
    else if (m.type === 'heartbeat') this.#handleHeartbeat(m);
    else this.#handleSnapshotChunk(m);
  }

  #handleAppend(m: AppendMessage): void {
    const committed = this.log.committed;
    if (m.prevIndex < committed) {
      this.#ackAppend(m.from, committed);
      return;
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.#ackAppend(m.from, lastNew);
      return;
    }
    // Point the leader at the last entry that can possibly match, skipping a whole term of
    // conflicting entries per round trip instead of one entry.
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(
      Math.min(m.prevIndex, this.log.lastIndex()),
      m.prevTerm,
    );
    this.#sendAppendResponse(m.from, m.prevIndex, true, hintIndex, hintTerm);
  }

  #handleHeartbeat(m: HeartbeatMessage): void {
    this.log.commitTo(m.commit);
    this.msgs.push({
      type: 'heartbeatResponse',
      groupId: this.groupId,
      from: this.id,
      to: m.from,
      term: this.term,
      seq: m.seq,
      sentTick: m.sentTick,
    });
  }

  /**
   * Receives InstallSnapshot chunks strictly in order. Each chunk goes out in the Ready for the
   * runtime to stage; the last one installs the snapshot. A gap (lost chunk) or an unknown
   * snapshot is answered with the offset to resume from.
   */
  #handleSnapshotChunk(m: SnapshotMessage): void {
    const meta = m.snapshot;
    if (meta.index <= this.log.committed || this.log.matchTerm(meta.index, meta.term)) {
      // Our log already holds everything the snapshot covers (thesis §5.3, step 6); it may
      // have caught up by appends while the chunks were in flight. Restoring now would drop
      // entries we may have acknowledged.
      this.#incoming = null;
      this.log.commitTo(meta.index);
      this.#ackAppend(m.from, this.log.committed);
      return;
    }
    let incoming = this.#incoming;
    if (incoming === null || incoming.snapshot.index !== meta.index || incoming.snapshot.term !== meta.term) {
      if (m.offset !== 0) {
        this.#sendSnapshotResponse(m.from, meta.index, 0, true);
        return;
      }
      incoming = { snapshot: meta, offset: 0 };
      this.#incoming = incoming;
    }
    if (m.offset !== incoming.offset) {
      this.#sendSnapshotResponse(m.from, meta.index, incoming.offset, m.offset > incoming.offset);
      return;
    }
    if (m.data.byteLength === 0 && meta.sizeBytes > 0) return;
    this.snapshotChunks.push({ snapshot: meta, offset: m.offset, data: m.data });
    incoming.offset += m.data.byteLength;
    if (incoming.offset < meta.sizeBytes) {
      this.#sendSnapshotResponse(m.from, meta.index, incoming.offset, false);
      return;
    }
    this.#incoming = null;
    this.#restore(meta);
    this.#ackAppend(m.from, this.log.lastIndex());
  }

  #restore(snapshot: SnapshotMetadata): void {
    this.log.restore(snapshot);
    this.tracker.setConf(snapshot.confState, (id, isLearner) => this.#newProgress(id, isLearner));
    this.tracker.resetProgress((id, isLearner) => this.#newProgress(id, isLearner));
    this.#log(`restored snapshot at index ${snapshot.index}, term ${snapshot.term}`);
  }

  #ackAppend(to: NodeId, index: number): void {
    this.#sendAppendResponse(to, index, false, 0, 0);
  }

  #sendAppendResponse(to: NodeId, index: number, reject: boolean, hintIndex: number, hintTerm: number): void {
    this.msgs.push({
      type: 'appendResponse',
      groupId: this.groupId,
      from: this.id,
      to,
      term: this.term,
      index,
      reject,
      hintIndex,
      hintTerm,
    });
  }

  #sendSnapshotResponse(to: NodeId, snapshotIndex: number, offset: number, reject: boolean): void {
    this.msgs.push({
      type: 'snapshotResponse',
      groupId: this.groupId,
      from: this.id,
      to,
      term: this.term,
      snapshotIndex,
      offset,
      reject,
    });
  }

  // ---------------------------------------------------------------------------------------
  // Leader

  #stepLeader(m: Message): void {
    if (m.type === 'readIndex') {
      this.#readIndexAsLeader(m.context, m.from);
      return;
    }
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'appendResponse':
        pr.lastActiveTick = this.#tickCount;
        this.#handleAppendResponse(m.from, pr, m.index, m.reject, m.hintIndex, m.hintTerm);
        break;
      case 'heartbeatResponse':
        pr.lastActiveTick = this.#tickCount;
        this.#handleHeartbeatResponse(m.from, pr, m.seq, m.sentTick);
        break;
      case 'snapshotResponse':
        pr.lastActiveTick = this.#tickCount;
        this.#handleSnapshotResponse(m.from, pr, m);
        break;
      default:
        break;
    }
  }

  #handleAppendResponse(
    from: NodeId,
    pr: Progress,
    index: number,
    reject: boolean,
    hintIndex: number,
    hintTerm: number,
  ): void {
    if (reject) {
      const nextProbe = hintTerm > 0 ? this.log.findConflictByTerm(hintIndex, hintTerm)[0] : hintIndex;
      if (pr.maybeDecrTo(index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.#sendAppend(from, pr, true);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(index) && !(pr.match === index && pr.state === 'probe')) return;
    switch (pr.state) {
      case 'probe':
        pr.becomeReplicate();
        break;
      case 'snapshot':
        if (pr.match + 1 >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.match >= pr.transfer!.snapshot.index) {
          // It has that snapshot, but we compacted past it meanwhile: probing starts a newer one.
          pr.becomeProbe();
        }
        break;
      case 'replicate':
        pr.inflights.freeLE(index);
        break;
    }
    if (this.#maybeCommit()) this.#broadcastAppend();
    else this.#fillWindow(from, pr, wasPaused);
    if (from === this.leadTransferee && pr.match === this.log.lastIndex()) this.#sendTimeoutNow(from);
  }

  #handleHeartbeatResponse(from: NodeId, pr: Progress, seq: number, sentTick: number): void {
    pr.probeSent = false;
    if (seq > pr.ackedHeartbeatSeq) pr.ackedHeartbeatSeq = seq;
    if (sentTick > pr.ackedHeartbeatSentTick) pr.ackedHeartbeatSentTick = sentTick;
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    const transfer = pr.transfer;
    if (transfer !== null) {
      if (transfer.stallTicks >= this.#snapshotRetryTicks()) {
        // Chunks or their acknowledgements were lost: resume from the last acknowledged byte.
        transfer.sentOffset = transfer.ackedOffset;
        transfer.started = transfer.ackedOffset > 0;
        transfer.rewoundTo = transfer.ackedOffset;
        transfer.stallTicks = 0;
        this.#sendSnapshotChunks(from, pr);
      }
    } else if (pr.match < this.log.lastIndex() || pr.state === 'probe') {
      this.#sendAppend(from, pr, true);
    }
    this.#releaseConfirmedReads();
  }

  #snapshotRetryTicks(): number {
    return Math.max(2, Math.floor(this.cfg.electionTimeoutTicks / 2));
  }

  #handleSnapshotResponse(from: NodeId, pr: Progress, m: SnapshotResponse): void {
    const transfer = pr.transfer;
    if (transfer === null || transfer.snapshot.index !== m.snapshotIndex) return;
    const offset = Math.min(m.offset, transfer.snapshot.sizeBytes);
    if (m.reject) {
      if (offset === transfer.rewoundTo) return;
      transfer.stallTicks = 0;
      transfer.rewoundTo = offset;
      transfer.ackedOffset = offset;
      transfer.sentOffset = offset;
      transfer.started = offset > 0;
    } else if (offset > transfer.ackedOffset) {
      transfer.stallTicks = 0;
      transfer.rewoundTo = -1;
      transfer.ackedOffset = offset;
      transfer.sentOffset = Math.max(transfer.sentOffset, offset);
    }
    this.#sendSnapshotChunks(from, pr);
  }

  /** Paper §5.3/§5.4.2: the highest index a quorum holds, if it is of the current term. */
  #maybeCommit(): boolean {
    const index = this.tracker.quorumValue((_, pr) => pr.match);
    if (!this.log.maybeCommit(index, this.term)) return false;
    if (this.#readsAwaitingCommit.length > 0) {
      const waiting = this.#readsAwaitingCommit;
      this.#readsAwaitingCommit = [];
      for (const r of waiting) this.#readIndexAsLeader(r.context, r.from);
    }
    return true;
  }

  #appendEntries(entries: { type: EntryType; data: Uint8Array }[]): void {
    let index = this.log.lastIndex();
    const stamped: Entry[] = entries.map((e) => ({
      term: this.term,
      index: ++index,
      type: e.type,
      data: e.data,
    }));
    this.log.append(stamped);
    this.#uncommittedBytes += entriesBytes(stamped);
    this.tracker.progress.get(this.id)!.maybeUpdate(this.log.lastIndex());
    this.#appendPending = true;
    this.#maybeCommit();
  }

  /** Sends appends for entries appended since the last Ready: one batch per follower. */
  flushAppends(): void {
    if (!this.#appendPending) return;
    this.#appendPending = false;
    if (this.role === 'leader') this.#broadcastAppend();
  }

  #broadcastAppend(): void {
    this.#appendPending = false;
    for (const [id, pr] of this.tracker.progress) {
      if (id !== this.id) this.#fillWindow(id, pr, true);
    }
  }

  /** Pipelining: sends appends until the follower's in-flight window is full or it has everything. */
  #fillWindow(to: NodeId, pr: Progress, sendIfEmpty: boolean): void {
    if (!this.#sendAppend(to, pr, sendIfEmpty)) return;
    while (this.#sendAppend(to, pr, false)) {
      // Each call sends one more batch of entries.
    }
  }

  /**
   * Sends the follower what it lacks, within the message size limit and the in-flight window;
   * falls back to a snapshot when the entries it needs are compacted. `sendIfEmpty` sends an
   * empty append (a probe, or a commit index update) when there is nothing new.
   */
  #sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return this.#startSnapshot(to, pr);
    const entries = this.log.entriesFrom(pr.next, this.cfg.maxMsgBytes);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.msgs.push({
      type: 'append',
      groupId: this.groupId,
      from: this.id,
      to,
      term: this.term,
      prevIndex,
      prevTerm,
      commit: this.log.committed,
      entries,
    });
    const last = entries.length > 0 ? entries[entries.length - 1]!.index : prevIndex;
    pr.sentEntries(last, entriesBytes(entries), entries.length);
    return true;
  }

  #startSnapshot(to: NodeId, pr: Progress): boolean {
    // An unreachable follower would only waste a transfer; wait until it answers again.
    if (this.#tickCount - pr.lastActiveTick >= this.cfg.electionTimeoutTicks) return false;
    const snapshot = this.log.snapshot();
    assert(snapshot.index >= pr.next - 1, `snapshot ${snapshot.index} does not cover index ${pr.next - 1}`);
    pr.becomeSnapshot(snapshot);
    this.#log(`sending snapshot ${snapshot.index} (${snapshot.sizeBytes} bytes) to ${to}`);
    this.#sendSnapshotChunks(to, pr);
    return true;
  }

  #sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const windowBytes = this.cfg.snapshotChunkBytes * this.cfg.maxInflightSnapshotChunks;
    for (;;) {
      const transfer = pr.transfer;
      if (transfer === null) return;
      const { snapshot } = transfer;
      const unsent = !transfer.started || transfer.sentOffset < snapshot.sizeBytes;
      if (!unsent || transfer.sentOffset - transfer.ackedOffset >= windowBytes) return;
      const data = this.cfg.storage.snapshotChunk(
        snapshot.index,
        transfer.sentOffset,
        this.cfg.snapshotChunkBytes,
      );
      if (data === null) {
        const latest = this.cfg.storage.snapshot();
        assert(latest.index > snapshot.index, `storage lost snapshot ${snapshot.index} without a newer one`);
        pr.becomeSnapshot(latest);
        continue;
      }
      assert(
        data.byteLength > 0 || snapshot.sizeBytes === 0,
        `storage returned an empty chunk at ${transfer.sentOffset} of ${snapshot.sizeBytes}`,
      );
      this.msgs.push({
        type: 'snapshot',
        groupId: this.groupId,
        from: this.id,
        to,
        term: this.term,
        snapshot,
        offset: transfer.sentOffset,
        data,
      });
      transfer.sentOffset += data.byteLength;
      transfer.started = true;
    }
  }

  #broadcastHeartbeat(): void {
    this.#heartbeatSeq++;
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      // Never past what the follower is known to hold: its log may still diverge after that.
      const commit = Math.min(pr.match, this.log.committed);
      this.msgs.push({
        type: 'heartbeat',
        groupId: this.groupId,
        from: this.id,
        to: id,
        term: this.term,
        commit,
        seq: this.#heartbeatSeq,
        sentTick: this.#tickCount,
      });
    }
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#leaseRevoked = true;
    this.msgs.push({ type: 'timeoutNow', groupId: this.groupId, from: this.id, to, term: this.term });
    if (!this.#promotable()) {
      // A removed leader has handed over; unlike a transfer it has nothing to fall back to.
      this.#log(`handed over to ${to}: stepping down at term ${this.term}`);
      this.becomeFollower(this.term, null);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Requests

  propose(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') return { ok: false, reason: 'notLeader' };
    if (this.leadTransferee !== null || this.#selfRemovalIndex !== 0) {
      return { ok: false, reason: 'transferring' };
    }
    let removesSelf = false;
    if (type === 'confChange') {
      if (this.#pendingConfIndex > this.log.applied) return { ok: false, reason: 'confChangePending' };
      const change = decodeConfChangeOrNull(data);
      if (change === null || typeof applyConfChange(this.tracker.confState(), change) === 'string') {
        return { ok: false, reason: 'invalidConfChange' };
      }
      removesSelf = change.type === 'remove' && change.nodeId === this.id;
    }
    const bytes = data.byteLength + ENTRY_OVERHEAD_BYTES;
    if (this.#uncommittedBytes > 0 && this.#uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) {
      return { ok: false, reason: 'overloaded' };
    }
    this.#appendEntries([{ type, data }]);
    const index = this.log.lastIndex();
    if (type === 'confChange') this.#pendingConfIndex = index;
    if (removesSelf) this.#selfRemovalIndex = index;
    return { ok: true, index, term: this.term };
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    return this.propose('confChange', encodeConfChange(change));
  }

  /**
   * The runtime applied these entries: they no longer count against `maxUncommittedBytes`.
   * Entries a previous leader appended were never counted; hence the clamp at zero.
   */
  reduceUncommittedBytes(entries: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    this.#uncommittedBytes = Math.max(0, this.#uncommittedBytes - entriesBytes(entries));
  }

  /**
   * ReadIndex (thesis §6.4). A follower forwards the request to its leader; with no known
   * leader it refuses (returns false) so the caller can fail fast.
   */
  readIndex(context: Uint8Array): boolean {
    if (this.role === 'leader') return this.#readIndexAsLeader(context, null);
    if (this.leaderId === null) return false;
    this.msgs.push({
      type: 'readIndex',
      groupId: this.groupId,
      from: this.id,
      to: this.leaderId,
      term: 0,
      context,
    });
    return true;
  }

  #readIndexAsLeader(context: Uint8Array, from: NodeId | null): boolean {
    // A removed leader is on its way out; its successor answers.
    if (!this.#promotable()) return false;
    if (this.log.term(this.log.committed) !== this.term) {
      // Until an entry of this term commits, our commit index may lag the true one.
      if (this.#readsAwaitingCommit.length >= this.cfg.maxPendingReads) return false;
      this.#readsAwaitingCommit.push({ context, from });
      return true;
    }
    const index = this.log.committed;
    if (this.tracker.voters.length === 1 || (this.cfg.readOnly === 'lease' && this.#leaseValid())) {
      this.#respondToRead(context, from, index);
      return true;
    }
    if (this.#readOnly.size >= this.cfg.maxPendingReads) return false;
    this.#readOnly.add({ context, index, from, seq: this.#heartbeatSeq + 1 });
    this.#broadcastHeartbeat();
    return true;
  }

  #releaseConfirmedReads(): void {
    if (this.#readOnly.size === 0) return;
    const confirmed = this.tracker.quorumValue((id, pr) =>
      id === this.id ? this.#heartbeatSeq : pr.ackedHeartbeatSeq,
    );
    for (const r of this.#readOnly.release(confirmed)) this.#respondToRead(r.context, r.from, r.index);
  }

  #respondToRead(context: Uint8Array, from: NodeId | null, index: number): void {
    if (from === null || from === this.id) {
      this.readStates.push({ index, context });
      return;
    }
    this.msgs.push({
      type: 'readIndexResponse',
      groupId: this.groupId,
      from: this.id,
      to: from,
      term: this.term,
      index,
      context,
    });
  }

  /**
   * The lease holds while a quorum acknowledged a heartbeat sent less than `leaseTicks` ago:
   * those followers will not vote for anyone else until their election timeout has passed.
   */
  #leaseValid(): boolean {
    if (this.#leaseRevoked || this.leadTransferee !== null) return false;
    const now = this.#tickCount;
    const sent = this.tracker.quorumValue((id, pr) => (id === this.id ? now : pr.ackedHeartbeatSentTick));
    return now - sent < leaseTicks(this.cfg);
  }

  /** Leadership transfer (thesis §3.10): catch the target up, then tell it to campaign. */
  transferLeader(to: NodeId): boolean {
    if (this.role !== 'leader' || !this.tracker.isVoter(to)) return false;
    if (to === this.id || to === this.leadTransferee) return true;
    this.electionElapsed = 0;
    this.leadTransferee = to;
    this.#log(`transferring leadership to ${to} at term ${this.term}`);
    const pr = this.tracker.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.#sendTimeoutNow(to);
    else this.#sendAppend(to, pr, true);
    return true;
  }

  /** The transport lost its connection to `id`: stop streaming appends into the void. */
  reportUnreachable(id: NodeId): void {
    const pr = this.tracker.progress.get(id);
    if (this.role === 'leader' && pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  // ---------------------------------------------------------------------------------------
  // Configuration

  /** Applies a committed configuration entry; called as the runtime acknowledges applying it. */
  applyConfChangeEntry(entry: Entry): void {
    const change = decodeConfChangeOrNull(entry.data);
    const next = change === null ? 'undecodable' : applyConfChange(this.tracker.confState(), change);
    if (typeof next === 'string') {
      this.#log(`skipped configuration entry ${entry.index}: ${next}`);
      return;
    }
    this.tracker.setConf(next, (id, isLearner) => this.#newProgress(id, isLearner));
    this.#log(
      `applied ${change!.type} ${change!.nodeId} at index ${entry.index}: ` +
        `voters [${next.voters.join(',')}], learners [${next.learners.join(',')}]`,
    );
    if (this.role !== 'leader') return;
    if (!this.tracker.isVoter(this.id)) {
      this.#handOver();
      return;
    }
    if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) {
      this.leadTransferee = null;
    }
    if (this.#maybeCommit()) {
      this.#broadcastAppend();
    } else {
      // A new member has never heard from us: probe it now rather than at the next heartbeat.
      for (const [id, pr] of this.tracker.progress) {
        if (id !== this.id) this.#sendAppend(id, pr, pr.match === 0 && pr.state === 'probe');
      }
    }
  }

  /**
   * The leader applied its own removal. Stepping down at once could strand the group: a
   * remaining voter that has not yet learned the removal committed still counts us, and we
   * would refuse to elect it if our log were longer. So, as in thesis §4.2.2, we keep
   * replicating (no longer counting ourselves) until the most caught-up voter holds our whole
   * log, then tell it to campaign. Proposals stopped when the removal entry was appended, so
   * our log is as short as it can be. If the hand-over does not finish within an election
   * timeout we step down anyway (see #tickLeader).
   */
  #handOver(): void {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.tracker.voters) {
      const match = this.tracker.progress.get(id)!.match;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    assert(best !== null, 'a configuration always keeps a voter');
    this.#log(`removed from the configuration at term ${this.term}: handing over to ${best}`);
    this.electionElapsed = 0;
    this.leadTransferee = best;
    const pr = this.tracker.progress.get(best)!;
    if (pr.match === this.log.lastIndex()) this.#sendTimeoutNow(best);
    else this.#sendAppend(best, pr, true);
  }

  // ---------------------------------------------------------------------------------------
  // Output

  #log(line: string): void {
    this.cfg.logger?.(`${this.id} ${line}`);
  }
}

function decodeConfChangeOrNull(data: Uint8Array): ConfChange | null {
  try {
    return decodeConfChange(data);
  } catch {
    return null;
  }
}
