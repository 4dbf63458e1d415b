import type { ClusterNode } from '../cluster/cluster-node.js';
import { PayloadKind, withKind } from '../cluster/payload.js';
import { partitionOf } from '../cluster/ring.js';
import { CodecError } from '../lib/byte-codec.js';
import { steadyNowMs } from '../lib/clock.js';
import { array, error, int, map, NULL, type Reply } from '../resp/reply.js';
import type { Session } from '../server/session.js';
import { encodeQueueCommand, type QueueCommand } from './commands.js';
import { configReply, messageReply, type QueueMachine } from './machine.js';
import { decodeQueueQuery, encodeQueueQuery, type QueueQuery } from './service-queries.js';
import type { QueueEvent } from './types.js';

export interface QueueServiceOptions {
  readonly node: ClusterNode;
  /** This node's replica of partition `groupId`'s queues, if it hosts one. */
  readonly machineOf: (groupId: number) => QueueMachine | undefined;
  /** How often the leaders check whether a lease, a delay or a dedup key has fallen due. */
  readonly tickCheckMs: number;
  /** `queue-max-length`: most messages one queue may hold; carried in each push entry. */
  readonly maxLength?: number;
  /** `queue-max-message-bytes`: a bigger payload is refused here, before anything is proposed. */
  readonly maxMessageBytes?: number;
}

export interface PushRequest {
  readonly queue: string;
  readonly payloads: readonly Uint8Array[];
  readonly dedupKey: string | undefined;
  readonly delayMs: number;
}

export interface PopRequest {
  readonly queue: string;
  /** undefined: one message, replied flat (like LPOP without a count). */
  readonly count: number | undefined;
  /** undefined: do not block; 0: block until a message comes or the client goes. */
  readonly blockMs: number | undefined;
  readonly visibilityMs: number | undefined;
}

/** Local figures (not replicated) for INFO and metrics: what clients of this node asked. */
export interface QueueServiceStats {
  pushes: number;
  messagesPushed: number;
  pops: number;
  messagesPopped: number;
  acks: number;
  blockedClients: number;
  waitsServed: number;
  ticksProposed: number;
}

/** A blocked pop re-asks at least this often, so a wait served by a replica that died ends. */
const WAIT_SLICE_MS = 10_000;

/**
 * The queue service (DESIGN.md §7): routes each queue to its partition (`hash(name)` or its
 * `{tag}`), proposes commands to that partition's group from any node, reads through a replica
 * after a ReadIndex barrier, and keeps the partitions' clocks moving on their leaders.
 *
 * A blocking pop proposes a pop; when it comes back empty it asks a replica of the partition
 * to `wait` until the queue has ready messages (woken by the apply of a push, a nack, a lease
 * that ran out or a delay that ended) and then pops again. The replica answers at once when the
 * queue already has messages, so a push applied between the empty pop and the wait is not
 * missed. Every waiter is woken by a push (several may race for one message; the losers wait
 * again), which keeps the wait stateless and the pop itself the only thing that leases.
 */
export class QueueService {
  readonly #o: QueueServiceOptions;
  readonly #ticker: NodeJS.Timeout;
  readonly #ticking = new Set<number>();
  /** Waits served here, by `${groupId}\0${queue}`. */
  readonly #waits = new Map<string, Set<() => void>>();
  readonly stats: QueueServiceStats = {
    pushes: 0,
    messagesPushed: 0,
    pops: 0,
    messagesPopped: 0,
    acks: 0,
    blockedClients: 0,
    waitsServed: 0,
    ticksProposed: 0,
  };

  constructor(options: QueueServiceOptions) {
    this.#o = options;
    this.#ticker = setInterval(() => this.#maybeTick(), options.tickCheckMs);
    this.#ticker.unref();
  }

  /** The partition (group id) of a queue, or undefined before this node knows the cluster. */
  partitionOf(queue: string): number | undefined {
    const meta = this.#o.node.meta;
    if (meta === undefined || !meta.initialized || meta.partitions < 1) return undefined;
    return partitionOf(queue, meta.partitions);
  }

