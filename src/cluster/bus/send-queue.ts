import { assert } from '../../lib/assert.js';

interface Entry {
  /** `undefined` once the frame was dropped to make room. */
  frame: Uint8Array | undefined;
  readonly droppable: boolean;
}

/**
 * Encoded frames waiting for one peer's socket, bounded in bytes together with what the
 * socket itself still buffers. When a frame does not fit:
 * - a droppable frame (Raft, which retransmits anyway) evicts the oldest droppable frames,
 *   since newer Raft messages supersede older ones;
 * - any other frame (a forwarded request) is refused, so its caller can fail fast.
 * Order is preserved among the frames that are sent.
 */
export class SendQueue {
  readonly maxBytes: number;
  #entries: Entry[] = [];
  #bytes = 0;
  #droppableBytes = 0;
  /** Entries before this index are not droppable or already dropped: eviction resumes here. */
  #evictFrom = 0;
  #droppedFrames = 0;

  constructor(maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes > 0, `bad send queue bound ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes queued (excluding dropped frames). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Frames evicted to make room, since this queue was created. */
  get droppedFrames(): number {
    return this.#droppedFrames;
  }

  /** Queues `frame` if it fits beside `socketBytes` already handed to the socket. */
  offer(frame: Uint8Array, droppable: boolean, socketBytes: number): boolean {
    const roomBytes = this.maxBytes - socketBytes - this.#bytes;
    if (frame.length > roomBytes && (!droppable || frame.length > roomBytes + this.#droppableBytes)) {
      return false;
    }
    while (frame.length > this.maxBytes - socketBytes - this.#bytes) this.#dropOldestDroppable();
    this.#entries.push({ frame, droppable });
    this.#bytes += frame.length;
    if (droppable) this.#droppableBytes += frame.length;
    return true;
  }

  /** Takes every queued frame, oldest first. */
  drain(): Uint8Array[] {
    const frames: Uint8Array[] = [];
    for (const entry of this.#entries) if (entry.frame !== undefined) frames.push(entry.frame);
    this.clear();
    return frames;
  }

  clear(): void {
    this.#entries = [];
    this.#bytes = 0;
    this.#droppableBytes = 0;
    this.#evictFrom = 0;
  }

  #dropOldestDroppable(): void {
    for (; this.#evictFrom < this.#entries.length; this.#evictFrom++) {
      const entry = this.#entries[this.#evictFrom]!;
      if (!entry.droppable || entry.frame === undefined) continue;
      this.#bytes -= entry.frame.length;
      this.#droppableBytes -= entry.frame.length;
      entry.frame = undefined;
      this.#droppedFrames++;
      this.#evictFrom++;
      return;
    }
    assert(false, 'send queue accounting: no droppable frame left to evict');
  }
}
