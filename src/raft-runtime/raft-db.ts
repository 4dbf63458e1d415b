import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { assert } from '../lib/assert.js';
import { EMPTY_CONF_STATE } from '../raft/storage.js';
import type { ConfState } from '../raft/types.js';
import { GroupStorage, type GroupStorageContext } from './group-storage.js';
import { insertSnapshotMeta, writeSnapshotPieces } from './group-storage-snapshots.js';
import { MachineRows } from './machine-rows.js';
import { SCHEMA_SQL, SCHEMA_VERSION, UPGRADABLE_VERSIONS } from './raft-db-schema.js';
import { prepareStatements, type RaftStatements } from './raft-db-statements.js';

/**
 * When a committed batch reaches the disk (SQLite in WAL mode in every case):
 *
 * - `always` (`synchronous=FULL`): the WAL is fsynced before `batch()` returns. Neither a process
 *   crash nor a power loss loses a committed batch. What Raft assumes; the default.
 * - `everysec` (`synchronous=NORMAL`): a commit only write()s the WAL; a timer fsyncs it once a
 *   second by running a passive checkpoint. A process crash (kill -9) loses nothing: the OS holds
 *   the writes. A power loss or OS crash loses the batches of the last second or so; the file
 *   stays consistent and reopens at a prefix of the committed batches. That breaks Raft's
 *   assumptions: a replica may forget a vote (two leaders in a term) or acknowledged entries
 *   (if a majority lose power together, committed entries can vanish).
 * - `no` (`synchronous=OFF`): SQLite never fsyncs. A process crash loses nothing; a power loss
 *   loses recent batches and may corrupt the file. For tests and benchmarks.
 */
export type FsyncMode = 'always' | 'everysec' | 'no';

export interface RaftDbOptions {
  readonly fsync: FsyncMode;
  /** Recent entries kept in memory per group, so the leader replicates without reading back. */
  readonly tailCacheBytes?: number;
  /** Size of the rows snapshot bytes are stored in (see raft-db-schema.ts). */
  readonly snapshotPieceBytes?: number;
}

export interface RaftDbStats {
  /** Batches committed. */
  readonly transactions: number;
  /** Batches rolled back (the function threw, or a write inside it failed). */
  readonly rollbacks: number;
  /** Entries and payload bytes appended by committed batches. */
  readonly entriesAppended: number;
  readonly bytesAppended: number;
  /** Wall time of the last committed batch, from BEGIN to the end of COMMIT (fsync included). */
  readonly lastTxnMs: number;
  readonly maxTxnMs: number;
}

export const DEFAULT_TAIL_CACHE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SNAPSHOT_PIECE_BYTES = 256 * 1024;
const EVERYSEC_INTERVAL_MS = 1000;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
const MAX_GROUP_ID = 2 ** 32 - 1;

const SYNCHRONOUS: Record<FsyncMode, string> = { always: 'FULL', everysec: 'NORMAL', no: 'OFF' };

/**
 * The node's `raft.sqlite`: the log, hard state and snapshots of every Raft group it hosts,
 * written in one transaction per `batch` (group commit across all groups).
 */
export class RaftDb {
  readonly sqlite: Database.Database;
  readonly fsync: FsyncMode;
  /** The applied index and sessions of durable state machines (`DurableStateMachine`). */
  readonly machineRows: MachineRows;
  readonly #st: RaftStatements;
  readonly #ctx: GroupStorageContext;
  readonly #groups = new Map<number, GroupStorage>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /** Nesting depth of `batch` calls; 0 outside any. */
  #depth = 0;
  /** Set when a nested batch or a write failed: the outermost batch must roll back. */
  #failure: { error: unknown } | null = null;
  /** Groups written in the open batch, and whether each was registered when the batch began. */
  readonly #touched = new Map<GroupStorage, boolean>();
  #pendingEntries = 0;
  #pendingBytes = 0;

  #transactions = 0;
  #rollbacks = 0;
  #entriesAppended = 0;
  #bytesAppended = 0;
  #lastTxnMs = 0;
  #maxTxnMs = 0;

