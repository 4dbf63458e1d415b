import type Database from 'better-sqlite3';

type Stmt<P extends unknown[], R = unknown> = Database.Statement<P, R>;

export interface HardStateRow {
  readonly term: number;
  readonly vote: string | null;
  readonly commit_index: number;
  readonly compacted_index: number;
  readonly compacted_term: number;
}

export interface SnapshotRow {
  readonly snap_index: number;
  readonly snap_term: number;
  readonly conf_state: string;
  readonly size_bytes: number;
}

export interface StagingSummaryRow {
  readonly pieces: number;
  readonly snap_index: number | null;
  readonly snap_term: number | null;
  readonly bytes: number | null;
}

/** `[idx, term, type, data]`, read in raw mode: no object per row. */
export type EntryRow = [number, number, number, Buffer];

/** Every statement `RaftDb` and `GroupStorage` run, prepared once per database handle. */
export interface RaftStatements {
  readonly groupIds: Stmt<[], number>;
  readonly selectGroup: Stmt<[number], HardStateRow>;
  readonly insertGroup: Stmt<[number, number, string | null, number, number, number]>;
  /** `(term, vote, commit, group)`: better-sqlite3 binds no numbered parameters, so the key comes last. */
  readonly updateHardState: Stmt<[number, string | null, number, number]>;
  /** `(compactedIndex, compactedTerm, group)`. */
  readonly updateCompacted: Stmt<[number, number, number]>;

  readonly insertEntry: Stmt<[number, number, number, number, Uint8Array]>;
  readonly selectEntries: Stmt<[number, number, number], EntryRow>;
  readonly selectTerm: Stmt<[number, number], number>;
  readonly selectLastIndex: Stmt<[number], number | null>;
  readonly selectFirstIndex: Stmt<[number], number | null>;
  readonly deleteEntriesFrom: Stmt<[number, number]>;
  readonly deleteEntriesThrough: Stmt<[number, number]>;

  readonly selectSnapshots: Stmt<[number], SnapshotRow>;
  readonly insertSnapshot: Stmt<[number, number, number, string, number]>;
  readonly deleteSnapshotsBelow: Stmt<[number, number]>;
  readonly deleteSnapshotPiecesBelow: Stmt<[number, number]>;
  readonly insertSnapshotPiece: Stmt<[number, number, number, Uint8Array]>;
  readonly selectSnapshotPieces: Stmt<
    [{ group: number; snap: number; start: number; end: number }],
    [number, Buffer]
  >;
  readonly selectAllSnapshotPieces: Stmt<[number, number], [number, Buffer]>;

  readonly insertStaged: Stmt<[number, number, number, number, Uint8Array]>;
  readonly selectStagingSummary: Stmt<[number], StagingSummaryRow>;
  readonly copyStagingToPieces: Stmt<[number]>;

  /** One per table, each `DELETE ... WHERE group_id = ?`: destroying a group and installing a snapshot. */
  readonly deleteGroupRows: {
    readonly hardState: Stmt<[number]>;
    readonly entries: Stmt<[number]>;
    readonly snapshots: Stmt<[number]>;
    readonly snapshotPieces: Stmt<[number]>;
    readonly staging: Stmt<[number]>;
    readonly machineApplied: Stmt<[number]>;
    readonly machineSessions: Stmt<[number]>;
  };

  readonly begin: Stmt<[]>;
  readonly commit: Stmt<[]>;
  readonly rollback: Stmt<[]>;
}

