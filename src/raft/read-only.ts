import type { NodeId } from './types.js';

/** A read waiting for the leader to prove it still leads (thesis §6.4). */
export interface PendingRead {
  readonly context: Uint8Array;
  /** The commit index when the request arrived: the read is served at or after it. */
  readonly index: number;
  /** Who asked: this replica (null) or a follower that forwarded the request. */
  readonly from: NodeId | null;
  /** The first heartbeat round sent after the request arrived; a quorum must acknowledge it. */
  readonly seq: number;
}

/**
 * The leader's queue of reads awaiting confirmation. Heartbeat rounds are numbered; a read
 * joins the queue with the number of the round broadcast for it, and leaves once a quorum of
 * voters has acknowledged that round or a later one. Rounds grow with arrival, so the queue is
 * released in order from the front.
 */
export class ReadOnlyQueue {
  readonly #pending: PendingRead[] = [];
  #head = 0;

  get size(): number {
    return this.#pending.length - this.#head;
  }

  add(read: PendingRead): void {
    this.#pending.push(read);
  }

  /** Removes and returns every read whose round a quorum has acknowledged. */
  release(quorumAckedSeq: number): PendingRead[] {
    const released: PendingRead[] = [];
    while (this.#head < this.#pending.length && this.#pending[this.#head]!.seq <= quorumAckedSeq) {
      released.push(this.#pending[this.#head]!);
      this.#head++;
    }
    if (this.#head === this.#pending.length) {
      this.#pending.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      // A queue that never drains completely must still not keep its released prefix forever.
      this.#pending.splice(0, this.#head);
      this.#head = 0;
    }
    return released;
  }

  /** Pending reads are dropped when leadership is lost; the runtime's request times out. */
  clear(): void {
    this.#pending.length = 0;
    this.#head = 0;
  }
}
