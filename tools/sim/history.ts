import { Violation } from './invariants.js';

/** A client operation on the replicated register, with what it must not contradict. */
export interface Operation {
  readonly id: number;
  readonly kind: 'write' | 'read';
  /**
   * The highest write index any client had seen complete, or observed by a completed read,
   * when this operation was invoked: real-time order says this operation comes after it.
   */
  readonly floor: number;
  completed: boolean;
}

/**
 * Checks a history of writes and reads on one register against linearizability. Writes are
 * unique and the log orders them, so a history is linearizable with that order when no
 * operation contradicts real time: a write completed (or seen by a read) before an operation
 * began must be ordered before it. So a read may not return anything older than its floor
 * (a stale read), and a write may not land at or before its floor. Checking is O(1) per
 * operation: each operation records the floor when it is invoked and is tested when it
 * completes. Operations whose outcome is unknown (crash, lost leadership) constrain nothing.
 */
export class RegisterHistory {
  #nextId = 1;
  /** Highest log index of a write seen complete, or seen by a completed read. */
  #floor = 0;
  completedWrites = 0;
  completedReads = 0;

  invoke(kind: 'write' | 'read'): Operation {
    return { id: this.#nextId++, kind, floor: this.#floor, completed: false };
  }

  completeWrite(op: Operation, index: number): void {
    if (index <= op.floor) {
      throw new Violation(
        'linearizability',
        `write #${op.id} landed at index ${index}, but index ${op.floor} had completed before it began`,
      );
    }
    op.completed = true;
    this.completedWrites++;
    if (index > this.#floor) this.#floor = index;
  }

  /** A read returned the register as written at `writeIndex` (0: never written). */
  completeRead(op: Operation, writeIndex: number): void {
    if (writeIndex < op.floor) {
      throw new Violation(
        'linearizability',
        `read #${op.id} returned the write at index ${writeIndex}, but the write at ${op.floor} had completed before it began`,
      );
    }
    op.completed = true;
    this.completedReads++;
    if (writeIndex > this.#floor) this.#floor = writeIndex;
  }
}