export function prepareStatements(db: Database.Database): RaftStatements {
  const deleteFrom = (table: string) => db.prepare<[number]>(`DELETE FROM ${table} WHERE group_id = ?`);
  return {
    groupIds: db.prepare<[], number>('SELECT group_id FROM raft_hard_state ORDER BY group_id').pluck(),
    selectGroup: db.prepare<[number], HardStateRow>(
      `SELECT term, vote, commit_index, compacted_index, compacted_term
       FROM raft_hard_state WHERE group_id = ?`,
    ),
    insertGroup: db.prepare('INSERT INTO raft_hard_state VALUES (?, ?, ?, ?, ?, ?)'),
    updateHardState: db.prepare(
      'UPDATE raft_hard_state SET term = ?, vote = ?, commit_index = ? WHERE group_id = ?',
    ),
    updateCompacted: db.prepare(
      'UPDATE raft_hard_state SET compacted_index = ?, compacted_term = ? WHERE group_id = ?',
    ),

    insertEntry: db.prepare('INSERT INTO raft_entries VALUES (?, ?, ?, ?, ?)'),
    selectEntries: db
      .prepare<[number, number, number], EntryRow>(
        'SELECT idx, term, type, data FROM raft_entries WHERE group_id = ? AND idx >= ? AND idx < ? ORDER BY idx',
      )
      .raw(),
    selectTerm: db
      .prepare<[number, number], number>('SELECT term FROM raft_entries WHERE group_id = ? AND idx = ?')
      .pluck(),
    selectLastIndex: db
      .prepare<[number], number | null>('SELECT max(idx) FROM raft_entries WHERE group_id = ?')
      .pluck(),
    selectFirstIndex: db
      .prepare<[number], number | null>('SELECT min(idx) FROM raft_entries WHERE group_id = ?')
      .pluck(),
    deleteEntriesFrom: db.prepare('DELETE FROM raft_entries WHERE group_id = ? AND idx >= ?'),
    deleteEntriesThrough: db.prepare('DELETE FROM raft_entries WHERE group_id = ? AND idx <= ?'),

    selectSnapshots: db.prepare<[number], SnapshotRow>(
      `SELECT snap_index, snap_term, conf_state, size_bytes
       FROM raft_snapshots WHERE group_id = ? ORDER BY snap_index DESC`,
    ),
    insertSnapshot: db.prepare('INSERT INTO raft_snapshots VALUES (?, ?, ?, ?, ?)'),
    deleteSnapshotsBelow: db.prepare('DELETE FROM raft_snapshots WHERE group_id = ? AND snap_index < ?'),
    deleteSnapshotPiecesBelow: db.prepare(
      'DELETE FROM raft_snapshot_pieces WHERE group_id = ? AND snap_index < ?',
    ),
    insertSnapshotPiece: db.prepare('INSERT INTO raft_snapshot_pieces VALUES (?, ?, ?, ?)'),
    // The pieces overlapping [start, end): from the last piece starting at or before `start`.
    selectSnapshotPieces: db
      .prepare<{ group: number; snap: number; start: number; end: number }, [number, Buffer]>(
        `SELECT byte_offset, data FROM raft_snapshot_pieces
         WHERE group_id = @group AND snap_index = @snap AND byte_offset < @end
           AND byte_offset >= (SELECT ifnull(max(byte_offset), 0) FROM raft_snapshot_pieces
                               WHERE group_id = @group AND snap_index = @snap AND byte_offset <= @start)
         ORDER BY byte_offset`,
      )
      .raw(),
    selectAllSnapshotPieces: db
      .prepare<[number, number], [number, Buffer]>(
        `SELECT byte_offset, data FROM raft_snapshot_pieces
         WHERE group_id = ? AND snap_index = ? ORDER BY byte_offset`,
      )
      .raw(),

    insertStaged: db.prepare('INSERT INTO raft_staging VALUES (?, ?, ?, ?, ?)'),
    selectStagingSummary: db.prepare<[number], StagingSummaryRow>(
      `SELECT count(*) AS pieces, min(snap_index) AS snap_index, min(snap_term) AS snap_term,
              sum(length(data)) AS bytes
       FROM raft_staging WHERE group_id = ?`,
    ),
    copyStagingToPieces: db.prepare(
      `INSERT INTO raft_snapshot_pieces (group_id, snap_index, byte_offset, data)
       SELECT group_id, snap_index, byte_offset, data FROM raft_staging WHERE group_id = ?`,
    ),

    deleteGroupRows: {
      hardState: deleteFrom('raft_hard_state'),
      entries: deleteFrom('raft_entries'),
      snapshots: deleteFrom('raft_snapshots'),
      snapshotPieces: deleteFrom('raft_snapshot_pieces'),
      staging: deleteFrom('raft_staging'),
      machineApplied: deleteFrom('machine_applied'),
      machineSessions: deleteFrom('machine_sessions'),
    },

    begin: db.prepare('BEGIN'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
}
