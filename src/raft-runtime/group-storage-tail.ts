import { assert } from '../lib/assert.js';
import { entryBytes } from '../raft/entries.js';
import type { Entry } from '../raft/types.js';

/**
 * The most recently appended entries of one group, so the leader replicates what it just
 * wrote without reading it back from SQLite. Holds a suffix `[firstIndex, nextIndex)` of the
 * stored log, at most `limitBytes` of it (counted as `entryBytes`); older entries are evicted.
 * Only ever updated after the database holds the same entries.
 */
export class TailCache {
  /** `#entries[#head]` has index `#first`; slots before `#head` are evicted. */
  #entries: Entry[] = [];
  #head = 0;
  #first: number;
  #bytes = 0;

  constructor(
    readonly limitBytes: number,
    nextIndex: number,
  ) {
    this.#first = nextIndex;
  }

  /** The first cached index; equals `nextIndex` when nothing is cached. */
  get firstIndex(): number {
    return this.#first;
  }

  /** One past the last cached index: always the stored log's `lastIndex() + 1`. */
  get nextIndex(): number {
    return this.#first + this.#entries.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The term of `index` if cached. */
  term(index: number): number | undefined {
    if (index < this.#first || index >= this.nextIndex) return undefined;
    return this.#entries[this.#head + index - this.#first]!.term;
  }

  /** Entries `[lo, hi)`, which must lie within the cache. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.#first && hi <= this.nextIndex, `tail slice [${lo}, ${hi}) not cached`);
    const base = this.#head - this.#first;
    return this.#entries.slice(base + lo, base + hi);
  }

  /** Records `entries[from..]`, just stored, replacing any cached entries from their first index on. */
  append(entries: readonly Entry[], from: number): void {
    const start = entries[from]!.index;
    assert(start <= this.nextIndex, `tail append at ${start} leaves a gap after ${this.nextIndex - 1}`);
    if (start < this.#first) this.reset(start);
    else this.#truncateFrom(start);
    for (let i = from; i < entries.length; i++) {
      const e = entries[i]!;
      this.#entries.push(e);
      this.#bytes += entryBytes(e);
    }
    this.#evict();
  }

  /** Forgets entries up to `index` (compacted away). */
  dropThrough(index: number): void {
    while (this.#first <= index && this.#head < this.#entries.length) this.#dropHead();
    if (this.#first <= index) this.#first = index + 1;
    this.#reclaim();
  }

  /** Empties the cache; the next append starts at `nextIndex`. */
  reset(nextIndex: number): void {
    this.#entries = [];
    this.#head = 0;
    this.#first = nextIndex;
    this.#bytes = 0;
  }

  #truncateFrom(index: number): void {
    const keep = this.#head + index - this.#first;
    for (let i = keep; i < this.#entries.length; i++) this.#bytes -= entryBytes(this.#entries[i]!);
    this.#entries.length = keep;
  }

  #evict(): void {
    while (this.#bytes > this.limitBytes && this.#head < this.#entries.length) this.#dropHead();
    this.#reclaim();
  }

  #dropHead(): void {
    this.#bytes -= entryBytes(this.#entries[this.#head]!);
    this.#entries[this.#head] = undefined as unknown as Entry;
    this.#head++;
    this.#first++;
  }

  /** Drops evicted slots once they are half the array, so eviction stays amortized O(1). */
  #reclaim(): void {
    if (this.#head === this.#entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
