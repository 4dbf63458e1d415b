/**
 * Queue throughput (issue 7, acceptance 5): replicated durable pushes per second and pop+ack
 * per second on a local 3-node lockstep cluster (`--fsync always`, every partition on 3
 * replicas), 50 clients, 100-byte payloads, against redis-server streams with
 * `appendfsync always` (one node, no replication) in the same run.
 *
 * lockstep: every client has its own RESP connection (bench/lib/resp-client.ts, one command at
 * a time, no pipelining) and its own queue, `bq<i>` for pushes and `bc<i>` for pops, so 50
 * queues spread over the partitions. A queue's partition comes from `Q.STATS` (fixed once the
 * cluster exists), the partition's leader from `RAFT.INFO <partition>`, asked again before
 * every run.
 * - push via partition leader: client i on the leader of its queue's partition loops
 *   `Q.PUSH bq<i> <payload>`.
 * - push via any node: client i on node i % 3, which forwards when it does not lead the
 *   partition.
 * - pop+ack: client i on its partition's leader loops `Q.POP bc<i>` then `Q.ACK bc<i> <id>`;
 *   pop+ack COUNT 10: `Q.POP bc<i> COUNT 10`, then one `Q.ACK` of the ids it got.
 *
 * redis-server (7.0, `--appendonly yes --appendfsync always --save ''`): 50 connections,
 * `XADD bq<i> * p <payload>` for pushes; `XREADGROUP GROUP g c<i> COUNT 1|10 STREAMS bc<i> >`
 * then `XACK bc<i> g <ids>` for pop+ack, each stream with its own consumer group.
 *
 * RabbitMQ quorum queues: a lane that is always skipped, with the reason (not installed here;
 * the harness has no AMQP client).
 *
 * The pop lanes need messages waiting: before each run every queue is filled (untimed;
 * lockstep with multi-payload Q.PUSH up to a level, redis with pipelined XADDs into a fresh
 * stream) to 1.5 times what the lane's best rate so far would take from it in the run. A consumer
 * whose queue runs empty stops; the run is then repeated with more (up to twice). After a
 * push run the pushed messages are removed (lockstep: Q.POP COUNT 10000 + Q.ACK; redis: DEL),
 * so backlogs do not grow from run to run.
 *
 * Runs are time-bounded as in cluster-locks.ts: clients start operations until the run's time
 * is up and finish the one in flight; the run lasts from the start until the last answer.
 * An operation is one push, or one pop plus its ack; its latency runs from the first command
 * sent to the last reply. One warm-up run per lane, then rounds of every lane in a fixed order
 * (lockstep, then redis, per workload). Figures are medians over the rounds; ratios against
 * redis are medians of per-round ratios.
 *
 * Checks that fail the run: an error reply, a push reply that is not a message id, a popped
 * payload that is not the 100 bytes pushed, an ack that does not count every id.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantile } from './autocannon-load.js';
import {
  ask,
  connectAll,
  cpuMeter,
  failLane,
  skipLane,
  spread,
  startLockstepLanes,
  withNodePids,
} from './cluster-harness.js';
import { type BenchCluster, type ClusterSuiteOptions, errorMessage } from './cluster-lockstep.js';
import { median } from './compare.js';
import { freePorts, type ManagedProcess, startRedisServer, stop, which } from './processes.js';
import { describeReply, type Reply, type RespConnection } from './resp-client.js';

/** Pushes per second, through the partition leader. */
export const QUEUES_TARGET_PUSHES = 15_000;
/** p99 of one push, ms. */
export const QUEUES_TARGET_PUSH_P99_MS = 10;
/** Messages popped and acked per second. */
export const QUEUES_TARGET_POP_ACK = 10_000;
export const QUEUE_PAYLOAD_BYTES = 100;
/** Messages per pop in the batched pop+ack lanes. */
export const POP_BATCH = 10;
/** Client-side timeout of one command: only a stuck server hits it. */
const COMMAND_TIMEOUT_MS = 10_000;
/** Pre-fill and drain commands carry up to 10,000 messages. */
const BULK_TIMEOUT_MS = 60_000;
/** How long to wait for every partition in use to have a leader and all its voters. */
const PARTITIONS_TIMEOUT_MS = 30_000;
/** Payloads per Q.PUSH, or XADDs in flight per connection, while pre-filling. */
const FILL_BATCH = 1_000;
/** Pre-fill: this many times what the lane's best rate so far takes from a queue in one run. */
const FILL_MARGIN = 1.5;
/** A pop lane's rate before it has run, messages/s: sizes the pre-fill of its warm-up only. */
const FIRST_GUESS_PER_SEC: Record<number, number> = { 1: 20_000, [POP_BATCH]: 50_000 };
/** Repeats of a pop run whose consumers ran out of messages, each with twice the estimate. */
const DRY_RETRIES = 2;
/** Q.POP COUNT and Q.ACK ids at most (src/queue/commands.ts). */
const DRAIN_BATCH = 10_000;
const DEFAULT_REPLICAS = 3;
const REDIS_GROUP = 'g';
const MESSAGE_ID = /^\d+-\d+$/;

