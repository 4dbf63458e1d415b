/**
 * The tables of `raft.sqlite`: the Raft state of every group a node hosts, keyed by group id.
 * State machines keep their own tables in the same file (and the same transactions).
 *
 * Snapshots are stored as pieces of a few hundred KiB, not as one BLOB: SQLite's `substr()`
 * on a BLOB loads the whole value, so serving a 64 MiB snapshot in 256 KiB chunks that way
 * measured 60 ms per chunk (15 s of blocked event loop per transfer) against 0.24 ms per piece.
 */

/**
 * Bumped when the schema changes; `RaftDb.open` upgrades the versions it lists in
 * `UPGRADABLE_VERSIONS` (every change so far only added tables) and refuses any other.
 */
export const SCHEMA_VERSION = 2;
/** Version 1 lacked the machine_* tables. */
export const UPGRADABLE_VERSIONS: readonly number[] = [0, 1];

/** Entry types as stored: small integers rather than text, since every entry carries one. */
export const ENTRY_TYPE_NORMAL = 0;
export const ENTRY_TYPE_CONF_CHANGE = 1;

export const SCHEMA_SQL = `
-- One row per group: its existence, its hard state, and the last discarded log entry
-- (compacted_index/term), so term(firstIndex - 1) stays answerable after compaction.
CREATE TABLE IF NOT EXISTS raft_hard_state (
  group_id        INTEGER PRIMARY KEY,
  term            INTEGER NOT NULL,
  vote            TEXT,
  commit_index    INTEGER NOT NULL,
  compacted_index INTEGER NOT NULL,
  compacted_term  INTEGER NOT NULL
) STRICT;

-- Entries (compacted_index, last] of each group, contiguous.
CREATE TABLE IF NOT EXISTS raft_entries (
  group_id INTEGER NOT NULL,
  idx      INTEGER NOT NULL,
  term     INTEGER NOT NULL,
  type     INTEGER NOT NULL CHECK (type IN (${ENTRY_TYPE_NORMAL}, ${ENTRY_TYPE_CONF_CHANGE})),
  data     BLOB NOT NULL,
  PRIMARY KEY (group_id, idx)
) STRICT, WITHOUT ROWID;

-- The current snapshot of each group (highest snap_index) and at most one previous
-- generation, kept readable so a transfer in progress can finish.
CREATE TABLE IF NOT EXISTS raft_snapshots (
  group_id   INTEGER NOT NULL,
  snap_index INTEGER NOT NULL,
  snap_term  INTEGER NOT NULL,
  conf_state TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  PRIMARY KEY (group_id, snap_index)
) STRICT, WITHOUT ROWID;

-- Snapshot bytes in pieces; a rowid table because the rows are large.
CREATE TABLE IF NOT EXISTS raft_snapshot_pieces (
  group_id    INTEGER NOT NULL,
  snap_index  INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  data        BLOB NOT NULL,
  PRIMARY KEY (group_id, snap_index, byte_offset)
) STRICT;

-- Chunks of a snapshot being received from the leader, in order from offset 0.
CREATE TABLE IF NOT EXISTS raft_staging (
  group_id    INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,
  snap_index  INTEGER NOT NULL,
  snap_term   INTEGER NOT NULL,
  data        BLOB NOT NULL,
  PRIMARY KEY (group_id, byte_offset)
) STRICT;

-- Groups whose state machine keeps its state in tables of its own (the queue partitions):
-- the index that state reflects and the leader time of that entry, written in the same
-- transaction as the state. A replica reopens here instead of at its last snapshot.
CREATE TABLE IF NOT EXISTS machine_applied (
  group_id      INTEGER PRIMARY KEY,
  applied_index INTEGER NOT NULL,
  time_ms       INTEGER NOT NULL
) STRICT;

-- The client sessions of those groups (exactly-once retries), one row per session.
CREATE TABLE IF NOT EXISTS machine_sessions (
  group_id INTEGER NOT NULL,
  session  TEXT NOT NULL,
  data     BLOB NOT NULL,
  PRIMARY KEY (group_id, session)
) STRICT, WITHOUT ROWID;
`;
