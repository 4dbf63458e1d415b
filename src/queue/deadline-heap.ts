import { DeadlineHeap } from '../lib/deadline-heap.js';

/**
 * When inflight leases end, delayed messages become ready and dedup keys expire, in the queue
 * machine's heap (src/lib/deadline-heap.ts).
 */
export type QueueDeadline =
  | {
      readonly atMs: number;
      readonly queue: string;
      readonly kind: 'message';
      readonly id: string;
      readonly index: number;
      readonly pos: number;
    }
  | { readonly atMs: number; readonly queue: string; readonly kind: 'dedup'; readonly key: string };

export class QueueDeadlineHeap extends DeadlineHeap<QueueDeadline> {}
