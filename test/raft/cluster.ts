import { SeededRandom } from '../../src/lib/random.js';
import type { RaftConfig } from '../../src/raft/config.js';
import { RawNode } from '../../src/raft/raw-node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry, Message, NodeId, ReadState } from '../../src/raft/types.js';

export interface TestNode {
  raw: RawNode;
  readonly storage: MemoryStorage;
  readonly config: RaftConfig;
  applied: Entry[];
  readStates: ReadState[];
}

/** A few replicas of one group wired together in memory, for unit tests. */
export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>();
  inflight: Message[] = [];

  constructor(ids: readonly NodeId[], overrides: Partial<RaftConfig> = {}, groupId = 1) {
    ids.forEach((id, i) => {
      const storage = MemoryStorage.bootstrap({ voters: [...ids], learners: [] });
      const config: RaftConfig = { groupId, id, storage, random: new SeededRandom(i + 1), ...overrides };
      this.nodes.set(id, { raw: new RawNode(config), storage, config, applied: [], readStates: [] });
    });
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Handles every Ready the way a runtime would: persist, send, apply, advance. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    this.inflight.push(...rd.messages);
    n.applied.push(...rd.committedEntries);
    n.readStates.push(...rd.readStates);
    n.raw.advance();
    return true;
  }

  stabilize(): void {
    for (let round = 0; round < 1000; round++) {
      let progress = false;
      for (const id of this.nodes.keys()) if (this.processReady(id)) progress = true;
      const msgs = this.inflight;
      this.inflight = [];
      for (const m of msgs) this.node(m.to).raw.step(m);
      if (!progress && msgs.length === 0) return;
    }
    throw new Error('cluster did not stabilize');
  }

  elect(id: NodeId): void {
    this.node(id).raw.campaign();
    this.stabilize();
  }

  restart(id: NodeId, appliedIndex = 0): void {
    const n = this.node(id);
    n.raw = new RawNode({ ...n.config, appliedIndex });
    n.applied = [];
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