  /** Opens (creating) `<dir>/raft.sqlite` in WAL mode; `options.fsync` as `FsyncMode` describes. */
  static open(dir: string, options: RaftDbOptions): RaftDb {
    const tailCacheBytes = options.tailCacheBytes ?? DEFAULT_TAIL_CACHE_BYTES;
    const snapshotPieceBytes = options.snapshotPieceBytes ?? DEFAULT_SNAPSHOT_PIECE_BYTES;
    assert(Object.hasOwn(SYNCHRONOUS, options.fsync), `unknown fsync mode ${String(options.fsync)}`);
    assert(Number.isInteger(tailCacheBytes) && tailCacheBytes >= 0, 'tailCacheBytes must be ≥ 0');
    assert(Number.isInteger(snapshotPieceBytes) && snapshotPieceBytes > 0, 'snapshotPieceBytes must be > 0');
    mkdirSync(dir, { recursive: true });
    const sqlite = new Database(join(dir, 'raft.sqlite'));
    try {
      const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
      assert(mode === 'wal', `SQLite refused WAL mode (${String(mode)})`);
      sqlite.pragma(`synchronous = ${SYNCHRONOUS[options.fsync]}`);
      // A WAL is reused, not shrunk: without a limit one big snapshot would leave it that big.
      sqlite.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      migrate(sqlite);
      return new RaftDb(sqlite, options.fsync, tailCacheBytes, snapshotPieceBytes);
    } catch (error) {
      sqlite.close();
      throw error;
    }
  }

