/**
 * An ordered set as a list of sorted chunks (the `sortedcontainers` layout): binary search
 * over the chunks' last items, then within one chunk. Insert and delete cost O(log n) compares
 * plus moving at most 2 × CHUNK items; the FIFO pattern (insert at the end, take from the
 * front) touches only the first and last chunks. Items are distinct under `compare`.
 *
 * Derived state, never replicated: the chunk boundaries depend on history, the order does not.
 */

const CHUNK = 512;

export class SortedList<T> {
  readonly #compare: (a: T, b: T) => number;
  #chunks: T[][] = [];
  #size = 0;

  constructor(compare: (a: T, b: T) => number) {
    this.#compare = compare;
  }

  get size(): number {
    return this.#size;
  }

  first(): T | undefined {
    return this.#chunks[0]?.[0];
  }

  /** Removes and returns the smallest item. */
  shift(): T | undefined {
    const chunk = this.#chunks[0];
    if (chunk === undefined) return undefined;
    const item = chunk.shift();
    this.#size -= 1;
    if (chunk.length === 0) this.#chunks.shift();
    return item;
  }

  /** Adds an item that is not in the list. */
  insert(item: T): void {
    this.#size += 1;
    if (this.#chunks.length === 0) {
      this.#chunks.push([item]);
      return;
    }
    const c = Math.min(this.#chunkFor(item), this.#chunks.length - 1);
    const chunk = this.#chunks[c]!;
    const at = this.#position(chunk, item);
    if (at === chunk.length) chunk.push(item);
    else chunk.splice(at, 0, item);
    if (chunk.length > 2 * CHUNK) this.#chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** Removes the item equal to `item` under `compare`; whether there was one. */
  delete(item: T): boolean {
    const c = this.#chunkFor(item);
    const chunk = this.#chunks[c];
    if (chunk === undefined) return false;
    const at = this.#position(chunk, item);
    if (at === chunk.length || this.#compare(chunk[at]!, item) !== 0) return false;
    chunk.splice(at, 1);
    this.#size -= 1;
    if (chunk.length === 0) this.#chunks.splice(c, 1);
    return true;
  }

  /** The first `n` items in order. */
  take(n: number): T[] {
    const out: T[] = [];
    for (const chunk of this.#chunks) {
      for (const item of chunk) {
        if (out.length >= n) return out;
        out.push(item);
      }
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const chunk of this.#chunks) yield* chunk;
  }

  /** The first chunk whose last item is ≥ item (chunks.length if none). */
  #chunkFor(item: T): number {
    let lo = 0;
    let hi = this.#chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.#chunks[mid]!;
      if (this.#compare(chunk[chunk.length - 1]!, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first index in `chunk` whose item is ≥ item. */
  #position(chunk: T[], item: T): number {
    let lo = 0;
    let hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compare(chunk[mid]!, item) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
