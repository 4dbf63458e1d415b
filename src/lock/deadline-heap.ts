/**
 * When leases and waits fall due: a binary min-heap on `atMs`. It is derived, not replicated
 * state: entries are never removed when a hold is released or renewed (that would need a
 * search), so some are stale; the table checks each popped entry against its state. Only
 * which locks have something due is taken from here, never an order, so replicas whose
 * heaps differ in stale entries (one restored from a snapshot) still behave identically.
 */
export interface Deadline {
  readonly atMs: number;
  readonly name: string;
  readonly owner: string;
  /** A lease's expiry or a wait's deadline. */
  readonly kind: 'hold' | 'wait';
}

export class DeadlineHeap {
  #items: Deadline[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): Deadline | undefined {
    return this.#items[0];
  }

  push(d: Deadline): void {
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

  pop(): Deadline | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && items[right]!.atMs < items[left]!.atMs ? right : left;
      if (items[child]!.atMs >= last.atMs) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Replaces the content (compaction: drop the stale entries). */
  reset(live: Deadline[]): void {
    this.#items = [];
    for (const d of live) this.push(d);
  }
}
