import { AssertionError, assert } from '../lib/assert.js';
import { limitBytes } from './entries.js';
import type { Storage } from './storage.js';
import type { Entry, SnapshotMetadata } from './types.js';

/**
 * Entries (and at most one snapshot) the core has accepted but the runtime has not yet
 * persisted. They are the `entries`/`snapshot` of the next Ready and leave this buffer when
 * `advance()` reports them stable.
 */
export class UnstableLog {
  snapshot: SnapshotMetadata | null = null;
  entries: Entry[] = [];
  /** Index of `entries[0]`: one past the last stable entry. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  firstIndex(): number | undefined {
    return this.snapshot === null ? undefined : this.snapshot.index + 1;
  }

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.index;
  }

  term(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot !== null && this.snapshot.index === index ? this.snapshot.term : undefined;
    }
    return this.entries[index - this.offset]?.term;
  }

  /** The runtime persisted everything up to (index, term); a later overwrite keeps it unstable. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.index === index) this.snapshot = null;
  }

  restore(snapshot: SnapshotMetadata): void {
    this.offset = snapshot.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    if (first === this.offset + this.entries.length) {
      for (const e of entries) this.entries.push(e);
    } else if (first <= this.offset) {
      // Replaces entries the runtime may already hold; it drops its conflicting suffix on append.
      this.offset = first;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset);
      for (const e of entries) this.entries.push(e);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    if (lo < this.offset || hi > this.offset + this.entries.length) {
      throw new AssertionError(`unstable slice [${lo}, ${hi}) out of range`);
    }
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

/**
 * The log as the core sees it: stable entries in `Storage` followed by unstable ones, plus the
 * commit and apply cursors. Invariant: applied ≤ committed ≤ lastIndex.
 */
export class RaftLog {
  readonly storage: Storage;
  readonly unstable: UnstableLog;
  committed: number;
  applied: number;

  constructor(storage: Storage, appliedIndex: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new UnstableLog(last + 1);
    const persistedCommit = storage.initialState().commit;
    // A snapshot holds only committed entries, and the application state starts from it.
    const snapshotIndex = Math.max(first - 1, storage.snapshot().index);
    this.committed = Math.max(snapshotIndex, persistedCommit);
    assert(this.committed <= last, `persisted commit ${persistedCommit} beyond last index ${last}`);
    this.applied = Math.max(snapshotIndex, appliedIndex);
    assert(this.applied <= this.committed, `applied ${appliedIndex} beyond commit ${this.committed}`);
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return undefined;
    return this.unstable.term(index) ?? this.storage.term(index);
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, 'the last entry always has a term');
    return term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Election restriction (paper §5.4.1): is a log ending at (lastIndex, lastTerm) at least as up-to-date? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * The first index (≤ `index`) whose term is ≤ `term`, with that term: every entry in between
   * belongs to a term the other log cannot share, so probing can skip them all at once.
   * Below the compacted prefix it answers (index, 0) and lets the caller fall back to a snapshot.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
    return [0, 0];
  }

  /**
   * Follower side of AppendEntries: if the log matches at (prevIndex, prevTerm), append what is
   * new, truncating a conflicting suffix, and advance the commit index. Returns the index of the
   * last entry the leader sent, or undefined on mismatch.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    commit: number,
    entries: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    const conflict = this.#findConflict(entries);
    if (conflict !== 0) {
      assert(
        conflict > this.committed,
        `entry ${conflict} conflicts with committed entry (commit ${this.committed})`,
      );
      this.append(entries.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** The first entry whose term differs from ours (or is new), or 0 if we have them all. */
  #findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    if (after < this.committed) {
      throw new AssertionError(`append after ${after} would overwrite committed ${this.committed}`);
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    if (commit > this.lastIndex()) {
      throw new AssertionError(`commit ${commit} beyond last index ${this.lastIndex()}`);
    }
    this.committed = commit;
  }

  appliedTo(index: number): void {
    if (index < this.applied || index > this.committed) {
      throw new AssertionError(`applied ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  /** Leader commit rule (paper §5.4.2): only an entry of the current term is committed by counting. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  restore(snapshot: SnapshotMetadata): void {
    this.committed = snapshot.index;
    this.unstable.restore(snapshot);
  }

  snapshot(): SnapshotMetadata {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries in [lo, hi) within `maxBytes` (at least one), from storage then the unstable tail. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1) {
      throw new AssertionError(`slice [${lo}, ${hi}) outside the log`);
    }
    if (lo >= hi) return [];
    const offset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < offset) {
      const stableHi = Math.min(hi, offset);
      result = this.storage.entries(lo, stableHi, maxBytes);
      if (result.length < stableHi - lo) return result;
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi);
      result = result.length === 0 ? tail : result.concat(tail);
    }
    return limitBytes(result, maxBytes);
  }

  entriesFrom(index: number, maxBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === null && this.committed > this.applied;
  }

  /** Committed entries not yet handed out for apply; none while a snapshot waits to be installed. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (!this.hasNextCommittedEntries()) return [];
    return this.slice(Math.max(this.applied + 1, this.firstIndex()), this.committed + 1, maxBytes);
  }
}