export type QueueWorkload = 'push' | 'pop+ack' | `pop+ack COUNT ${typeof POP_BATCH}`;
export type QueueLaneId =
  | 'lockstep-push-leader'
  | 'lockstep-push-any'
  | 'redis-push'
  | 'lockstep-pop-ack'
  | 'redis-pop-ack'
  | 'lockstep-pop-ack-batch'
  | 'redis-pop-ack-batch'
  | 'rabbitmq-quorum';

export interface QueuesOptions extends ClusterSuiteOptions {
  rounds: number;
  /** Length of one measured run, ms. */
  runMs: number;
  /** Length of the warm-up run of each lane, ms. */
  warmupMs: number;
  clients: number;
}

/** One time-bounded run of one lane. */
export interface QueueRun {
  endpoint: string;
  seconds: number;
  /** Operations completed: pushes, or pops each followed by its ack. */
  ops: number;
  opsPerSec: number;
  /** Messages pushed, or popped and acked, per second: opsPerSec but for the batched pops. */
  messagesPerSec: number;
  /** Latency of one operation: the push; the pop sent → the ack answered. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** pop+ack lanes: the pop and the ack each on its own. */
  popP50Ms?: number;
  popP99Ms?: number;
  ackP50Ms?: number;
  ackP99Ms?: number;
  /** Fewest and most operations one client completed. */
  clientOpsMin: number;
  clientOpsMax: number;
  /** pop+ack lanes: messages waiting in each queue when the run started. */
  prefillPerQueue?: number;
  /** pop+ack lanes: runs before this one that were repeated because a queue ran empty. */
  dryRepeats?: number;
  /** CPU used during the run, in % of one core: `harness` and each server process. */
  cpuPercent: Record<string, number>;
}

export interface QueueLaneResult {
  lane: QueueLaneId;
  system: 'lockstep' | 'redis' | 'rabbitmq';
  workload: QueueWorkload;
  label: string;
  /** What one operation sends. */
  command: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  runs: QueueRun[];
  endpoints: string[];
  /** Medians over the rounds. */
  opsPerSec?: number;
  messagesPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** lockstep lanes, when redis ran the same workload: per-round lockstep / redis, and medians. */
  roundRatios?: number[];
  roundP99Ratios?: number[];
  ratio?: number;
  p99Ratio?: number;
  /** lockstep lanes: the target in words, and whether the medians meet it. */
  target?: string;
  verdict?: 'PASS' | 'BELOW';
  /** Which parts of the target were missed. */
  missed?: string[];
}

export interface QueuesResult {
  clients: number;
  rounds: number;
  runMs: number;
  warmupMs: number;
  payloadBytes: number;
  popBatch: number;
  nodeArgs: readonly string[];
  lanes: QueueLaneResult[];
}

interface Samples {
  ops: number[];
  pops: number[];
  acks: number[];
  messages: number;
  /** Operations completed by each client. */
  perClient: number[];
  /** Consumers that found their queue empty and stopped. */
  dry: number;
}

/** A pop lane's best rate so far, messages/s; a guess until it has run. */
interface Estimate {
  perSec: number;
  measured: boolean;
}

interface Lane {
  result: QueueLaneResult;
  run?: (runMs: number) => Promise<QueueRun>;
}

const pushQueue = (i: number): string => `bq${i}`;
const popQueue = (i: number): string => `bc${i}`;
/** Client i's 100-byte payload: its number, then filler. */
const payloadOf = (i: number): string => `c${i}:`.padEnd(QUEUE_PAYLOAD_BYTES, 'x');

/**
 * Runs `clients` loops until `runMs` have passed (each finishes the operation it is in) and
 * turns their samples into a QueueRun. The first client error stops the others and fails the run.
 */
