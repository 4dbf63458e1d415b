import { Directory } from '../../src/cache/directory.js';
import { type LocalResult, NodeCache } from '../../src/cache/node-cache.js';
import {
  type CacheMessage,
  type Completion,
  isHomeMessage,
  type NodeId,
  type Protocol,
  type Stored,
} from '../../src/cache/protocol.js';

/**
 * A few nodes, each with its `NodeCache` and its `Directory`, and the messages between them in
 * flight: what the service will do over the bus, minus the sockets. `deliver` picks which
 * message goes next (FIFO by default).
 */
export class Cluster {
  readonly caches = new Map<NodeId, NodeCache>();
  readonly homes = new Map<NodeId, Directory>();
  inFlight: CacheMessage[] = [];
  readonly completed: Completion[] = [];
  /** Every message delivered, in order: `type from→to`. */
  readonly trace: string[] = [];

  constructor(
    readonly protocol: Protocol,
    nodes: readonly NodeId[],
    readonly homeOf: (key: string) => NodeId,
    options: { maxBytes?: number; maxMemoryBytes?: number } = {},
  ) {
    for (const node of nodes) {
      this.caches.set(node, new NodeCache({ node, protocol, homeOf, maxBytes: options.maxBytes }));
      this.homes.set(node, new Directory({ node, protocol, maxMemoryBytes: options.maxMemoryBytes }));
    }
  }

  cache(node: NodeId): NodeCache {
    return this.caches.get(node)!;
  }

  home(node: NodeId): Directory {
    return this.homes.get(node)!;
  }

  read(node: NodeId, key: string): LocalResult {
    const r = this.cache(node).read(key);
    this.inFlight.push(...r.send);
    return r;
  }

  write(node: NodeId, key: string, value: Stored): LocalResult {
    const r = this.cache(node).write(key, value);
    this.inFlight.push(...r.send);
    return r;
  }

  evict(node: NodeId, key: string): void {
    this.inFlight.push(...this.cache(node).evict(key).send);
  }

  /** Deliver the message at `index` of the in-flight list. */
  deliver(index = 0): Completion[] {
    const [m] = this.inFlight.splice(index, 1);
    if (m === undefined) throw new Error('nothing in flight');
    this.trace.push(`${m.type} ${m.from}→${m.to}`);
    if (isHomeMessage(m)) {
      this.inFlight.push(...this.home(m.to).receive(m).send);
      return [];
    }
    const r = this.cache(m.to).receive(m);
    this.inFlight.push(...r.send);
    this.completed.push(...r.completed);
    return [...r.completed];
  }

  /** Deliver until nothing is in flight; `pick` chooses the next index (default FIFO). */
  settle(pick: (n: number) => number = () => 0): Completion[] {
    const done: Completion[] = [];
    for (let steps = 0; this.inFlight.length > 0; steps++) {
      if (steps > 100_000) throw new Error('messages never settle');
      done.push(...this.deliver(pick(this.inFlight.length)));
    }
    return done;
  }

  /** A read, run to completion: its value. */
  readNow(node: NodeId, key: string): Stored {
    const r = this.read(node, key);
    if (r.hit) return r.value;
    const done = this.settle().find((c) => c.requestId === r.requestId);
    if (done === undefined) throw new Error(`read ${node} ${key} did not complete`);
    return done.value;
  }

  writeNow(node: NodeId, key: string, value: Stored): void {
    const r = this.write(node, key, value);
    if (r.hit) return;
    const done = this.settle().find((c) => c.requestId === r.requestId);
    if (done === undefined) throw new Error(`write ${node} ${key} did not complete`);
  }

  /** `n1:M n2:I n3:S` for one key. */
  states(key: string): string {
    return [...this.caches].map(([id, c]) => `${id}:${c.peek(key).state}`).join(' ');
  }
}
