import { assert } from '../lib/assert.js';
import type { SnapshotMetadata } from './types.js';

/**
 * The appends in flight to one follower, as a ring of (last index, bytes). Pipelining (thesis
 * §10.2.1) sends without waiting for each acknowledgement; this window bounds how far ahead.
 */
export class Inflights {
  readonly #lastIndexes: number[];
  readonly #bytes: number[];
  readonly #maxBytes: number;
  #start = 0;
  #count = 0;
  #totalBytes = 0;

  constructor(capacity: number, maxBytes: number) {
    this.#lastIndexes = new Array<number>(capacity).fill(0);
    this.#bytes = new Array<number>(capacity).fill(0);
    this.#maxBytes = maxBytes;
  }

  get count(): number {
    return this.#count;
  }

  full(): boolean {
    return this.#count === this.#lastIndexes.length || this.#totalBytes >= this.#maxBytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'inflights window is full');
    const capacity = this.#lastIndexes.length;
    const slot = (this.#start + this.#count) % capacity;
    this.#lastIndexes[slot] = lastIndex;
    this.#bytes[slot] = bytes;
    this.#count++;
    this.#totalBytes += bytes;
  }

  /** Frees every append whose last index is ≤ `index`: the follower has them. */
  freeLE(index: number): void {
    const capacity = this.#lastIndexes.length;
    while (this.#count > 0 && this.#lastIndexes[this.#start]! <= index) {
      this.#totalBytes -= this.#bytes[this.#start]!;
      this.#start = (this.#start + 1) % capacity;
      this.#count--;
    }
    if (this.#count === 0) this.#start = 0;
  }

  /** Lets one more append out when acknowledgements were lost (called on a heartbeat response). */
  freeFirstOne(): void {
    if (this.#count === 0) return;
    this.freeLE(this.#lastIndexes[this.#start]!);
  }

  reset(): void {
    this.#start = 0;
    this.#count = 0;
    this.#totalBytes = 0;
  }
}

/**
 * How the leader replicates to a follower (etcd's three states):
 * - probe: one append at a time until we find where the logs match;
 * - replicate: stream appends optimistically within the in-flight window;
 * - snapshot: the log it needs is compacted; a snapshot is being sent in chunks.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A snapshot being sent: the leader resumes from `ackedOffset` whenever chunks go missing. */
export interface SnapshotTransfer {
  readonly snapshot: SnapshotMetadata;
  ackedOffset: number;
  sentOffset: number;
  /** Whether the first chunk went out (a zero-byte snapshot still takes one message). */
  started: boolean;
  /**
   * The offset we last went back to after a rejection, or -1. Chunks already in flight behind
   * the lost one are rejected too; going back once per loss is enough.
   */
  rewoundTo: number;
  /** Leader ticks since the follower last acknowledged a chunk. */
  stallTicks: number;
}

/** The leader's view of one follower (or of itself). */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state, an append is outstanding; wait for its answer or the next heartbeat. */
  probeSent = false;
  isLearner: boolean;
  /** Leader tick of the last message from this follower, for CheckQuorum. */
  lastActiveTick: number;
  readonly inflights: Inflights;
  transfer: SnapshotTransfer | null = null;
  /** Highest heartbeat round this follower acknowledged (ReadIndex). */
  ackedHeartbeatSeq = 0;
  /** Leader tick at which that heartbeat was sent (leader lease). */
  ackedHeartbeatSentTick = Number.NEGATIVE_INFINITY;

  constructor(
    next: number,
    isLearner: boolean,
    nowTick: number,
    maxInflightMsgs: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.isLearner = isLearner;
    this.lastActiveTick = nowTick;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  becomeProbe(): void {
    // After a snapshot the follower has at least the snapshot; resume right after it.
    const floor =
      this.transfer === null ? this.match + 1 : Math.max(this.match + 1, this.transfer.snapshot.index + 1);
    this.#reset('probe');
    this.next = floor;
  }

  becomeReplicate(): void {
    this.#reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: SnapshotMetadata): void {
    this.#reset('snapshot');
    this.transfer = { snapshot, ackedOffset: 0, sentOffset: 0, started: false, rewoundTo: -1, stallTicks: 0 };
  }

  #reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.transfer = null;
    this.inflights.reset();
  }

  /** An acknowledgement up to `index`; false if it tells us nothing new. */
  maybeUpdate(index: number): boolean {
    const updated = this.match < index;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; `matchHint` is the highest index that may match.
   * Returns false when the rejection is stale (answers an append we no longer care about).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records an append carrying entries up to `lastIndex` (or an empty probe). */
  sentEntries(lastIndex: number, bytes: number, entryCount: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
