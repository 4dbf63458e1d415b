import { assert } from './assert.js';

/**
 * A FIFO ring buffer with a hard capacity: `push` refuses (returns false) when full, so every
 * producer has to decide what overload means for it instead of growing memory without bound.
 */
export class BoundedQueue<T> {
  readonly #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(readonly capacity: number) {
    assert(
      Number.isInteger(capacity) && capacity > 0,
      `capacity must be a positive integer, got ${capacity}`,
    );
    this.#items = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  isFull(): boolean {
    return this.#size === this.capacity;
  }

  push(item: T): boolean {
    if (this.#size === this.capacity) return false;
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return true;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }

  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#items[this.#head];
  }

  clear(): void {
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
  }
}