  private constructor(
    sqlite: Database.Database,
    fsync: FsyncMode,
    tailCacheBytes: number,
    snapshotPieceBytes: number,
  ) {
    this.sqlite = sqlite;
    this.fsync = fsync;
    this.#st = prepareStatements(sqlite);
    this.machineRows = new MachineRows(sqlite, () => this.#depth > 0);
    this.#ctx = {
      statements: this.#st,
      tailCacheBytes,
      snapshotPieceBytes,
      beginWrite: (group) => this.#beginWrite(group),
      failWrite: (error) => {
        this.#failure ??= { error };
      },
      countAppended: (entries, bytes) => {
        this.#pendingEntries += entries;
        this.#pendingBytes += bytes;
      },
    };
    if (fsync === 'everysec') {
      // Passive: never waits; with this process the only user of the file it completes, and
      // it fsyncs the WAL before copying it into the database.
      this.#timer = setInterval(() => sqlite.pragma('wal_checkpoint(PASSIVE)'), EVERYSEC_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  /** Group ids that have stored state (created and not destroyed), ascending. */
  groupIds(): number[] {
    this.#assertOpen();
    return this.#st.groupIds.all();
  }

  /** The stored group `groupId` (the same instance on every call), or undefined if none. */
  openGroup(groupId: number): GroupStorage | undefined {
    this.#assertOpen();
    const open = this.#groups.get(groupId);
    if (open !== undefined) return open;
    const group = GroupStorage.load(this.#ctx, groupId);
    if (group !== undefined) this.#groups.set(groupId, group);
    return group;
  }

  /**
   * Creates a group. With `bootstrap`, like `MemoryStorage.bootstrap`: a snapshot at index 1,
   * term 1 holding the initial configuration and `data`, hard state {term 1, commit 1}. Without,
   * empty: a replica joining later, which receives everything with the leader's snapshot.
   */
  createGroup(groupId: number, bootstrap?: { confState: ConfState; data: Uint8Array }): GroupStorage {
    assertGroupId(groupId);
    if (bootstrap !== undefined) {
      assert(bootstrap.confState.voters.length > 0, 'a group needs at least one voter');
    }
    // Checked before the batch: a failure inside it would roll back an enclosing batch too.
    assert(this.openGroup(groupId) === undefined, `group ${groupId} already exists`);
    let group: GroupStorage | undefined;
    this.batch(() => {
      const st = this.#st;
      const at = bootstrap === undefined ? 0 : 1;
      const data = bootstrap?.data ?? new Uint8Array(0);
      st.insertGroup.run(groupId, at, null, at, at, at);
      const conf = bootstrap?.confState ?? EMPTY_CONF_STATE;
      insertSnapshotMeta(st, groupId, { index: at, term: at, confState: conf, sizeBytes: data.byteLength });
      writeSnapshotPieces(st, groupId, at, data, this.#ctx.snapshotPieceBytes);
      group = GroupStorage.load(this.#ctx, groupId)!;
      this.#touched.set(group, false);
      this.#groups.set(groupId, group);
    });
    return group!;
  }

  /** Deletes every row of a group (log, hard state, snapshots, staging); a no-op if none. */
  destroyGroup(groupId: number): void {
    assertGroupId(groupId);
    this.batch(() => {
      const group = this.#groups.get(groupId);
      if (group !== undefined) this.#beginWrite(group);
      for (const statement of Object.values(this.#st.deleteGroupRows)) statement.run(groupId);
      group?.markDestroyed();
      this.#groups.delete(groupId);
    });
  }

  /**
   * Runs `fn` in one SQLite transaction: every group's writes in it commit together (group
   * commit), or none do. `GroupStorage` writes are only allowed inside. A nested call joins the
   * outer transaction; if it throws, the outer one rolls back even if the error is caught. On
   * rollback every group written in the batch is reloaded from the database, so no in-memory
   * state runs ahead of what is stored.
   */
  batch(fn: () => void, options: { readonly sync?: boolean } = {}): void {
    this.#assertOpen();
    if (this.#depth > 0) {
      this.#depth++;
      try {
        assertSync(fn());
      } catch (error) {
        this.#failure ??= { error };
        throw error;
      } finally {
        this.#depth--;
      }
      return;
    }
    const startMs = performance.now();
    // A batch that promises nothing new (only a commit index moved) need not wait for the disk:
    // under `always` it commits without fsync; the next synced commit covers it (WAL order).
    const relaxed = options.sync === false && this.fsync === 'always';
    if (relaxed) this.sqlite.pragma('synchronous = NORMAL');
    this.#st.begin.run();
    this.#depth = 1;
    try {
      assertSync(fn());
      if (this.#failure !== null) throw this.#failure.error;
      this.#st.commit.run();
      this.#commitCounters();
    } catch (error) {
      this.#rollback();
      throw error;
    } finally {
      if (relaxed) this.sqlite.pragma(`synchronous = ${SYNCHRONOUS.always}`);
      this.#depth = 0;
      this.#failure = null;
      this.#touched.clear();
      this.#pendingEntries = 0;
      this.#pendingBytes = 0;
    }
    const txnMs = performance.now() - startMs;
    this.#transactions++;
    this.#lastTxnMs = txnMs;
    if (txnMs > this.#maxTxnMs) this.#maxTxnMs = txnMs;
  }

  /** Whether a `batch` is open (writes of durable state machines must happen in one). */
  get inBatch(): boolean {
    return this.#depth > 0;
  }

  stats(): RaftDbStats {
    return {
      transactions: this.#transactions,
      rollbacks: this.#rollbacks,
      entriesAppended: this.#entriesAppended,
      bytesAppended: this.#bytesAppended,
      lastTxnMs: this.#lastTxnMs,
      maxTxnMs: this.#maxTxnMs,
    };
  }

  close(): void {
    if (this.#closed) return;
    assert(this.#depth === 0, 'close() inside a batch');
    if (this.#timer !== null) clearInterval(this.#timer);
    for (const group of this.#groups.values()) group.markDestroyed();
    this.#groups.clear();
    this.#closed = true;
    this.sqlite.close();
  }

  #beginWrite(group: GroupStorage): void {
    assert(this.#depth > 0, `group ${group.groupId} written outside db.batch`);
    if (!this.#touched.has(group)) this.#touched.set(group, this.#groups.get(group.groupId) === group);
  }

  /** Only now do the batch's appends count: a rolled-back batch appended nothing. */
  #commitCounters(): void {
    this.#entriesAppended += this.#pendingEntries;
    this.#bytesAppended += this.#pendingBytes;
  }

  #rollback(): void {
    // SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, ...).
    if (this.sqlite.inTransaction) this.#st.rollback.run();
    this.#rollbacks++;
    // Groups created in the batch go first, so a group that existed before it wins its id back.
    for (const [group, wasRegistered] of this.#touched) {
      if (wasRegistered) continue;
      group.markDestroyed();
      if (this.#groups.get(group.groupId) === group) this.#groups.delete(group.groupId);
    }
    for (const [group, wasRegistered] of this.#touched) {
      if (!wasRegistered) continue;
      assert(group.reload(), `group ${group.groupId} vanished in a rollback`);
      this.#groups.set(group.groupId, group);
    }
  }

  #assertOpen(): void {
    assert(!this.#closed, 'RaftDb is closed');
  }
}

function migrate(sqlite: Database.Database): void {
  const version = sqlite.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  assert(
    UPGRADABLE_VERSIONS.includes(version),
    `raft.sqlite has schema version ${version}; this build knows ${SCHEMA_VERSION}`,
  );
  sqlite.transaction(() => {
    sqlite.exec(SCHEMA_SQL);
    sqlite.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function assertGroupId(groupId: number): void {
  assert(Number.isInteger(groupId) && groupId >= 0 && groupId <= MAX_GROUP_ID, `bad group id ${groupId}`);
}

/** An async function would run its awaits after the transaction has ended. */
function assertSync(result: unknown): void {
  assert(!(result instanceof Promise), 'db.batch needs a synchronous function');
}
