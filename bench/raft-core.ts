/**
 * Throughput and allocation of the Raft core alone: a 3-replica group in one process, memory
 * storage, messages handed over directly (or through the wire codec), no timers. Measures
 * what the core costs per entry, so the runtime's budget for disk and network is known.
 *
 *   node dist/bench/raft-core.js
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { SeededRandom } from '../src/lib/random.js';
import { decodeMessage, encodeMessage } from '../src/raft/codec.js';
import { RawNode } from '../src/raft/raw-node.js';
import { MemoryStorage } from '../src/raft/storage.js';
import type { Message } from '../src/raft/types.js';

const PAYLOAD_BYTES = 128;
const RUN_MS = 2000;

interface Replica {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
}

class Group {
  readonly replicas = new Map<string, Replica>();
  #inflight: Message[] = [];
  applied = 0;

  constructor(readonly viaCodec: boolean) {
    const ids = ['n1', 'n2', 'n3'];
    ids.forEach((id, i) => {
      const storage = MemoryStorage.bootstrap({ voters: ids, learners: [] });
      const raw = new RawNode({ groupId: 1, id, storage, random: new SeededRandom(i + 1) });
      this.replicas.set(id, { raw, storage });
    });
    this.leader().raw.campaign();
    this.settle();
  }

  leader(): Replica {
    return this.replicas.get('n1')!;
  }

  /** Ready cycles and deliveries until nothing moves: one round of the runtime's loop. */
  settle(): void {
    for (;;) {
      let moved = false;
      for (const [id, r] of this.replicas) {
        while (r.raw.hasReady()) {
          moved = true;
          const rd = r.raw.ready();
          r.storage.append(rd.entries);
          if (rd.hardState !== null) r.storage.setHardState(rd.hardState);
          for (const m of rd.messages)
            this.#inflight.push(this.viaCodec ? decodeMessage(encodeMessage(m)) : m);
          if (id === 'n1') this.applied += rd.committedEntries.length;
          r.raw.advance();
        }
      }
      const msgs = this.#inflight;
      if (msgs.length === 0 && !moved) return;
      this.#inflight = [];
      for (const m of msgs) this.replicas.get(m.to)!.raw.step(m);
    }
  }

  /** Proposes `batch` entries, then lets the group commit and apply them. */
  round(batch: number, payload: Uint8Array): void {
    const leader = this.leader().raw;
    for (let i = 0; i < batch; i++) {
      if (!leader.propose(payload).ok) throw new Error('proposal refused');
    }
    this.settle();
  }

  /** Keeps the in-memory log short, as a runtime's snapshots would. */
  compact(): void {
    for (const r of this.replicas.values()) {
      const applied = r.raw.appliedIndex;
      if (applied - r.storage.snapshot().index < 10_000) continue;
      r.storage.createSnapshot(applied, r.raw.status().confState, new Uint8Array(0));
      r.storage.compact(applied);
    }
  }
}

interface Row {
  batch: number;
  codec: boolean;
  proposalsPerSec: number;
  bytesPerEntry: number;
}

function measure(batch: number, viaCodec: boolean): Row {
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  const group = new Group(viaCodec);
  const warmupEnd = performance.now() + 300;
  while (performance.now() < warmupEnd) group.round(batch, payload);
  group.compact();

  const start = performance.now();
  const appliedBefore = group.applied;
  let rounds = 0;
  while (performance.now() - start < RUN_MS) {
    group.round(batch, payload);
    if (++rounds % 64 === 0) group.compact();
  }
  const proposalsPerSec = ((group.applied - appliedBefore) * 1000) / (performance.now() - start);

  // Allocation: heap growth over the run plus what each collection during it freed.
  const entries = Math.max(batch, Math.min(20_000, Math.floor(proposalsPerSec / 4)));
  group.compact();
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  const appliedAtStart = group.applied;
  for (let done = 0; done < entries; done += batch) group.round(batch, payload);
  const after = getHeapStatistics().used_heap_size;
  let freed = 0;
  for (const gcEvent of profiler.stop().statistics) {
    freed += gcEvent.beforeGC.heapStatistics.usedHeapSize - gcEvent.afterGC.heapStatistics.usedHeapSize;
  }
  const bytesPerEntry = (after - before + freed) / (group.applied - appliedAtStart);
  return { batch, codec: viaCodec, proposalsPerSec, bytesPerEntry };
}

const rows: Row[] = [];
for (const [batch, codec] of [
  [1, false],
  [16, false],
  [256, false],
  [1, true],
  [256, true],
] as const) {
  rows.push(measure(batch, codec));
}

console.log(`raft core, 3 replicas in one process, ${PAYLOAD_BYTES}-byte payloads, memory storage`);
console.log('proposals per round | wire codec | proposals/s | heap bytes allocated per entry');
for (const r of rows) {
  const alloc = Math.round(r.bytesPerEntry).toString();
  console.log(
    `${String(r.batch).padStart(19)} | ${(r.codec ? 'yes' : 'no').padStart(10)} | ` +
      `${Math.round(r.proposalsPerSec).toString().padStart(11)} | ${alloc.padStart(8)}`,
  );
}
console.log('(bytes per entry cover all three replicas and every message; entries are retained in storage)');