  async push(request: PushRequest): Promise<Reply> {
    this.stats.pushes++;
    const maxBytes = this.#o.maxMessageBytes;
    const tooBig = maxBytes === undefined ? undefined : request.payloads.find((p) => p.byteLength > maxBytes);
    if (tooBig !== undefined) {
      return error(
        `LIMIT a message of ${tooBig.byteLength} bytes is larger than queue-max-message-bytes (${maxBytes}); nothing was pushed`,
      );
    }
    const command: QueueCommand = {
      op: 'push',
      queue: request.queue,
      payloads: request.payloads,
      delayMs: request.delayMs,
      ...(request.dedupKey === undefined ? {} : { dedupKey: request.dedupKey }),
      ...(this.#o.maxLength === undefined ? {} : { maxLength: this.#o.maxLength }),
    };
    const reply = await this.#propose(request.queue, command);
    if (reply.t !== 'array') return reply;
    this.stats.messagesPushed += reply.v.length;
    return request.payloads.length === 1 && reply.v.length === 1 ? reply.v[0]! : reply;
  }

  async pop(session: Session, request: PopRequest): Promise<Reply> {
    this.stats.pops++;
    const { queue } = request;
    const group = this.partitionOf(queue);
    if (group === undefined) return notReady();
    const command: QueueCommand =
      request.visibilityMs === undefined
        ? { op: 'pop', queue, count: request.count ?? 1 }
        : { op: 'pop', queue, count: request.count ?? 1, visibilityMs: request.visibilityMs };
    const forever = request.blockMs === 0;
    const deadline = request.blockMs === undefined ? 0 : steadyNowMs() + request.blockMs;
    let blocked = false;
    try {
      for (;;) {
        const reply = await this.#propose(queue, command);
        if (reply.t !== 'array') return reply;
        if (reply.v.length > 0) {
          this.stats.messagesPopped += reply.v.length;
          return request.count === undefined ? reply.v[0]! : reply;
        }
        const remainingMs = forever ? WAIT_SLICE_MS : deadline - steadyNowMs();
        if (request.blockMs === undefined || remainingMs <= 0 || session.closed) return NULL;
        if (!blocked) {
          blocked = true;
          this.stats.blockedClients++;
        }
        const waited = await this.#o.node.query(
          group,
          queryPayload({ op: 'wait', queue }),
          Math.min(remainingMs, WAIT_SLICE_MS),
        );
        // A client that left while blocked gets nothing leased to it.
        if (session.closed) return NULL;
        if (waited.t === 'error') return waited;
      }
    } finally {
      if (blocked) this.stats.blockedClients--;
    }
  }

  async ack(queue: string, ids: readonly string[]): Promise<Reply> {
    this.stats.acks++;
    return this.#propose(queue, { op: 'ack', queue, ids });
  }

  nack(queue: string, id: string, delayMs: number): Promise<Reply> {
    return this.#propose(queue, { op: 'nack', queue, id, delayMs });
  }

  /** Q.REDRIVE: dead letters back to ready (or deleted), oldest first. */
  redrive(queue: string, count: number, drop: boolean): Promise<Reply> {
    return this.#propose(queue, { op: 'redrive', queue, count, drop });
  }

  extend(queue: string, id: string, ms: number): Promise<Reply> {
    return this.#propose(queue, { op: 'extend', queue, id, ms });
  }

  /** Q.CONFIG: a change goes through the log; no options is a read. */
  config(
    queue: string,
    change: { maxDeliveries?: number; visibilityMs?: number; maxLen?: number },
  ): Promise<Reply> {
    if (Object.keys(change).length === 0) return this.query({ op: 'config', queue });
    return this.#propose(queue, { op: 'config', queue, ...change });
  }

  /** A read of the queue's state on a replica of its partition, after a ReadIndex barrier. */
  async query(q: QueueQuery): Promise<Reply> {
    const group = this.partitionOf(q.queue);
    if (group === undefined) return notReady();
    let payload: Uint8Array;
    try {
      payload = queryPayload(q);
    } catch (e) {
      // A queue name out of 1..1024 bytes: a bad argument, as in #propose, not an internal error.
      if (!(e instanceof CodecError)) throw e;
      return error(`ERR ${e.message}`);
    }
    return this.#o.node.query(group, payload, 0);
  }

