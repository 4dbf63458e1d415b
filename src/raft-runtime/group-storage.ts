import { AssertionError, assert } from '../lib/assert.js';
import { entryBytes, limitBytes } from '../raft/entries.js';
import type { Storage } from '../raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotChunk, SnapshotMetadata } from '../raft/types.js';
import {
  insertSnapshotMeta,
  readSnapshot,
  readSnapshotRange,
  snapshotMetaOf,
  writeSnapshotPieces,
} from './group-storage-snapshots.js';
import { TailCache } from './group-storage-tail.js';
import { ENTRY_TYPE_CONF_CHANGE, ENTRY_TYPE_NORMAL } from './raft-db-schema.js';
import type { RaftStatements } from './raft-db-statements.js';

/** What a `GroupStorage` needs from the `RaftDb` that owns it. */
export interface GroupStorageContext {
  readonly statements: RaftStatements;
  readonly tailCacheBytes: number;
  readonly snapshotPieceBytes: number;
  /** Asserts a batch is open and records that `group` changes in it, so a rollback can reload it. */
  beginWrite(group: GroupStorage): void;
  /** A write failed part way: the batch must roll back even if the caller catches the error. */
  failWrite(error: unknown): void;
  countAppended(entries: number, bytes: number): void;
}

interface Staged {
  readonly index: number;
  readonly term: number;
  /** Bytes staged so far: the offset the next chunk must have. */
  bytes: number;
}

interface PreviousSnapshot {
  readonly index: number;
  readonly sizeBytes: number;
}

/**
 * One Raft group's log, hard state and snapshots in the node's `raft.sqlite`: the SQLite
 * `Storage` the core reads, with the write side of `MemoryStorage`. Everything but entry
 * bodies and snapshot bytes is in memory; recent entries are in a `TailCache`.
 *
 * Writes go to SQLite and to memory at once, and only inside `RaftDb.batch`. If the batch
 * rolls back, `RaftDb` calls `reload()` so memory matches the database again.
 *
 * Obtain instances from `RaftDb.openGroup` / `createGroup`, never with `new`.
 */
export class GroupStorage implements Storage {
  readonly #ctx: GroupStorageContext;
  readonly #st: RaftStatements;
  #alive = true;
  #hardState: HardState = { term: 0, vote: null, commit: 0 };
  /** The last discarded entry: `term(#compactedIndex)` stays answerable after compaction. */
  #compactedIndex = 0;
  #compactedTerm = 0;
  #lastIndex = 0;
  #snapshot!: SnapshotMetadata;
  /** The generation before `#snapshot`, still readable for transfers in progress. */
  #previous: PreviousSnapshot | null = null;
  #staged: Staged | null = null;
  #tail: TailCache;

  /** Loads a stored group, or undefined when the database has none with this id. */
  static load(ctx: GroupStorageContext, groupId: number): GroupStorage | undefined {
    const group = new GroupStorage(ctx, groupId);
    return group.reload() ? group : undefined;
  }

  private constructor(
    ctx: GroupStorageContext,
    readonly groupId: number,
  ) {
    this.#ctx = ctx;
    this.#st = ctx.statements;
    this.#tail = new TailCache(ctx.tailCacheBytes, 1);
  }

  /**
   * Rebuilds every in-memory field from the database (after open, or after a rollback). The
   * tail cache starts empty. Returns false, and leaves the group unusable, if it has no rows.
   */
  reload(): boolean {
    const id = this.groupId;
    const row = this.#st.selectGroup.get(id);
    if (row === undefined) {
      this.markDestroyed();
      return false;
    }
    this.#alive = true;
    this.#hardState = { term: row.term, vote: row.vote, commit: row.commit_index };
    this.#compactedIndex = row.compacted_index;
    this.#compactedTerm = row.compacted_term;
    const first = this.#st.selectFirstIndex.get(id) ?? null;
    const last = this.#st.selectLastIndex.get(id) ?? null;
    assert(
      first === null || first === this.#compactedIndex + 1,
      `group ${id}: log starts at ${first}, compacted through ${this.#compactedIndex}`,
    );
    this.#lastIndex = last ?? this.#compactedIndex;
    const snapshots = this.#st.selectSnapshots.all(id);
    assert(snapshots.length >= 1 && snapshots.length <= 2, `group ${id}: ${snapshots.length} snapshots`);
    this.#snapshot = snapshotMetaOf(snapshots[0]!);
    const previous = snapshots[1];
    this.#previous = previous ? { index: previous.snap_index, sizeBytes: previous.size_bytes } : null;
    assert(
      this.#compactedIndex <= this.#snapshot.index,
      `group ${id}: compacted through ${this.#compactedIndex} beyond snapshot ${this.#snapshot.index}`,
    );
    const staging = this.#st.selectStagingSummary.get(id)!;
    this.#staged =
      staging.pieces === 0
        ? null
        : { index: staging.snap_index!, term: staging.snap_term!, bytes: staging.bytes ?? 0 };
    this.#tail = new TailCache(this.#ctx.tailCacheBytes, this.#lastIndex + 1);
    return true;
  }