async function drive(
  clients: number,
  runMs: number,
  signal: AbortSignal,
  endpoint: string,
  pids: Record<string, number>,
  client: (i: number, samples: Samples, live: () => boolean) => Promise<void>,
): Promise<{ run: QueueRun; dry: number }> {
  const samples: Samples = {
    ops: [],
    pops: [],
    acks: [],
    messages: 0,
    perClient: new Array<number>(clients).fill(0),
    dry: 0,
  };
  let failure: unknown;
  const cpu = cpuMeter(pids);
  const started = performance.now();
  const deadline = started + runMs;
  const live = (): boolean => failure === undefined && !signal.aborted && performance.now() < deadline;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      try {
        await client(i, samples, live);
      } catch (error) {
        failure ??= error;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuPercent = cpu.stop(seconds);
  signal.throwIfAborted();
  if (failure !== undefined) throw failure;
  if (samples.ops.length === 0) throw new Error('no operation completed');
  const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
  const ops = sorted(samples.ops);
  const pops = sorted(samples.pops);
  const acks = sorted(samples.acks);
  const popAck =
    pops.length === 0
      ? {}
      : {
          popP50Ms: quantile(pops, 0.5),
          popP99Ms: quantile(pops, 0.99),
          ackP50Ms: quantile(acks, 0.5),
          ackP99Ms: quantile(acks, 0.99),
        };
  const run: QueueRun = {
    endpoint,
    seconds,
    ops: ops.length,
    opsPerSec: ops.length / seconds,
    messagesPerSec: samples.messages / seconds,
    p50Ms: quantile(ops, 0.5),
    p99Ms: quantile(ops, 0.99),
    maxMs: ops.at(-1)!,
    ...popAck,
    clientOpsMin: Math.min(...samples.perClient),
    clientOpsMax: Math.max(...samples.perClient),
    cpuPercent,
  };
  return { run, dry: samples.dry };
}

/** Where each client connects, and how to describe that in the table. */
interface Placement {
  ports: number[];
  endpoint: string;
}

/** One side's push: the command of client i, and the cleanup after a run. */
interface PushSide {
  command(i: number, payload: string): string[];
  /** Removes what the run pushed (untimed). */
  drain(connections: readonly RespConnection[]): Promise<void>;
}

async function pushRun(
  side: PushSide,
  placement: Placement,
  pids: Record<string, number>,
  runMs: number,
  opts: QueuesOptions,
): Promise<QueueRun> {
  const connections = await connectAll(placement.ports);
  try {
    const { run } = await drive(
      opts.clients,
      runMs,
      opts.signal,
      placement.endpoint,
      pids,
      async (i, samples, live) => {
        const connection = connections[i]!;
        const command = side.command(i, payloadOf(i));
        while (live()) {
          const t0 = performance.now();
          const reply = await connection.command(command, COMMAND_TIMEOUT_MS);
          samples.ops.push(performance.now() - t0);
          if (typeof reply !== 'string' || !MESSAGE_ID.test(reply))
            throw new Error(`${command.slice(0, 2).join(' ')} … → ${describeReply(reply)}, not a message id`);
          samples.messages++;
          samples.perClient[i]!++;
        }
      },
    );
    await side.drain(connections);
    return run;
  } finally {
    for (const connection of connections) connection.close();
  }
}

/** One side's pop+ack: commands, reply parsing, and the pre-fill of client i's queue. */
interface PopSide {
  pop(i: number, count: number): string[];
  /** The ids of the messages a pop returned; empty when the queue was empty. Checks payloads. */
  ids(reply: Reply, i: number): string[];
  ack(i: number, ids: readonly string[]): string[];
  /** Leaves at least `level` messages waiting in client i's queue (untimed). */
  fill(connection: RespConnection, i: number, level: number, signal: AbortSignal): Promise<void>;
}

function checkPayload(payload: Reply, i: number, where: string): void {
  if (payload !== payloadOf(i))
    throw new Error(`${where}: popped payload ${describeReply(payload)}, not c${i}'s`);
}

async function popAckRun(
  side: PopSide,
  placement: Placement,
  pids: Record<string, number>,
  count: number,
  estimate: Estimate,
  runMs: number,
  opts: QueuesOptions,
): Promise<QueueRun> {
  const connections = await connectAll(placement.ports);
  try {
    for (let attempt = 0; ; attempt++) {
      const level = Math.ceil((estimate.perSec * (runMs / 1000) * FILL_MARGIN) / opts.clients) + count;
      await Promise.all(connections.map((c, i) => side.fill(c, i, level, opts.signal)));
      const { run, dry } = await drive(
        opts.clients,
        runMs,
        opts.signal,
        placement.endpoint,
        pids,
        async (i, samples, live) => {
          const connection = connections[i]!;
          const pop = side.pop(i, count);
          while (live()) {
            const t0 = performance.now();
            const ids = side.ids(await ask(connection, pop, COMMAND_TIMEOUT_MS), i);
            const t1 = performance.now();
            if (ids.length === 0) {
              samples.dry++;
              return;
            }
            samples.pops.push(t1 - t0);
            const ack = side.ack(i, ids);
            const acked = await ask(connection, ack, COMMAND_TIMEOUT_MS);
            const t2 = performance.now();
            if (acked !== ids.length)
              throw new Error(`${ack[0]} of ${ids.length} ids → ${describeReply(acked)}, not ${ids.length}`);
            samples.acks.push(t2 - t1);
            samples.ops.push(t2 - t0);
            samples.messages += ids.length;
            samples.perClient[i]!++;
          }
        },
      );
      estimate.perSec = estimate.measured
        ? Math.max(estimate.perSec, run.messagesPerSec)
        : run.messagesPerSec;
      estimate.measured = true;
      if (dry === 0) return { ...run, prefillPerQueue: level, dryRepeats: attempt };
      if (attempt >= DRY_RETRIES)
        throw new Error(`${dry} consumers ran out of messages with ${level} waiting per queue`);
      opts.log(`[queues] ${dry} consumers ran out of messages with ${level} per queue: again with more`);
      estimate.perSec *= 2;
    }
  } finally {
    for (const connection of connections) connection.close();
  }
}

/** Pushes `total` copies of `payload` onto lockstep queue `queue`, FILL_BATCH per Q.PUSH. */
async function lockstepPushMany(
  connection: RespConnection,
  queue: string,
  payload: string,
  total: number,
  signal: AbortSignal,
): Promise<void> {
  for (let left = total; left > 0; ) {
    signal.throwIfAborted();
    const n = Math.min(FILL_BATCH, left);
    const reply = await ask(
      connection,
      ['Q.PUSH', queue, ...new Array<string>(n).fill(payload)],
      BULK_TIMEOUT_MS,
    );
    const pushed = n === 1 ? (typeof reply === 'string' ? 1 : 0) : Array.isArray(reply) ? reply.length : 0;
    if (pushed !== n) throw new Error(`Q.PUSH ${queue} of ${n} payloads → ${describeReply(reply)}`);
    left -= n;
  }
}

const lockstepPush: PushSide = {
  command: (i, payload) => ['Q.PUSH', pushQueue(i), payload],
  async drain(connections) {
    await Promise.all(
      connections.map(async (connection, i) => {
        const queue = pushQueue(i);
        for (;;) {
          const reply = await ask(
            connection,
            ['Q.POP', queue, 'COUNT', String(DRAIN_BATCH)],
            BULK_TIMEOUT_MS,
          );
          if (!Array.isArray(reply) || reply.length === 0) return;
          const ids = reply.map((m) => (Array.isArray(m) ? String(m[0]) : ''));
          await ask(connection, ['Q.ACK', queue, ...ids], BULK_TIMEOUT_MS);
        }
      }),
    );
  },
};

const lockstepPop: PopSide = {
  pop: (i, count) => (count === 1 ? ['Q.POP', popQueue(i)] : ['Q.POP', popQueue(i), 'COUNT', String(count)]),
  ids(reply, i) {
    if (reply === null) return [];
    if (!Array.isArray(reply)) throw new Error(`Q.POP ${popQueue(i)} → ${describeReply(reply)}`);
    // Without COUNT one message [id, payload, deliveries]; with COUNT a list of those.
    const messages = reply.length > 0 && !Array.isArray(reply[0]) ? [reply] : reply;
    return messages.map((m) => {
      if (!Array.isArray(m) || typeof m[0] !== 'string')
        throw new Error(`Q.POP ${popQueue(i)} → a message ${describeReply(m)}`);
      checkPayload(m[1] ?? null, i, `Q.POP ${popQueue(i)}`);
      return m[0];
    });
  },
  ack: (i, ids) => ['Q.ACK', popQueue(i), ...ids],
  async fill(connection, i, level, signal) {
    const ready = await ask(connection, ['Q.LEN', popQueue(i)], COMMAND_TIMEOUT_MS);
    if (typeof ready !== 'number') throw new Error(`Q.LEN ${popQueue(i)} → ${describeReply(ready)}`);
    await lockstepPushMany(connection, popQueue(i), payloadOf(i), level - ready, signal);
  },
};

const redisPush: PushSide = {
  command: (i, payload) => ['XADD', pushQueue(i), '*', 'p', payload],
  async drain(connections) {
    await Promise.all(connections.map((c, i) => ask(c, ['DEL', pushQueue(i)], COMMAND_TIMEOUT_MS)));
  },
};

const redisPop: PopSide = {
  pop: (i, count) =>
    // biome-ignore format: one command per line
    ['XREADGROUP', 'GROUP', REDIS_GROUP, `c${i}`, 'COUNT', String(count), 'STREAMS', popQueue(i), '>'],
  ids(reply, i) {
    if (reply === null) return [];
    // [[stream, [[id, [field, value]], ...]]]
    const entries = Array.isArray(reply) && Array.isArray(reply[0]) ? reply[0][1] : undefined;
    if (!Array.isArray(entries)) throw new Error(`XREADGROUP ${popQueue(i)} → ${describeReply(reply)}`);
    return entries.map((e) => {
      const fields = Array.isArray(e) ? e[1] : undefined;
      if (!Array.isArray(e) || typeof e[0] !== 'string' || !Array.isArray(fields))
        throw new Error(`XREADGROUP ${popQueue(i)} → an entry ${describeReply(e)}`);
      checkPayload(fields[1] ?? null, i, `XREADGROUP ${popQueue(i)}`);
      return e[0];
    });
  },
  ack: (i, ids) => ['XACK', popQueue(i), REDIS_GROUP, ...ids],
  async fill(connection, i, level, signal) {
    // A fresh stream and group each time: XACK leaves entries in the stream, so it only grows.
    const queue = popQueue(i);
    await ask(connection, ['DEL', queue], COMMAND_TIMEOUT_MS);
    await ask(connection, ['XGROUP', 'CREATE', queue, REDIS_GROUP, '$', 'MKSTREAM'], COMMAND_TIMEOUT_MS);
    const add = ['XADD', queue, '*', 'p', payloadOf(i)];
    for (let left = level; left > 0; ) {
      signal.throwIfAborted();
      const n = Math.min(FILL_BATCH, left);
      // Pipelined: RespConnection answers requests in order.
      await Promise.all(Array.from({ length: n }, () => ask(connection, add, BULK_TIMEOUT_MS)));
      left -= n;
    }
  },
};

/** `--replicas` among the node flags, else the node default. */
function replicasOf(nodeArgs: readonly string[]): number {
  const at = nodeArgs.lastIndexOf('--replicas');
  const value = at < 0 ? Number.NaN : Number(nodeArgs[at + 1]);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_REPLICAS;
}

/** The flat `Q.STATS` reply (RESP2) or its map (RESP3) → field. */
function statsField(reply: Reply, field: string): Reply | undefined {
  if (reply instanceof Map) return reply.get(field);
  if (!Array.isArray(reply)) return undefined;
  for (let k = 0; k + 1 < reply.length; k += 2) if (reply[k] === field) return reply[k + 1];
  return undefined;
}

/**
 * lockstep's view of the queues: their partitions (asked once, fixed for the cluster's life) and
 * the partitions' leaders (asked again before every run).
 */
class QueueRouting {
  readonly #partitions = new Map<string, number>();

  constructor(
    readonly cluster: BenchCluster,
    readonly replicas: number,
  ) {}

  /** Client i on the leader of its queue's partition. */
  async viaLeader(queue: (i: number) => string, clients: number, signal: AbortSignal): Promise<Placement> {
    const { partitions, leaders } = await this.#route(queue, clients, signal);
    const nodes = partitions.map((p) => leaders.get(p)!);
    return { ports: nodes.map((n) => this.cluster.port(n)), endpoint: spread(nodes) };
  }

  /** Client i on node i % size; says how many of them are not on their partition's leader. */
  async viaAny(queue: (i: number) => string, clients: number, signal: AbortSignal): Promise<Placement> {
    const { partitions, leaders } = await this.#route(queue, clients, signal);
    const ids = this.cluster.ids;
    const nodes = Array.from({ length: clients }, (_, i) => ids[i % ids.length]!);
    const forwarded = nodes.filter((n, i) => leaders.get(partitions[i]!) !== n).length;
    return {
      ports: nodes.map((n) => this.cluster.port(n)),
      endpoint: `${spread(nodes)}, ${forwarded} forwarded`,
    };
  }

  /**
   * Each client's queue's partition, and each partition's leader once the partition is ready;
   * asks again until PARTITIONS_TIMEOUT_MS have passed.
   */
  async #route(
    queue: (i: number) => string,
    clients: number,
    signal: AbortSignal,
  ): Promise<{ partitions: number[]; leaders: Map<number, string> }> {
    const deadline = Date.now() + PARTITIONS_TIMEOUT_MS;
    let last = 'nothing asked yet';
    while (Date.now() < deadline) {
      signal.throwIfAborted();
      try {
        const partitions: number[] = [];
        for (let i = 0; i < clients; i++) partitions.push(await this.#partition(queue(i)));
        const leaders = await this.#leaders(new Set(partitions));
        if (typeof leaders !== 'string') return { partitions, leaders };
        last = leaders;
      } catch (error) {
        last = errorMessage(error);
      }
      await sleep(100);
    }
    throw new Error(
      `partitions not ready (waited up to ${PARTITIONS_TIMEOUT_MS} ms); last: ${last}\n${this.cluster.logTails()}`,
    );
  }

  /** A queue's partition, from `Q.STATS` on any node; fixed for the cluster's life, so asked once. */
  async #partition(queue: string): Promise<number> {
    const known = this.#partitions.get(queue);
    if (known !== undefined) return known;
    const node = this.cluster.running()[0]!;
    const reply = await this.cluster.ask(node, ['Q.STATS', queue], COMMAND_TIMEOUT_MS);
    const partition = statsField(reply, 'partition');
    if (typeof partition !== 'number')
      throw new Error(`${node}: Q.STATS ${queue} → ${describeReply(reply)}, no partition`);
    this.#partitions.set(queue, partition);
    return partition;
  }

  /**
   * The leader of each partition, from `RAFT.INFO <partition>` on every node: once every node
   * hosting it names the same leader, that node says role:leader, and the group has
   * min(replicas, nodes) voters and no learner. Otherwise why not, in words.
   */
  async #leaders(partitions: ReadonlySet<number>): Promise<Map<number, string> | string> {
    const c = this.cluster;
    const ids = c.running();
    const want = Math.min(this.replicas, ids.length);
    const leaders = new Map<number, string>();
    for (const p of partitions) {
      // A node without a replica of the group answers an error: not a host.
      const infos = await Promise.all(
        ids.map((id) => c.info(id, ['RAFT.INFO', String(p)]).catch(() => undefined)),
      );
      const hosts = ids.filter((_, k) => infos[k] !== undefined);
      const named = ids.flatMap((id, k) =>
        infos[k] === undefined ? [] : [`${id}→${infos[k].get('leader_id') || '?'}`],
      );
      const [leader, ...others] = new Set(
        infos.flatMap((f) => (f === undefined ? [] : [f.get('leader_id') ?? ''])),
      );
      const own = leader === undefined ? undefined : infos[ids.indexOf(leader)];
      const voters = (own?.get('voters') ?? '').split(',').filter((v) => v !== '');
      if (hosts.length !== want) return `partition ${p} has ${hosts.length} of ${want} replicas`;
      if (others.length > 0 || leader === undefined || leader === '' || own === undefined)
        return `partition ${p}: leaders seen ${named.join(' ')}`;
      if (own.get('role') !== 'leader') return `partition ${p}: ${leader} says role:${own.get('role')}`;
      if (voters.length !== want || (own.get('learners') ?? '') !== '')
        return `partition ${p}: voters ${own.get('voters')}, learners ${own.get('learners') || 'none'}`;
      leaders.set(p, leader);
    }
    return leaders;
  }
}

