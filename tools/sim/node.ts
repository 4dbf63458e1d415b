import { SeededRandom } from '../../src/lib/random.js';
import type { RaftConfig } from '../../src/raft/config.js';
import { RawNode } from '../../src/raft/raw-node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type {
  ConfState,
  Entry,
  Message,
  NodeId,
  Ready,
  SnapshotChunk,
  SnapshotMetadata,
} from '../../src/raft/types.js';
import type { Operation, RegisterHistory } from './history.js';
import { type SafetyChecker, Violation } from './invariants.js';
import type { SimOptions } from './options.js';
import { bytesOf, latin1, Register } from './register.js';

interface PendingWrite {
  readonly op: Operation;
  readonly term: number;
}

interface Staging {
  readonly snapshot: SnapshotMetadata;
  readonly parts: Uint8Array[];
  bytes: number;
}

export interface NodeContext {
  readonly options: SimOptions;
  readonly checker: SafetyChecker;
  readonly history: RegisterHistory;
  readonly send: (m: Message) => void;
  readonly logger: ((line: string) => void) | undefined;
  readonly stats: { snapshotsInstalled: number; snapshotsTaken: number };
  readonly storages: ReadonlyMap<NodeId, MemoryStorage>;
}

/**
 * One simulated server: what the real runtime will do around a `RawNode` — persist each
 * Ready to storage, send its messages, apply committed entries to the register, stage
 * snapshot chunks and install snapshots, compact the log — and what a crash takes away
 * (everything but `storage`).
 */