  /** After `RaftDb.destroyGroup` (or the rollback of the batch that created it): unusable. */
  markDestroyed(): void {
    this.#alive = false;
    this.#tail.reset(this.#lastIndex + 1);
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** Bytes of entries held by the tail cache (for metrics). */
  get tailCacheBytes(): number {
    return this.#tail.bytes;
  }

  // --- Storage (reads) ---

  initialState(): HardState {
    this.#assertAlive();
    return this.#hardState;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.#assertAlive();
    if (lo < this.firstIndex() || lo > hi || hi > this.#lastIndex + 1) {
      throw new AssertionError(
        `entries [${lo}, ${hi}) outside [${this.firstIndex()}, ${this.#lastIndex + 1})`,
      );
    }
    if (lo === hi) return [];
    if (lo >= this.#tail.firstIndex) return limitBytes(this.#tail.slice(lo, hi), maxBytes);
    return this.#readEntries(lo, hi, maxBytes);
  }

  term(index: number): number {
    this.#assertAlive();
    if (index < this.#compactedIndex || index > this.#lastIndex) {
      throw new AssertionError(`term(${index}) outside [${this.#compactedIndex}, ${this.#lastIndex}]`);
    }
    if (index === this.#compactedIndex) return this.#compactedTerm;
    const cached = this.#tail.term(index);
    if (cached !== undefined) return cached;
    const term = this.#st.selectTerm.get(this.groupId, index);
    assert(term !== undefined, `group ${this.groupId}: entry ${index} missing`);
    return term;
  }

  firstIndex(): number {
    this.#assertAlive();
    return this.#compactedIndex + 1;
  }

  lastIndex(): number {
    this.#assertAlive();
    return this.#lastIndex;
  }

  snapshot(): SnapshotMetadata {
    this.#assertAlive();
    return this.#snapshot;
  }

  snapshotChunk(index: number, offset: number, maxBytes: number): Uint8Array | null {
    this.#assertAlive();
    let sizeBytes: number;
    if (index === this.#snapshot.index) sizeBytes = this.#snapshot.sizeBytes;
    else if (index === this.#previous?.index) sizeBytes = this.#previous.sizeBytes;
    else return null;
    assert(offset >= 0 && offset <= sizeBytes, `snapshot offset ${offset} out of range`);
    return readSnapshotRange(this.#st, this.groupId, index, offset, Math.min(sizeBytes, offset + maxBytes));
  }

  /** The bytes of the current snapshot (what the application restores from after a restart). */
  snapshotData(): Uint8Array {
    this.#assertAlive();
    return readSnapshot(this.#st, this.groupId, this.#snapshot.index, this.#snapshot.sizeBytes);
  }

  // --- writes, only inside RaftDb.batch ---

  setHardState(hs: HardState): void {
    this.#write(() => {
      this.#st.updateHardState.run(hs.term, hs.vote, hs.commit, this.groupId);
      this.#hardState = hs;
    });
  }

  /** Appends entries, first dropping any stored entries from `entries[0].index` on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    this.#write(() => {
      const first = entries[0]!.index;
      if (first > this.#lastIndex + 1) {
        throw new AssertionError(`append at ${first} leaves a gap after ${this.#lastIndex}`);
      }
      for (let i = 1; i < entries.length; i++) {
        assert(entries[i]!.index === first + i, `append: entry ${i} has index ${entries[i]!.index}`);
      }
      // Entries the snapshot already covers are stale on arrival; keep only what follows.
      const skip = Math.max(0, this.#compactedIndex + 1 - first);
      if (skip >= entries.length) return;
      const from = first + skip;
      const st = this.#st;
      if (from <= this.#lastIndex) st.deleteEntriesFrom.run(this.groupId, from);
      let bytes = 0;
      for (let i = skip; i < entries.length; i++) {
        const e = entries[i]!;
        const type = e.type === 'confChange' ? ENTRY_TYPE_CONF_CHANGE : ENTRY_TYPE_NORMAL;
        st.insertEntry.run(this.groupId, e.index, e.term, type, e.data);
        bytes += e.data.byteLength;
      }
      this.#lastIndex = entries[entries.length - 1]!.index;
      this.#tail.append(entries, skip);
      this.#ctx.countAppended(entries.length - skip, bytes);
    });
  }

  /** Writes one chunk of an incoming snapshot; offset 0 starts a new staging area. */
  stageChunk(chunk: SnapshotChunk): void {
    this.#write(() => {
      const meta = chunk.snapshot;
      const st = this.#st;
      if (chunk.offset === 0) {
        st.deleteGroupRows.staging.run(this.groupId);
        this.#staged = null;
      } else {
        const s = this.#staged;
        assert(
          s !== null && s.index === meta.index && s.term === meta.term && s.bytes === chunk.offset,
          `group ${this.groupId}: chunk at ${chunk.offset} of snapshot ${meta.index} out of order`,
        );
      }
      assert(
        chunk.offset + chunk.data.byteLength <= meta.sizeBytes,
        `group ${this.groupId}: chunk at ${chunk.offset} overruns snapshot ${meta.index}`,
      );
      if (chunk.data.byteLength > 0) {
        st.insertStaged.run(this.groupId, chunk.offset, meta.index, meta.term, chunk.data);
      }
      const staged = this.#staged ?? { index: meta.index, term: meta.term, bytes: 0 };
      staged.bytes += chunk.data.byteLength;
      this.#staged = staged;
    });
  }

  /**
   * Replaces the whole log by the staged snapshot received from the leader and returns its
   * bytes, for the application to restore from.
   */
  installStaged(meta: SnapshotMetadata): Uint8Array {
    let data: Uint8Array | undefined;
    this.#write(() => {
      const s = this.#staged;
      const id = this.groupId;
      assert(
        s !== null && s.index === meta.index && s.term === meta.term && s.bytes === meta.sizeBytes,
        `group ${id}: told to install snapshot ${meta.index} (${meta.sizeBytes} bytes) without its chunks`,
      );
      assert(meta.index >= this.#snapshot.index, `snapshot ${meta.index} older than ${this.#snapshot.index}`);
      const st = this.#st;
      st.deleteGroupRows.entries.run(id);
      st.deleteGroupRows.snapshots.run(id);
      st.deleteGroupRows.snapshotPieces.run(id);
      insertSnapshotMeta(st, id, meta);
      st.copyStagingToPieces.run(id);
      st.deleteGroupRows.staging.run(id);
      st.updateCompacted.run(meta.index, meta.term, id);
      data = readSnapshot(st, id, meta.index, meta.sizeBytes);
      this.#snapshot = meta;
      this.#previous = null;
      this.#staged = null;
      this.#compactedIndex = meta.index;
      this.#compactedTerm = meta.term;
      this.#lastIndex = meta.index;
      this.#tail.reset(meta.index + 1);
    });
    return data!;
  }

  /** Records a snapshot the application took at `index` (≤ its applied index); keeps the log. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): SnapshotMetadata {
    let meta: SnapshotMetadata | undefined;
    this.#write(() => {
      const current = this.#snapshot;
      assert(index > current.index, `snapshot at ${index} is not newer than ${current.index}`);
      assert(index <= this.#lastIndex, `snapshot at ${index} beyond last index ${this.#lastIndex}`);
      meta = { index, term: this.term(index), confState, sizeBytes: data.byteLength };
      const st = this.#st;
      // Keep `current` as the previous generation; anything older goes.
      st.deleteSnapshotsBelow.run(this.groupId, current.index);
      st.deleteSnapshotPiecesBelow.run(this.groupId, current.index);
      insertSnapshotMeta(st, this.groupId, meta);
      writeSnapshotPieces(st, this.groupId, index, data, this.#ctx.snapshotPieceBytes);
      this.#previous = { index: current.index, sizeBytes: current.sizeBytes };
      this.#snapshot = meta;
    });
    return meta!;
  }

  /** Discards entries up to `index`, which the current snapshot must cover. */
  compact(index: number): void {
    this.#write(() => {
      assert(
        index <= this.#snapshot.index,
        `cannot compact to ${index} beyond snapshot ${this.#snapshot.index}`,
      );
      if (index <= this.#compactedIndex) return;
      const term = this.term(index);
      this.#st.deleteEntriesThrough.run(this.groupId, index);
      this.#st.updateCompacted.run(index, term, this.groupId);
      this.#compactedIndex = index;
      this.#compactedTerm = term;
      this.#tail.dropThrough(index);
    });
  }

  // --- internals ---

  #readEntries(lo: number, hi: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let total = 0;
    for (const [idx, term, type, data] of this.#st.selectEntries.iterate(this.groupId, lo, hi)) {
      assert(idx === lo + out.length, `group ${this.groupId}: entry ${lo + out.length} missing`);
      const e: Entry = {
        term,
        index: idx,
        type: type === ENTRY_TYPE_CONF_CHANGE ? 'confChange' : 'normal',
        data,
      };
      total += entryBytes(e);
      // Same rule as `limitBytes`: the first entry always, then while within `maxBytes`.
      if (out.length > 0 && total > maxBytes) break;
      out.push(e);
    }
    assert(out.length > 0 || lo === hi, `group ${this.groupId}: entry ${lo} missing`);
    if (out.length < hi - lo) {
      assert(total > maxBytes, `group ${this.groupId}: entries [${lo}, ${hi}) stop at ${lo + out.length}`);
    }
    return out;
  }

  #write(fn: () => void): void {
    this.#assertAlive();
    this.#ctx.beginWrite(this);
    try {
      fn();
    } catch (error) {
      this.#ctx.failWrite(error);
      throw error;
    }
  }

  #assertAlive(): void {
    assert(this.#alive, `group ${this.groupId} was destroyed (or its RaftDb closed)`);
  }
}
