import { FrameType } from '../cluster/bus/frame.js';
import type { ClusterNode } from '../cluster/cluster-node.js';
import { Ring } from '../cluster/ring.js';
import { CodecError } from '../lib/byte-codec.js';
import { steadyNowMs } from '../lib/clock.js';
import { ReplyError } from '../lib/errors.js';
import { Histogram } from '../lib/histogram.js';
import { decodeCacheBatch, encodeCacheBatch } from './codec.js';
import { Directory, ENTRY_OVERHEAD_BYTES } from './directory.js';
import { LINE_OVERHEAD_BYTES, NodeCache } from './node-cache.js';
import {
  type CacheMessage,
  type CacheState,
  CoherenceError,
  type Completion,
  type DirEntry,
  isHomeMessage,
  type Protocol,
  type Stored,
} from './protocol.js';
import { CacheResetRequests } from './reset-requests.js';

export interface CacheServiceOptions {
  readonly node: ClusterNode;
  readonly protocol: Protocol;
  /** This node's local cache bound (`--cache-max-bytes`). */
  readonly maxBytes: number;
  /** The memory copies this node keeps as a home (`--cache-home-max-bytes`). */
  readonly homeMaxBytes: number;
  readonly requestTimeoutMs: () => number;
  /** How often to look for an epoch change and tell the peers this node's epoch. */
  readonly epochCheckMs: number;
  /**
   * A node serves the cache only while it has heard from a majority of the live members within
   * this long; less than the cluster's down-after-ms, so a node cut off from the majority stops
   * before the majority can mark it down and move to a ring without it.
   */
  readonly contactWindowMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, fields?: object) => void;
}

/** Local figures beside the pure classes' counters, for CACHE.STATS, INFO and metrics. */
export interface CacheServiceStats {
  /** Ring epochs this node moved to; each one emptied the cache and the directory. */
  epochChanges: number;
  /** Dirty (M/O) lines lost by those flushes: the values written there are gone. */
  dirtyLost: number;
  /** Operations that failed because a flush dropped their line. */
  flushedOperations: number;
  /** Operations that did not complete within request-timeout-ms. */
  timeouts: number;
  /** Frames from another epoch, dropped unread. */
  staleFrames: number;
  messagesSent: number;
  messagesReceived: number;
  /** Messages no table row accepts (a bug, or a peer of another build): the key is dropped here. */
  protocolErrors: number;
}

export interface LineView {
  readonly state: CacheState;
  readonly value: Stored;
  readonly home: string;
  /** The directory entry, when this node is the key's home and has one. */
  readonly entry: DirEntry | undefined;
}

/**
 * Largest key plus value one cache entry may have. A value travels whole in one bus frame (Data,
 * PutM, WbData; frames end at 16 MiB): a bigger one was dropped by the bus and left its key busy
 * at the home until the next ring change.
 */
export const MAX_CACHE_ENTRY_BYTES = 8 * 1024 * 1024;

/** 50 µs to about 10 s in steps of 25%: a percentile read from them is within a few percent. */
export const COHERENCE_BUCKETS_SECONDS: readonly number[] = Array.from(
  { length: 56 },
  (_, i) => 0.00005 * 1.25 ** i,
);