export class SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raw: RawNode | null = null;
  register = new Register();
  incarnation = 0;
  #checkedCommit = 0;
  /** Ticks since this incarnation last took a snapshot. */
  #ticksSinceSnapshot = 0;
  #staging: Staging | null = null;
  readonly #writes = new Map<number, PendingWrite>();
  readonly #reads = new Map<string, Operation>();
  /** Reads confirmed by the leader, waiting for the register to apply up to their index. */
  #confirmedReads: { index: number; op: Operation }[] = [];
  readonly #ctx: NodeContext;
  readonly #nodeIndex: number;

  constructor(ctx: NodeContext, nodeIndex: number, initialConf: ConfState | null) {
    this.#ctx = ctx;
    this.#nodeIndex = nodeIndex;
    this.id = nodeName(nodeIndex);
    if (initialConf === null) {
      this.storage = new MemoryStorage();
    } else {
      const initial = new Register();
      initial.appliedIndex = 1;
      this.storage = MemoryStorage.bootstrap(initialConf, initial.encode(ctx.options.snapshotPaddingBytes));
    }
    this.start();
  }

  get alive(): boolean {
    return this.raw !== null;
  }

  /** Boots from whatever storage holds, as a restarted process would. */
  start(): void {
    const o = this.#ctx.options;
    const snapshot = this.storage.snapshot();
    this.register = snapshot.index > 0 ? Register.decode(this.storage.snapshotData()) : new Register();
    this.#checkedCommit = this.storage.initialState().commit;
    const seed = (o.seed * 1_000_003 + this.#nodeIndex * 7_919 + this.incarnation * 104_729) >>> 0;
    const config: RaftConfig = {
      groupId: 7,
      id: this.id,
      storage: this.storage,
      random: new SeededRandom(seed),
      electionTimeoutTicks: o.electionTimeoutTicks,
      heartbeatTicks: o.heartbeatTicks,
      readOnly: o.readOnly,
      maxClockDriftRatio: o.maxClockDriftRatio,
      maxMsgBytes: o.maxMsgBytes,
      maxInflightMsgs: o.maxInflightMsgs,
      snapshotChunkBytes: o.snapshotChunkBytes,
      maxInflightSnapshotChunks: o.maxInflightSnapshotChunks,
      maxUncommittedBytes: o.maxUncommittedBytes,
      logger: this.#ctx.logger,
    };
    this.raw = new RawNode(config);
    this.process();
  }

  /** Loses everything not in storage: the Raft instance, the register, pending requests. */
  crash(): void {
    this.raw = null;
    this.incarnation++;
    this.register = new Register();
    this.#staging = null;
    this.#writes.clear();
    this.#reads.clear();
    this.#confirmedReads = [];
  }

  propose(op: Operation): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    const result = raw.propose(bytesOf(`w${op.id}`));
    if (!result.ok) return false;
    this.#writes.set(result.index, { op, term: result.term });
    this.process();
    return true;
  }

  read(op: Operation): boolean {
    const raw = this.raw;
    if (raw === null) return false;
    const context = `r${op.id}`;
    if (!raw.readIndex(context)) return false;
    this.#reads.set(context, op);
    this.process();
    return true;
  }

  tick(): void {
    if (this.raw === null) return;
    this.#ticksSinceSnapshot++;
    this.raw.tick();
    this.process();
  }

  /** Runs Ready cycles until the node has nothing left to say. */
  process(): void {
    const raw = this.raw;
    if (raw === null) return;
    while (raw.hasReady()) {
      this.#handleReady(raw, raw.ready());
      raw.advance();
      this.#serveReads();
      this.#maybeCompact(raw);
    }
  }

  #handleReady(raw: RawNode, rd: Ready): void {
    const { checker } = this.#ctx;
    for (const chunk of rd.snapshotChunks) this.#stage(chunk);
    if (rd.snapshot !== null) this.#install(rd.snapshot);
    this.storage.append(rd.entries);
    checker.onAppend(this.id, this.storage, rd.entries);
    if (rd.hardState !== null) {
      this.storage.setHardState(rd.hardState);
      if (rd.hardState.commit > this.#checkedCommit) {
        checker.onCommit(this.id, this.storage, this.#checkedCommit, rd.hardState.commit, rd.hardState.term);
        this.#checkedCommit = rd.hardState.commit;
        if (raw.role === 'leader') {
          checker.onLeaderCommit(
            this.id,
            rd.hardState.commit,
            raw.status().confState.voters,
            this.#ctx.storages,
          );
        }
      }
    }
    if (rd.softState?.role === 'leader') checker.onBecameLeader(this.id, this.storage, raw.term);
    for (const m of rd.messages) this.#ctx.send(m);
    for (const e of rd.committedEntries) this.#apply(e);
    for (const rs of rd.readStates) {
      const op = this.#reads.get(latin1(rs.context));
      if (op === undefined) continue;
      this.#reads.delete(latin1(rs.context));
      this.#confirmedReads.push({ index: rs.index, op });
    }
  }

  #stage(chunk: SnapshotChunk): void {
    if (chunk.offset === 0) {
      this.#staging = { snapshot: chunk.snapshot, parts: [], bytes: 0 };
    } else {
      const s = this.#staging;
      if (s === null || s.snapshot.index !== chunk.snapshot.index || s.bytes !== chunk.offset) {
        throw new Violation(
          'snapshot chunks',
          `${this.id} got chunk at ${chunk.offset} of ${chunk.snapshot.index} out of order`,
        );
      }
    }
    const s = this.#staging!;
    s.parts.push(chunk.data);
    s.bytes += chunk.data.byteLength;
  }

  #install(meta: SnapshotMetadata): void {
    const s = this.#staging;
    if (s === null || s.snapshot.index !== meta.index || s.bytes !== meta.sizeBytes) {
      throw new Violation('snapshot chunks', `${this.id} told to install ${meta.index} without its chunks`);
    }
    const data = new Uint8Array(s.bytes);
    let offset = 0;
    for (const part of s.parts) {
      data.set(part, offset);
      offset += part.byteLength;
    }
    this.#staging = null;
    let register: Register;
    try {
      register = Register.decode(data);
    } catch (e) {
      throw new Violation(
        'snapshot chunks',
        `${this.id} reassembled a corrupt snapshot: ${(e as Error).message}`,
      );
    }
    this.#ctx.checker.onSnapshot(this.id, meta, register);
    this.storage.applySnapshot(meta, data);
    this.register = register;
    // Writes the snapshot covers will not be applied here one by one: their outcome is unknown.
    for (const index of this.#writes.keys()) if (index <= meta.index) this.#writes.delete(index);
    this.#checkedCommit = Math.max(this.#checkedCommit, meta.index);
    this.#ctx.stats.snapshotsInstalled++;
  }

  #apply(e: Entry): void {
    this.#ctx.checker.onApply(this.id, e);
    this.register.apply(e);
    const pending = this.#writes.get(e.index);
    if (pending === undefined) return;
    this.#writes.delete(e.index);
    if (pending.term === e.term) this.#ctx.history.completeWrite(pending.op, e.index);
  }

  #serveReads(): void {
    if (this.#confirmedReads.length === 0) return;
    const applied = this.register.appliedIndex;
    const waiting: { index: number; op: Operation }[] = [];
    for (const r of this.#confirmedReads) {
      if (r.index <= applied) this.#ctx.history.completeRead(r.op, this.register.lastWriteIndex);
      else waiting.push(r);
    }
    this.#confirmedReads = waiting;
  }

  #maybeCompact(raw: RawNode): void {
    const o = this.#ctx.options;
    const applied = this.register.appliedIndex;
    if (applied - this.storage.snapshot().index < o.compactAfterEntries) return;
    if (this.#ticksSinceSnapshot < o.minTicksBetweenSnapshots) return;
    this.#ticksSinceSnapshot = 0;
    const meta = this.storage.createSnapshot(
      applied,
      raw.status().confState,
      this.register.encode(o.snapshotPaddingBytes),
    );
    this.#ctx.checker.onSnapshot(this.id, meta, this.register);
    this.storage.compact(applied - o.compactRetainEntries);
    this.#ctx.stats.snapshotsTaken++;
  }
}

export function nodeName(index: number): NodeId {
  return `n${index + 1}`;
}
