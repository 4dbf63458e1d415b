/**
 * When things fall due: a binary min-heap on `atMs`, for the state machines' leases, waits,
 * delays and expiries. It is derived, not replicated state: callers do not remove an entry
 * when its item changes (that would need a search), so some entries are stale and the caller
 * checks each popped one against its state. Only *which* items are due may be taken from
 * here, never an order among equal times, so replicas whose heaps differ in stale entries (one
 * restored from a snapshot) still behave identically.
 */
export class DeadlineHeap<T extends { readonly atMs: number }> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(d: T): void {
    const items = this.#items;
    items.push(d);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.atMs <= d.atMs) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = d;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    this.#siftDown(0, last);
    return top;
  }

  /** Replaces the content (compaction: only the live entries), in O(n). */
  reset(live: readonly T[]): void {
    this.#items = [...live];
    for (let start = (this.#items.length >> 1) - 1; start >= 0; start--) {
      this.#siftDown(start, this.#items[start]!);
    }
  }

  /** Compaction: keeps only the entries `keep` accepts, in O(n). */
  retain(keep: (d: T) => boolean): void {
    this.reset(this.#items.filter(keep));
  }

  /** Places `d` at `start` or below, moving smaller children up. */
  #siftDown(start: number, d: T): void {
    const items = this.#items;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]!.atMs < items[left]!.atMs ? right : left;
      if (items[child]!.atMs >= d.atMs) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = d;
  }
}
