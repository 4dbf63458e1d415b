import { AssertionError, assert } from '../lib/assert.js';
import { limitBytes } from './entries.js';
import type { ConfState, Entry, HardState, SnapshotMetadata } from './types.js';

/**
 * The persisted log as the core reads it (etcd's `Storage`). The runtime implements it on
 * SQLite; `MemoryStorage` serves tests and the simulator. The core only reads through this
 * interface: the runtime writes what each `Ready` asks for, then calls `advance()`.
 *
 * Indexes: entries `[firstIndex(), lastIndex()]` are readable; `term(firstIndex() - 1)` is also
 * readable (the last compacted entry or the snapshot), so the core can match `prevTerm` at the
 * boundary. The core never asks outside those ranges.
 */
export interface Storage {
  /** Term, vote and commit as last persisted. */
  initialState(): HardState;
  /** Entries in [lo, hi), at least one when lo < hi, stopping before `maxBytes` is exceeded. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /**
   * The most recent snapshot. Its `confState` is the configuration at `index`; the core replays
   * configuration entries after it up to the applied index on start.
   */
  snapshot(): SnapshotMetadata;
  /**
   * Up to `maxBytes` bytes of the snapshot at `index` starting at `offset`, or null when that
   * snapshot has been replaced by a newer one (the leader then starts over with the newer).
   */
  snapshotChunk(index: number, offset: number, maxBytes: number): Uint8Array | null;
}

const EMPTY = new Uint8Array(0);

export const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };

/** An in-memory `Storage` with the write side a runtime would have. */
export class MemoryStorage implements Storage {
  #hardState: HardState = { term: 0, vote: null, commit: 0 };
  #snapshot: SnapshotMetadata = { index: 0, term: 0, confState: EMPTY_CONF_STATE, sizeBytes: 0 };
  #snapshotData: Uint8Array = EMPTY;
  /**
   * The snapshot before the current one stays readable, so that a transfer under way when the
   * application snapshots again can finish instead of starting over with the newer one.
   */
  #previous: { readonly index: number; readonly data: Uint8Array } | null = null;
  /** The last discarded entry: `term(#offsetIndex)` stays answerable after compaction. */
  #offsetIndex = 0;
  #offsetTerm = 0;
  /** `#entries[i]` has index `#offsetIndex + 1 + i`. */
  #entries: Entry[] = [];

  /**
   * A brand-new group: a snapshot at index 1, term 1 holds the initial configuration, so that a
   * replica joining later receives it with the snapshot. Joining replicas start empty.
   */
  static bootstrap(confState: ConfState, data: Uint8Array = EMPTY): MemoryStorage {
    assert(confState.voters.length > 0, 'a group needs at least one voter');
    const storage = new MemoryStorage();
    storage.applySnapshot({ index: 1, term: 1, confState, sizeBytes: data.byteLength }, data);
    storage.setHardState({ term: 1, vote: null, commit: 1 });
    return storage;
  }

  initialState(): HardState {
    return this.#hardState;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex() || lo > hi || hi > this.lastIndex() + 1) {
      throw new AssertionError(
        `entries [${lo}, ${hi}) outside [${this.firstIndex()}, ${this.lastIndex() + 1})`,
      );
    }
    const base = this.#offsetIndex + 1;
    return limitBytes(this.#entries.slice(lo - base, hi - base), maxBytes);
  }

  term(index: number): number {
    if (index < this.#offsetIndex || index > this.lastIndex()) {
      throw new AssertionError(`term(${index}) outside [${this.#offsetIndex}, ${this.lastIndex()}]`);
    }
    if (index === this.#offsetIndex) return this.#offsetTerm;
    return this.#entries[index - this.#offsetIndex - 1]!.term;
  }

  firstIndex(): number {
    return this.#offsetIndex + 1;
  }

  lastIndex(): number {
    return this.#offsetIndex + this.#entries.length;
  }

  snapshot(): SnapshotMetadata {
    return this.#snapshot;
  }

  snapshotChunk(index: number, offset: number, maxBytes: number): Uint8Array | null {
    let data: Uint8Array;
    if (index === this.#snapshot.index) data = this.#snapshotData;
    else if (index === this.#previous?.index) data = this.#previous.data;
    else return null;
    assert(offset >= 0 && offset <= data.byteLength, `snapshot offset ${offset} out of range`);
    return data.subarray(offset, offset + maxBytes);
  }

  /** The bytes of the current snapshot (what the application restores from after a restart). */
  snapshotData(): Uint8Array {
    return this.#snapshotData;
  }

  setHardState(hardState: HardState): void {
    this.#hardState = hardState;
  }

  /** Appends entries, first dropping any stored entries from `entries[0].index` on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first > this.lastIndex() + 1) {
      throw new AssertionError(`append at ${first} leaves a gap after ${this.lastIndex()}`);
    }
    // Entries the snapshot already covers are stale on arrival; keep only what follows.
    const skip = Math.max(0, this.#offsetIndex + 1 - first);
    if (skip >= entries.length) return;
    this.#entries.length = first + skip - this.#offsetIndex - 1;
    for (let i = skip; i < entries.length; i++) this.#entries.push(entries[i]!);
  }

  /** Replaces the whole log by a snapshot received from the leader. */
  applySnapshot(snapshot: SnapshotMetadata, data: Uint8Array): void {
    assert(data.byteLength === snapshot.sizeBytes, 'snapshot data does not match its size');
    assert(
      snapshot.index >= this.#snapshot.index,
      `snapshot ${snapshot.index} older than ${this.#snapshot.index}`,
    );
    this.#previous = null;
    this.#snapshot = snapshot;
    this.#snapshotData = data;
    this.#offsetIndex = snapshot.index;
    this.#offsetTerm = snapshot.term;
    this.#entries = [];
  }

  /** Records a snapshot the application took at `index` (≤ its applied index); keeps the log. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): SnapshotMetadata {
    assert(index > this.#snapshot.index, `snapshot at ${index} is not newer than ${this.#snapshot.index}`);
    assert(index <= this.lastIndex(), `snapshot at ${index} beyond last index ${this.lastIndex()}`);
    this.#previous = { index: this.#snapshot.index, data: this.#snapshotData };
    this.#snapshot = { index, term: this.term(index), confState, sizeBytes: data.byteLength };
    this.#snapshotData = data;
    return this.#snapshot;
  }

  /** Discards entries up to `index`, which the current snapshot must cover. */
  compact(index: number): void {
    assert(
      index <= this.#snapshot.index,
      `cannot compact to ${index} beyond snapshot ${this.#snapshot.index}`,
    );
    if (index <= this.#offsetIndex) return;
    const term = this.term(index);
    this.#entries = this.#entries.slice(index - this.#offsetIndex);
    this.#offsetIndex = index;
    this.#offsetTerm = term;
  }
}