  /** Answers a query sent to this node (it hosts a replica of `groupId`). */
  async serveQuery(groupId: number, body: Uint8Array, timeoutMs: number): Promise<Reply> {
    let q: QueueQuery;
    try {
      q = decodeQueueQuery(body);
    } catch (e) {
      return error(`ERR invalid queue query: ${(e as Error).message}`);
    }
    if (q.op === 'wait') return this.#serveWait(groupId, q.queue, timeoutMs);
    const refused = await this.#o.node.readBarrier(groupId);
    if (refused !== null) return refused;
    const machine = this.#o.machineOf(groupId);
    if (machine === undefined) return error(`TRYAGAIN this node no longer hosts partition ${groupId}`);
    const state = machine.state;
    switch (q.op) {
      case 'len':
        return int(state.len(q.queue));
      case 'peek':
        return array(state.peek(q.queue, q.count).map(messageReply));
      case 'dead':
        return array(state.dead(q.queue, q.count).map(messageReply));
      case 'config':
        return configReply(state.config(q.queue));
      case 'stats': {
        const s = state.stats(q.queue);
        return map({
          ready: int(s.ready),
          inflight: int(s.inflight),
          delayed: int(s.delayed),
          dead: int(s.dead),
          pushed: int(s.pushed),
          acked: int(s.acked),
          redelivered: int(s.redelivered),
          deadlettered: int(s.deadLettered),
          partition: int(groupId),
        });
      }
    }
  }

  /** The machine's events on this node: wake the waits for queues that gained messages. */
  onEvents(groupId: number, events: readonly QueueEvent[]): void {
    for (const e of events) {
      const key = waitKey(groupId, e.queue);
      const waits = this.#waits.get(key);
      if (waits === undefined) continue;
      this.#waits.delete(key);
      for (const wake of waits) wake();
    }
  }

  close(): void {
    clearInterval(this.#ticker);
    for (const waits of this.#waits.values()) for (const wake of waits) wake();
    this.#waits.clear();
  }

  #serveWait(groupId: number, queue: string, timeoutMs: number): Promise<Reply> {
    this.stats.waitsServed++;
    const machine = this.#o.machineOf(groupId);
    if (machine === undefined)
      return Promise.resolve(error(`TRYAGAIN this node no longer hosts partition ${groupId}`));
    if (machine.state.len(queue) > 0 || timeoutMs <= 0)
      return Promise.resolve(int(machine.state.len(queue) > 0 ? 1 : 0));
    const key = waitKey(groupId, queue);
    return new Promise((resolve) => {
      let set = this.#waits.get(key);
      if (set === undefined) {
        set = new Set();
        this.#waits.set(key, set);
      }
      const wake = () => {
        clearTimeout(timer);
        resolve(int(1));
      };
      const timer = setTimeout(() => {
        const current = this.#waits.get(key);
        current?.delete(wake);
        if (current?.size === 0) this.#waits.delete(key);
        resolve(int(0));
      }, timeoutMs);
      set.add(wake);
    });
  }

  async #propose(queue: string, command: QueueCommand): Promise<Reply> {
    const group = this.partitionOf(queue);
    if (group === undefined) return notReady();
    let payload: Uint8Array;
    try {
      payload = withKind(PayloadKind.queue, encodeQueueCommand(command));
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      return error(`ERR ${e.message}`);
    }
    return this.#o.node.propose(group, payload);
  }

  /** On each partition this node leads: propose a tick when something has fallen due. */
  #maybeTick(): void {
    const host = this.#o.node.host;
    const now = steadyNowMs();
    for (const groupId of host.groupIds()) {
      if (groupId === 0 || this.#ticking.has(groupId) || !host.group(groupId)?.isLeader) continue;
      const due = this.#o.machineOf(groupId)?.state.nextDeadlineMs();
      if (due === undefined || due > now) continue;
      this.#ticking.add(groupId);
      this.stats.ticksProposed++;
      const payload = withKind(PayloadKind.queue, encodeQueueCommand({ op: 'tick' }));
      void this.#o.node.propose(groupId, payload).finally(() => this.#ticking.delete(groupId));
    }
  }
}

function queryPayload(q: QueueQuery): Uint8Array {
  return withKind(PayloadKind.queue, encodeQueueQuery(q));
}

function waitKey(groupId: number, queue: string): string {
  return `${groupId}\u0000${queue}`;
}

function notReady(): Reply {
  return error('TRYAGAIN this node does not know the cluster yet');
}
