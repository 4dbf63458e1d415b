/**
 * The simulator's agenda: a binary min-heap of events ordered by time, then by insertion, so
 * that events due at the same instant run in a deterministic order.
 */
export class EventQueue<T> {
  readonly #heap: { atUs: number; seq: number; event: T }[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(atUs: number, event: T): void {
    const heap = this.#heap;
    heap.push({ atUs, seq: this.#seq++, event });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest event, or undefined when none is left. */
  pop(): { atUs: number; event: T } | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let min = i;
        if (l < heap.length && this.#less(l, min)) min = l;
        if (r < heap.length && this.#less(r, min)) min = r;
        if (min === i) break;
        this.#swap(i, min);
        i = min;
      }
    }
    return top;
  }

  #less(a: number, b: number): boolean {
    const x = this.#heap[a]!;
    const y = this.#heap[b]!;
    return x.atUs < y.atUs || (x.atUs === y.atUs && x.seq < y.seq);
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const t = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = t;
  }
}