function finishLane(r: QueueLaneResult): void {
  if (r.status !== 'ok' || r.runs.length === 0) return;
  const m = (pick: (run: QueueRun) => number): number => median(r.runs.map(pick));
  r.opsPerSec = m((x) => x.opsPerSec);
  r.messagesPerSec = m((x) => x.messagesPerSec);
  r.p50Ms = m((x) => x.p50Ms);
  r.p99Ms = m((x) => x.p99Ms);
}

function judge(ours: QueueLaneResult, redis: QueueLaneResult, rounds: number): void {
  if (ours.status !== 'ok' || ours.messagesPerSec === undefined) return;
  if (redis.status === 'ok' && ours.runs.length === rounds && redis.runs.length === rounds) {
    ours.roundRatios = ours.runs.map((x, i) => x.messagesPerSec / redis.runs[i]!.messagesPerSec);
    ours.roundP99Ratios = ours.runs.map((x, i) => x.p99Ms / redis.runs[i]!.p99Ms);
    ours.ratio = median(ours.roundRatios);
    ours.p99Ratio = median(ours.roundP99Ratios);
  }
  const missed: string[] = [];
  if (ours.workload === 'push') {
    if (ours.messagesPerSec < QUEUES_TARGET_PUSHES) missed.push('pushes/s');
    if (ours.p99Ms! > QUEUES_TARGET_PUSH_P99_MS) missed.push('p99');
  } else if (ours.messagesPerSec < QUEUES_TARGET_POP_ACK) {
    missed.push('msgs/s');
  }
  ours.missed = missed;
  ours.verdict = missed.length === 0 ? 'PASS' : 'BELOW';
}

