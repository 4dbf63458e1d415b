/**
 * The vocabulary of the Raft core: log entries, persistent state, membership, the messages
 * replicas exchange and the `Ready` batch handed to the runtime. Plain data only; every type
 * here crosses the core's boundary (to storage, to the wire codec, to the runtime).
 */

/** A replica's name, unique within a group ("n1"). At most 255 UTF-8 bytes (see codec.ts). */
export type NodeId = string;

/** A Raft group: 0 is the meta group, 1..P the queue partitions. An unsigned 32-bit integer. */
export type GroupId = number;

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export type EntryType = 'normal' | 'confChange';

/**
 * One log entry. A `normal` entry with empty data is the no-op a new leader appends (Raft thesis
 * §6.4); a `confChange` entry carries an encoded `ConfChange` (codec.ts).
 */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before any message that depends on it is sent (Raft paper Figure 2). */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** Group membership. Voters count for elections and commitment; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export type ConfChangeType = 'addLearner' | 'addVoter' | 'promote' | 'remove';

/** A single-server membership change (thesis §4.1): one server at a time, one pending at a time. */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * Describes a snapshot of the application state: it replaces every entry up to `index`.
 * The bytes themselves live in storage and travel in chunks (see README, "Snapshots").
 */
export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
  readonly sizeBytes: number;
}

/** A piece of an incoming snapshot that the runtime writes to a staging area, in order. */
export interface SnapshotChunk {
  readonly snapshot: SnapshotMetadata;
  /** Byte offset of `data` in the snapshot; 0 means "start a new staging area". */
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface ReadState {
  /** The read may be served once the state machine has applied at least this index. */
  readonly index: number;
  readonly context: Uint8Array;
}

export interface SoftState {
  readonly leaderId: NodeId | null;
  readonly role: Role;
}

interface MessageHeader {
  readonly groupId: GroupId;
  readonly from: NodeId;
  readonly to: NodeId;
  /** 0 only on `readIndex`, which is forwarded to the leader whatever the sender's term. */
  readonly term: number;
}

/** AppendEntries (paper §5.3). An empty `entries` list doubles as a probe. */
export interface AppendMessage extends MessageHeader {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly commit: number;
  readonly entries: readonly Entry[];
}

/**
 * On success `index` is the last index known to match the leader. On rejection `index` is the
 * rejected `prevIndex` and (`hintIndex`, `hintTerm`) let the leader skip a whole term of
 * conflicting entries at once (thesis §5.4.1, etcd's findConflictByTerm).
 */
export interface AppendResponse extends MessageHeader {
  readonly type: 'appendResponse';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

export interface VoteMessage extends MessageHeader {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set by a leadership transfer: voters ignore their leader lease (thesis §3.10). */
  readonly transfer: boolean;
}

export interface VoteResponse extends MessageHeader {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/**
 * Heartbeats are kept small because idle groups send many. `seq` numbers the leader's heartbeat
 * rounds in this term (ReadIndex confirmation) and `sentTick` is the leader's local tick when it
 * was sent (leader lease); followers echo both.
 */
export interface HeartbeatMessage extends MessageHeader {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly seq: number;
  readonly sentTick: number;
}

export interface HeartbeatResponse extends MessageHeader {
  readonly type: 'heartbeatResponse';
  readonly seq: number;
  readonly sentTick: number;
}

/** One chunk of InstallSnapshot (thesis §5.3, chunked as in the paper's Figure 13). */
export interface SnapshotMessage extends MessageHeader {
  readonly type: 'snapshot';
  readonly snapshot: SnapshotMetadata;
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * `offset` is the next byte the follower expects. `reject` asks the leader to resend from
 * there (a chunk was lost or the follower restarted); otherwise it acknowledges everything
 * before `offset`. The final chunk is acknowledged with an `appendResponse` instead.
 */
export interface SnapshotResponse extends MessageHeader {
  readonly type: 'snapshotResponse';
  readonly snapshotIndex: number;
  readonly offset: number;
  readonly reject: boolean;
}

/** Leadership transfer: the target starts an election at once (thesis §3.10). */
export interface TimeoutNowMessage extends MessageHeader {
  readonly type: 'timeoutNow';
}

/** A follower forwards a ReadIndex request to its leader (thesis §6.4). */
export interface ReadIndexMessage extends MessageHeader {
  readonly type: 'readIndex';
  readonly context: Uint8Array;
}

export interface ReadIndexResponse extends MessageHeader {
  readonly type: 'readIndexResponse';
  readonly index: number;
  readonly context: Uint8Array;
}

export type Message =
  | AppendMessage
  | AppendResponse
  | VoteMessage
  | VoteResponse
  | HeartbeatMessage
  | HeartbeatResponse
  | SnapshotMessage
  | SnapshotResponse
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponse;

export type MessageType = Message['type'];

/**
 * Everything the core wants done, in one batch. The runtime must, in this order:
 * 1. write `snapshotChunks` to the staging area; if `snapshot` is set, install the staged
 *    snapshot; append `entries` (dropping any stored suffix they conflict with); store
 *    `hardState` — all in one durable transaction when `mustSync`;
 * 2. send `messages`;
 * 3. apply `committedEntries` in order and serve `readStates` once applied ≥ their index;
 * 4. call `advance()`.
 */
export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: SnapshotMetadata | null;
  readonly snapshotChunks: readonly SnapshotChunk[];
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** False when only the commit index changed: the write need not be fsynced. */
  readonly mustSync: boolean;
}

/** The answer to a proposal: where it went in the log, or why it was refused. */
export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ProposeRejection };

export type ProposeRejection =
  /** Only the leader accepts proposals; the runtime forwards to `leaderId`. */
  | 'notLeader'
  /** A leadership transfer is under way; retry at the new leader. */
  | 'transferring'
  /** The uncommitted tail of the log is at its byte limit: back-pressure. */
  | 'overloaded'
  /** A configuration change is still unapplied (one at a time, thesis §4.1). */
  | 'confChangePending'
  /** The change makes no sense against the current configuration. */
  | 'invalidConfChange';
