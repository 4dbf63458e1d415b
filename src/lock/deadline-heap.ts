import { DeadlineHeap as Heap } from '../lib/deadline-heap.js';

/** A lease's expiry or a wait's deadline, in the lock table's heap (src/lib/deadline-heap.ts). */
export interface Deadline {
  readonly atMs: number;
  readonly name: string;
  readonly owner: string;
  /** A lease's expiry or a wait's deadline. */
  readonly kind: 'hold' | 'wait';
}

export class DeadlineHeap extends Heap<Deadline> {}