export async function runQueuesSuite(opts: QueuesOptions): Promise<QueuesResult> {
  const batch: QueueWorkload = `pop+ack COUNT ${POP_BATCH}`;
  const lane = (
    id: QueueLaneId,
    system: QueueLaneResult['system'],
    workload: QueueWorkload,
    label: string,
    command: string,
    target?: string,
  ): Lane => ({
    result: {
      lane: id,
      system,
      workload,
      label,
      command,
      status: 'ok',
      runs: [],
      endpoints: [],
      ...(target === undefined ? {} : { target }),
    },
  });
  const pushTarget = `≥ ${QUEUES_TARGET_PUSHES.toLocaleString('en-US')} pushes/s, p99 ≤ ${QUEUES_TARGET_PUSH_P99_MS} ms`;
  const popTarget = `≥ ${QUEUES_TARGET_POP_ACK.toLocaleString('en-US')} msgs/s`;
  const lsPush = 'Q.PUSH bq<i> <100 B>';
  const redisPushCommand = 'XADD bq<i> * p <100 B>';
  const lsPopCommand = (count: number): string =>
    `Q.POP bc<i>${count === 1 ? '' : ` COUNT ${count}`} + Q.ACK bc<i> <id${count === 1 ? '' : 's'}>`;
  const redisPopCommand = (count: number): string =>
    `XREADGROUP GROUP g c<i> COUNT ${count} STREAMS bc<i> > + XACK bc<i> g <id${count === 1 ? '' : 's'}>`;
  // biome-ignore format: one lane per line
  const pushLeader = lane('lockstep-push-leader', 'lockstep', 'push', 'push via partition leader', lsPush, pushTarget);
  // biome-ignore format: one lane per line
  const pushAny = lane('lockstep-push-any', 'lockstep', 'push', 'push via any node (i % 3, forwarded)', lsPush, pushTarget);
  const redisPushLane = lane('redis-push', 'redis', 'push', 'redis-server XADD', redisPushCommand);
  const popAck = lane('lockstep-pop-ack', 'lockstep', 'pop+ack', 'pop+ack', lsPopCommand(1), popTarget);
  const redisPopAck = lane(
    'redis-pop-ack',
    'redis',
    'pop+ack',
    'redis-server XREADGROUP+XACK',
    redisPopCommand(1),
  );
  // biome-ignore format: one lane per line
  const popAckBatch = lane('lockstep-pop-ack-batch', 'lockstep', batch, `pop+ack COUNT ${POP_BATCH}`, lsPopCommand(POP_BATCH), `${popTarget} (batched)`);
  // biome-ignore format: one lane per line
  const redisPopAckBatch = lane('redis-pop-ack-batch', 'redis', batch, `redis-server XREADGROUP COUNT ${POP_BATCH}+XACK`, redisPopCommand(POP_BATCH));
  // biome-ignore format: one lane per line
  const rabbit = lane('rabbitmq-quorum', 'rabbitmq', 'push', 'RabbitMQ quorum queue', 'basic.publish with confirms; basic.get + basic.ack');
  const lanes = [
    pushLeader,
    pushAny,
    redisPushLane,
    popAck,
    redisPopAck,
    popAckBatch,
    redisPopAckBatch,
    rabbit,
  ];
  const lockstepLanes = [pushLeader, pushAny, popAck, popAckBatch];
  const redisLanes = [redisPushLane, redisPopAck, redisPopAckBatch];

  skipLane(
    rabbit,
    which('rabbitmq-server') === undefined
      ? 'RabbitMQ is not installed on this machine (no rabbitmq-server); comparison skipped'
      : 'the harness has no AMQP client; comparison skipped',
  );

  let cluster: BenchCluster | undefined;
  let redis: ManagedProcess | undefined;
  try {
    cluster = await startLockstepLanes(opts, lockstepLanes);
    if (cluster !== undefined) {
      const c = cluster;
      const routing = new QueueRouting(c, replicasOf(opts.nodeArgs));
      const estimates = new Map<number, Estimate>();
      const guarded = (run: (pids: Record<string, number>) => Promise<QueueRun>): Promise<QueueRun> =>
        withNodePids(c, opts.signal, run);
      pushLeader.run = (runMs) =>
        guarded(async (pids) =>
          pushRun(
            lockstepPush,
            await routing.viaLeader(pushQueue, opts.clients, opts.signal),
            pids,
            runMs,
            opts,
          ),
        );
      pushAny.run = (runMs) =>
        guarded(async (pids) =>
          pushRun(
            lockstepPush,
            await routing.viaAny(pushQueue, opts.clients, opts.signal),
            pids,
            runMs,
            opts,
          ),
        );
      const pop = (count: number) => (runMs: number) =>
        guarded(async (pids) => {
          const placement = await routing.viaLeader(popQueue, opts.clients, opts.signal);
          const estimate = estimates.get(count) ?? { perSec: FIRST_GUESS_PER_SEC[count]!, measured: false };
          estimates.set(count, estimate);
          return popAckRun(lockstepPop, placement, pids, count, estimate, runMs, opts);
        });
      popAck.run = pop(1);
      popAckBatch.run = pop(POP_BATCH);
    }

    if (which('redis-server') === undefined) {
      for (const l of redisLanes) skipLane(l, 'redis-server not installed; comparison skipped');
      opts.log('redis-server: not installed, the redis comparison is skipped');
    } else {
      try {
        const [port] = await freePorts(1);
        redis = await startRedisServer({
          port: port!,
          dir: path.join(opts.workDir, 'redis'),
          appendfsync: 'always',
        });
        opts.log(`redis-server: port ${port}, appendonly yes, appendfsync always`);
        const r = redis;
        const pids = { 'redis-server': r.pid };
        const placement: Placement = { ports: new Array<number>(opts.clients).fill(r.port), endpoint: '' };
        const estimates = new Map<number, Estimate>();
        const guarded = async (run: () => Promise<QueueRun>): Promise<QueueRun> => {
          if (r.hasExited()) throw new Error('redis-server exited');
          return run();
        };
        redisPushLane.run = (runMs) => guarded(() => pushRun(redisPush, placement, pids, runMs, opts));
        const pop = (count: number) => (runMs: number) =>
          guarded(() => {
            const estimate = estimates.get(count) ?? { perSec: FIRST_GUESS_PER_SEC[count]!, measured: false };
            estimates.set(count, estimate);
            return popAckRun(redisPop, placement, pids, count, estimate, runMs, opts);
          });
        redisPopAck.run = pop(1);
        redisPopAckBatch.run = pop(POP_BATCH);
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`redis-server: ${errorMessage(error)}`);
        for (const l of redisLanes)
          failLane(l, `redis-server did not start: ${errorMessage(error).split('\n')[0]}`);
      }
    }

    const once = async (l: Lane, runMs: number): Promise<QueueRun | undefined> => {
      if (l.run === undefined) return undefined;
      try {
        return await l.run(runMs);
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`[queues] ${l.result.label}: ${errorMessage(error)}`);
        failLane(l, errorMessage(error).split('\n')[0]!);
        return undefined;
      }
    };
    const describe = (run: QueueRun): string =>
      `${Math.round(run.opsPerSec).toLocaleString('en-US')} ops/s` +
      (run.messagesPerSec === run.opsPerSec
        ? ''
        : ` (${Math.round(run.messagesPerSec).toLocaleString('en-US')} msgs/s)`) +
      `, p50 ${run.p50Ms.toFixed(2)} p99 ${run.p99Ms.toFixed(2)} ms` +
      (run.popP99Ms === undefined
        ? ''
        : `, pop p99 ${run.popP99Ms.toFixed(2)} ack p99 ${run.ackP99Ms!.toFixed(2)} ms, ${run.prefillPerQueue} waiting per queue`) +
      `, ops per client ${run.clientOpsMin}–${run.clientOpsMax}` +
      `; CPU % of a core: ${Object.entries(run.cpuPercent)
        .map(([name, pct]) => `${name} ${pct.toFixed(0)}`)
        .join(', ')}`;

    for (const l of lanes) {
      const run = await once(l, opts.warmupMs);
      if (run !== undefined) opts.log(`[queues] ${l.result.label}, warm-up: ${describe(run)}`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const l of lanes) {
        const run = await once(l, opts.runMs);
        if (run === undefined) continue;
        l.result.runs.push(run);
        if (run.endpoint !== '') l.result.endpoints.push(run.endpoint);
        const where = run.endpoint === '' ? '' : ` (${run.endpoint})`;
        opts.log(`[queues] ${l.result.label}, round ${round}/${opts.rounds}${where}: ${describe(run)}`);
      }
    }
  } finally {
    if (redis !== undefined) await stop(redis);
    if (cluster !== undefined) await cluster.stop();
    opts.onCluster(undefined);
  }

  for (const l of lanes) finishLane(l.result);
  judge(pushLeader.result, redisPushLane.result, opts.rounds);
  judge(pushAny.result, redisPushLane.result, opts.rounds);
  judge(popAck.result, redisPopAck.result, opts.rounds);
  judge(popAckBatch.result, redisPopAckBatch.result, opts.rounds);
  return {
    clients: opts.clients,
    rounds: opts.rounds,
    runMs: opts.runMs,
    warmupMs: opts.warmupMs,
    payloadBytes: QUEUE_PAYLOAD_BYTES,
    popBatch: POP_BATCH,
    nodeArgs: opts.nodeArgs,
    lanes: lanes.map((l) => l.result),
  };
}