interface Waiter {
  readonly startedMs: number;
  readonly resolve: (value: Stored | ReplyError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The coherent cache's service (DESIGN.md §8): drives this node's `NodeCache` (its lines) and
 * `Directory` (the keys it is home of) with local operations and with the messages other nodes
 * send over the bus, and sends theirs. The protocol itself is in the pure tables.
 *
 * Homes follow a ring of the live (`up`) members, tagged with group 0's epoch. Every epoch
 * change (a member joins, leaves, goes down or comes back) empties the cache and the directory
 * on every node, and each node drops frames tagged with another epoch: a line or an entry of
 * the old ring can never meet one of the new. Two rules keep reads linearizable across that:
 *
 * - *Epoch barrier*: a node serves nothing (and a home takes no request) in a new epoch until
 *   every live member has told it that it reached the epoch too (every frame carries the
 *   sender's epoch; each node sends an empty one to its peers every tick). Otherwise a member
 *   that applied the change later could still serve a read hit from a line of the old ring
 *   after a new home granted a write.
 * - *Majority contact*: a node serves nothing while it has not heard from a majority of the live
 *   members within `contactWindowMs` (half of down-after-ms): a node cut off from the majority
 *   stops before the majority can mark it down and move on without it.
 * - *Leader contact*: nor while it has not heard from group 0's leader, the one node that marks
 *   members down, within `contactWindowMs`. Majority contact alone is not enough when the
 *   network is not transitive: in a bridge partition a node can hear a majority (through the
 *   bridge node) while the leader cannot hear it, marks it down and lets the rest write; the
 *   chaos tool found exactly that (a read of a value overwritten on the other side).
 *
 * The protocol needs every message delivered. When the bus may have lost some (a link to a
 * member broke and came back before anyone marked it down, or a frame could not be queued),
 * the node asks group 0 for a new epoch with the members unchanged (`cache-reset`,
 * reset-requests.ts) and the same flush and barrier apply.
 *
 * The price of the flush is that every value cached at that moment is gone (reads return nil
 * until written again), including dirty values at a node that died — this is a cache, not a
 * database; membership changes and broken links are rare.
 */
export class CacheService {
  readonly protocol: Protocol;
  readonly #o: CacheServiceOptions;
  readonly #self: string;
  readonly #cache: NodeCache;
  readonly #directory: Directory;
  #ring: Ring | undefined;
  #epoch = -1;
  /** Live members of the ring known to have reached this epoch (this node included). */
  #confirmed = new Set<string>();
  /** Every member of `#ring` is in `#confirmed` (kept as both change: read on every operation). */
  #everyoneConfirmed = false;
  /** Messages received before every live member confirmed the epoch, delivered once they have. */
  #held: CacheMessage[] = [];
  readonly #waiters = new Map<number, Waiter>();
  readonly #outbox = new Map<string, CacheMessage[]>();
  #flushScheduled = false;
  readonly #inbox: CacheMessage[] = [];
  #delivering = false;
  readonly #ticker: NodeJS.Timeout;
  readonly #resets: CacheResetRequests;
  /** Coherence round trips (a miss or an upgrade, request to completion), in seconds. */
  readonly latency = new Histogram(COHERENCE_BUCKETS_SECONDS);
  readonly stats: CacheServiceStats = {
    epochChanges: 0,
    dirtyLost: 0,
    flushedOperations: 0,
    timeouts: 0,
    staleFrames: 0,
    messagesSent: 0,
    messagesReceived: 0,
    protocolErrors: 0,
  };

  constructor(options: CacheServiceOptions) {
    this.#o = options;
    this.protocol = options.protocol;
    this.#self = options.node.id;
    this.#cache = new NodeCache({
      node: this.#self,
      protocol: options.protocol,
      homeOf: (key) => this.#homeOf(key),
      maxBytes: options.maxBytes,
    });
    this.#directory = new Directory({
      node: this.#self,
      protocol: options.protocol,
      maxMemoryBytes: options.homeMaxBytes,
    });
    this.#resets = new CacheResetRequests({
      propose: async (epoch) => {
        const reply = await options.node.proposeMeta({ op: 'cache-reset', epoch });
        return reply.t === 'error' ? reply.v : null;
      },
      log: options.log,
    });
    options.node.onLink((peer, up) => this.#onLink(peer, up));
    this.#ticker = setInterval(() => this.#tick(), options.epochCheckMs);
    this.#ticker.unref();
  }

  /** Resets of the cache this node asked group 0 for, because messages may have been lost. */
  get resetsRequested(): number {
    return this.#resets.requested;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /**
   * Key + value bytes CACHE.SET accepts: what a bus frame carries, and what the local cache and
   * the home's memory can hold as one line within their byte bounds.
   */
  get maxEntryBytes(): number {
    return Math.min(
      MAX_CACHE_ENTRY_BYTES,
      this.#o.maxBytes - LINE_OVERHEAD_BYTES,
      this.#o.homeMaxBytes - ENTRY_OVERHEAD_BYTES,
    );
  }

  get cache(): NodeCache {
    return this.#cache;
  }

  get directory(): Directory {
    return this.#directory;
  }

  /** CACHE.GET: a hit is answered here and now; a miss asks the home (and maybe an owner). */
  get(key: string): Stored | Promise<Stored> {
    this.#ready();
    return this.#run(this.#cache.read(key));
  }

  /** CACHE.SET (CACHE.DEL with null): completes once this node holds the line in M. */
  set(key: string, value: Stored): Stored | Promise<Stored> {
    this.#ready();
    return this.#run(this.#cache.write(key, value));
  }

  /** CACHE.STATE: this node's line, the key's home and, on the home, its directory entry. */
  state(key: string): LineView {
    this.#ready();
    const line = this.#cache.peek(key);
    const home = this.#homeOf(key);
    return {
      state: line.state,
      value: line.value,
      home,
      entry: home === this.#self ? this.#directory.entry(key) : undefined,
    };
  }

  /** A CACHE frame from a peer. Garbage throws CodecError (the bus drops the peer's frame). */
  receive(peer: string, payload: Uint8Array): void {
    const batch = decodeCacheBatch(payload);
    this.#sync();
    if (batch.epoch !== this.#epoch) {
      this.stats.staleFrames++;
      return;
    }
    for (const m of batch.messages) {
      if (m.from !== peer) throw new CodecError(`cache message from ${m.from} on ${peer}'s connection`);
    }
    this.#confirm(peer);
    this.stats.messagesReceived += batch.messages.length;
    if (!this.#allConfirmed()) {
      this.#held.push(...batch.messages);
      return;
    }
    this.#deliver(batch.messages);
  }

  close(): void {
    clearInterval(this.#ticker);
    this.#failAll('node shutting down');
  }

  #ready(): void {
    this.#sync();
    const ring = this.#ring;
    if (ring === undefined) throw new ReplyError('TRYAGAIN', 'this node does not know the cluster yet');
    if (!this.#allConfirmed()) {
      throw new ReplyError('TRYAGAIN', `the cache is moving to a new ring (epoch ${this.#epoch}); retry`);
    }
    const now = steadyNowMs();
    let heard = 0;
    for (const id of ring.nodeIds) {
      if (id === this.#self) heard++;
      else if (now - (this.#o.node.lastHeardMs(id) ?? 0) < this.#o.contactWindowMs) heard++;
    }
    if (2 * heard <= ring.nodeIds.length) {
      throw new ReplyError(
        'TRYAGAIN',
        `this node has not heard from a majority of the cache ring within ${this.#o.contactWindowMs} ms; its lines may be stale`,
      );
    }
    const sinceLeaderMs = this.#o.node.msSinceMetaLeaderContact();
    if (sinceLeaderMs === undefined || sinceLeaderMs >= this.#o.contactWindowMs) {
      throw new ReplyError(
        'TRYAGAIN',
        `this node has not heard from the cluster's leader within ${this.#o.contactWindowMs} ms; its ring may be stale`,
      );
    }
  }

  /**
   * Before a home serves anything in a new epoch, every live member must have reached it (and
   * emptied its cache): otherwise a member still in the old epoch could serve a read hit from a
   * line the new ring's homes know nothing of. Each node tells its peers its epoch every tick.
   */
  #allConfirmed(): boolean {
    return this.#everyoneConfirmed;
  }

  #updateConfirmed(): void {
    this.#everyoneConfirmed = this.#ring?.nodeIds.every((id) => this.#confirmed.has(id)) ?? false;
  }

  #confirm(peer: string): void {
    if (this.#confirmed.has(peer)) return;
    this.#confirmed.add(peer);
    this.#updateConfirmed();
    if (this.#held.length > 0 && this.#allConfirmed()) {
      const held = this.#held;
      this.#held = [];
      this.#deliver(held);
    }
  }

  #onLink(peer: string, up: boolean): void {
    this.#sync();
    if (!up) {
      this.#resets.linkDown(peer, this.#epoch);
      return;
    }
    if (this.#resets.linkUp(peer, this.#epoch) && this.#ring?.nodeIds.includes(peer)) {
      this.#resets.request(this.#epoch, `the bus link to ${peer} went down and came back`, { peer });
    }
  }

  #tick(): void {
    this.#sync();
    this.#resets.retry(this.#epoch);
    const ring = this.#ring;
    if (ring === undefined) return;
    const beacon = encodeCacheBatch({ epoch: this.#epoch, messages: [] });
    for (const id of ring.nodeIds) {
      if (id !== this.#self) this.#o.node.transport.send(id, FrameType.CACHE, beacon, { droppable: true });
    }
  }

  /** Moves to group 0's current epoch if it changed: a new ring of the live members, and a flush. */
  #sync(): void {
    const meta = this.#o.node.meta;
    if (meta === undefined || !meta.initialized || meta.epoch === this.#epoch) return;
    const live = meta
      .members()
      .filter((m) => m.state === 'up')
      .map((m) => m.id);
    const previous = this.#epoch;
    this.#epoch = meta.epoch;
    this.#ring = live.length === 0 ? undefined : new Ring({ epoch: meta.epoch, nodeIds: live });
    this.#confirmed = new Set([this.#self]);
    this.#updateConfirmed();
    this.#held = [];
    if (previous === -1) return;
    this.stats.epochChanges++;
    const { failed, dirtyLost } = this.#cache.dropWhere(() => true);
    this.#directory.dropWhere(() => true);
    this.#outbox.clear();
    this.#inbox.length = 0;
    this.stats.dirtyLost += dirtyLost;
    this.#fail(failed, `the cache ring changed (epoch ${meta.epoch}); retry`);
    this.#failAll(`the cache ring changed (epoch ${meta.epoch}); retry`);
    this.#o.log('info', 'cache emptied for a new ring', { epoch: meta.epoch, live, dirtyLost });
  }

  #homeOf(key: string): string {
    if (this.#ring === undefined) throw new ReplyError('TRYAGAIN', 'this node does not know the cluster yet');
    return this.#ring.homeOf(key);
  }

  /**
   * Sends what a local operation produced; a miss waits for its completion. The waiter is
   * registered first: when this node is the key's home, routing completes the request at once.
   */
  #run(r: ReturnType<NodeCache['read']>): Stored | Promise<Stored> {
    if (r.hit) {
      this.#route(r.send);
      return r.value;
    }
    const done = this.#wait(r.requestId);
    this.#route(r.send);
    return done;
  }

  #wait(requestId: number): Promise<Stored> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#waiters.delete(requestId)) return;
        this.stats.timeouts++;
        reject(
          new ReplyError(
            'TRYAGAIN',
            `the cache did not complete the request within ${this.#o.requestTimeoutMs()} ms; it may or may not have taken effect`,
          ),
        );
      }, this.#o.requestTimeoutMs());
      this.#waiters.set(requestId, {
        startedMs: performance.now(),
        timer,
        resolve: (v) => (v instanceof ReplyError ? reject(v) : resolve(v)),
      });
    });
  }

  #complete(completed: readonly Completion[]): void {
    for (const c of completed) {
      const w = this.#waiters.get(c.requestId);
      if (w === undefined) continue;
      this.#waiters.delete(c.requestId);
      clearTimeout(w.timer);
      this.latency.record((performance.now() - w.startedMs) / 1000);
      w.resolve(c.value);
    }
  }

  #fail(requestIds: readonly number[], why: string): void {
    for (const id of requestIds) {
      const w = this.#waiters.get(id);
      if (w === undefined) continue;
      this.#waiters.delete(id);
      clearTimeout(w.timer);
      this.stats.flushedOperations++;
      w.resolve(new ReplyError('TRYAGAIN', why));
    }
  }

  #failAll(why: string): void {
    this.#fail([...this.#waiters.keys()], why);
  }

  /** Messages for this node are handled here (in order, without recursion); the rest go out. */
  #route(messages: readonly CacheMessage[]): void {
    for (const m of messages) {
      if (m.to === this.#self) {
        this.#inbox.push(m);
        continue;
      }
      const list = this.#outbox.get(m.to);
      if (list === undefined) this.#outbox.set(m.to, [m]);
      else list.push(m);
    }
    if (this.#inbox.length > 0) this.#deliver([]);
    if (this.#outbox.size > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      // Everything produced in this turn of the event loop leaves in one frame per peer.
      queueMicrotask(() => this.#flush());
    }
  }

  #deliver(messages: readonly CacheMessage[]): void {
    this.#inbox.push(...messages);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let m = this.#inbox.shift(); m !== undefined; m = this.#inbox.shift()) this.#handle(m);
    } finally {
      this.#delivering = false;
    }
  }

  #handle(m: CacheMessage): void {
    try {
      if (isHomeMessage(m)) {
        this.#route(this.#directory.receive(m).send);
      } else {
        const r = this.#cache.receive(m);
        this.#route(r.send);
        this.#complete(r.completed);
      }
    } catch (e) {
      if (!(e instanceof CoherenceError)) throw e;
      // No table row takes this message: forget the key here so it cannot stay wedged.
      this.stats.protocolErrors++;
      this.#o.log('error', 'cache protocol error; key dropped on this node', {
        key: m.key.slice(0, 200),
        type: m.type,
        from: m.from,
        err: e.message,
      });
      const { failed } = this.#cache.dropWhere((k) => k === m.key);
      this.#directory.dropWhere((k) => k === m.key);
      this.#fail(failed, 'the cache line was reset after a protocol error; retry');
    }
  }

  #flush(): void {
    this.#flushScheduled = false;
    for (const [peer, messages] of this.#outbox) {
      this.stats.messagesSent += messages.length;
      const payload = encodeCacheBatch({ epoch: this.#epoch, messages });
      // Not queued (the link is down or its queue full): the messages are lost, start over.
      // A peer that stays away is marked down, and that epoch change fails the waits too.
      if (!this.#o.node.transport.send(peer, FrameType.CACHE, payload)) {
        this.#resets.request(this.#epoch, `a coherence frame to ${peer} could not be queued`, {
          peer,
          messages: messages.length,
        });
      }
    }
    this.#outbox.clear();
  }
}
