/**
 * Coherent cache (issue 8, acceptance 4): `CACHE.GET` local hits under redis-benchmark against
 * redis-server `GET` in the same run, and a read-mostly mixed load from all 3 nodes with the
 * cache's own figures (hit ratio, invalidations, writebacks, coherence latency).
 *
 * lockstep: the suites' local 3-node cluster (cluster-lockstep.ts, the harness's base flags;
 * `--fsync always` does not touch the cache, which is in memory), node cache defaults (MESI,
 * 64 MB per node). Before any run the harness waits until `CACHE.SET` succeeds on every node
 * (a node answers -TRYAGAIN while the cache ring settles) and every node reports the same
 * cache epoch.
 * - GET local hit, -c 50: `CACHE.SET bk <100 B>` once on n1 (n1 then holds bk in M), then
 *   `redis-benchmark -c 50 -n N CACHE.GET bk` against n1. Around every run the harness reads
 *   n1's `CACHE.STATS` (hits, misses) and after it `CACHE.STATE bk` on n1: the run counts as
 *   local hits when bk is still M or E there, hits rose by at least N and misses did not rise.
 * - GET local hit, -P 16: the same with `-P 16` and 10 × N requests.
 * - mixed 90/10: 50 clients, client i on node i % 3, each with its own RESP connection
 *   (bench/lib/resp-client.ts, one command at a time), closed loop; each operation picks one
 *   of K keys `mk<j>` uniformly and sends `CACHE.GET mk<j>` (90%) or `CACHE.SET mk<j> <100 B>`
 *   (10%). The choices come from a seeded PRNG per client and run, so the redis side of the
 *   same round replays the same sequence. Every key is written once before the first run
 *   (untimed). Around every run the harness reads `CACHE.STATS` on every node: the counters'
 *   change over the run, the mean coherence latency over the run (from the change of mean ×
 *   count) and the coherence p99 after it (the node's histogram has no reset: it covers the
 *   node's life, dominated by this lane's misses and upgrades).
 *
 * redis-server (7.0, `startRedisServer` without persistence: `--appendonly no --save ''`; no
 * replication, no coherence): `SET bk <100 B>` once, then `redis-benchmark GET bk` with the same
 * flags; and the same mixed load with `GET`/`SET` on the same 50-connection client.
 *
 * Order: one warm-up run per lane (a fifth of the requests, at least 1,000; mixed: the warm-up
 * time), then rounds of every lane in a fixed order that alternates with the peer (lockstep GET,
 * redis GET, lockstep -P 16, redis -P 16, lockstep mixed, redis mixed). Figures are medians over
 * the rounds; ratios are medians of per-round lockstep / redis ratios.
 *
 * Checks that fail a run: an error reply, a CACHE.SET/SET not answered OK, a GET answered with
 * anything but a 100-byte value or nil (nil is counted: it means a line was lost to a ring
 * change, which should not happen on a stable cluster).
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
import { custom, type LoadResult, runRedisBenchmark } from './redis-benchmark.js';
import { describeReply, type Reply, type RespConnection } from './resp-client.js';

/** CACHE.GET local hits at -c 50, unpipelined: at least this × redis-server GET. */
export const CACHE_TARGET_RATIO = 0.8;
/** The same with -P 16. */
export const CACHE_TARGET_RATIO_PIPELINED = 0.5;
export const CACHE_PIPELINE = 16;
/** The -P 16 lane runs this many times the requests of the unpipelined one. */
export const CACHE_PIPELINED_FACTOR = 10;
export const CACHE_VALUE_BYTES = 100;
/** Share of the mixed load's operations that are reads. */
export const CACHE_READ_SHARE = 0.9;
/** The key of the GET lanes. */
export const CACHE_HIT_KEY = 'bk';
/** Line states in which a read is a local hit that stays one (no one else holds the line). */
const EXCLUSIVE_STATES = new Set(['M', 'E']);
const COMMAND_TIMEOUT_MS = 10_000;
/** How long to wait for the cache to serve on every node once the cluster is stable. */
const CACHE_READY_TIMEOUT_MS = 30_000;
/** Writes in flight per connection while pre-populating the mixed load's keys. */
const FILL_BATCH = 200;
const WARMUP_DIVISOR = 5;
const MIN_WARMUP_REQUESTS = 1_000;
/** Round ratios further apart than this (max / min) mark the row as noisy, as in compare.ts. */
const NOISY_SPREAD = 1.25;

export type CacheWorkload = 'get-hit' | 'get-hit-pipelined' | 'mixed';
export type CacheLaneId =
  | 'lockstep-get'
  | 'redis-get'
  | 'lockstep-get-pipelined'
  | 'redis-get-pipelined'
  | 'lockstep-mixed'
  | 'redis-mixed';

export interface CacheOptions extends ClusterSuiteOptions {
  rounds: number;
  /** redis-benchmark requests per run of the unpipelined GET lanes (× CACHE_PIPELINED_FACTOR with -P 16). */
  requests: number;
  /** Per redis-benchmark invocation. */
  runTimeoutMs: number;
  /** Length of one measured mixed run, ms. */
  runMs: number;
  /** Length of the mixed lanes' warm-up run, ms. */
  warmupMs: number;
  clients: number;
  /** Keys of the mixed load, chosen uniformly. */
  keys: number;
}

/**
 * One node's `CACHE.STATS` over one run (or summed over runs): counters are changes, the p99
 * is the value after the run.
 */
export interface CacheNodeFigures {
  node: string;
  hits: number;
  misses: number;
  /** hits / (hits + misses); undefined without reads. */
  hitRatio?: number;
  invalidationsSent: number;
  invalidationsReceived: number;
  forwardsSent: number;
  forwardsReceived: number;
  writebacks: number;
  evictions: number;
  messagesSent: number;
  coherenceRequests: number;
  /** Mean coherence latency of the requests made during the run(s), ms. */
  coherenceMeanMs?: number;
  /** `coherence_latency_p99_ms` after the run: the node's histogram since it started. */
  coherenceP99Ms: number;
  epochChanges: number;
  timeouts: number;
}

/** GET lanes, lockstep: what n1 says about the key after the run. */
export interface HitCheck {
  node: string;
  /** `CACHE.STATE bk` → state on the node, and the key's home. */
  state: string;
  home: string;
  requests: number;
  /** Changes of the node's `hits`, `misses` and `messages_sent` over the run. */
  hits: number;
  misses: number;
  messagesSent: number;
  /** Still M or E, hits ≥ requests, no miss. */
  ok: boolean;
}

/** One run of one lane. */
export interface CacheRun {
  endpoint: string;
  seconds: number;
  /** Requests (GET lanes) or operations completed (mixed). */
  ops: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** GET lanes: redis-benchmark's row. */
  load?: LoadResult;
  hitCheck?: HitCheck;
  /** mixed lanes. */
  gets?: number;
  sets?: number;
  /** Reads answered nil (a line lost to a ring change). */
  nils?: number;
  getP99Ms?: number;
  setP99Ms?: number;
  clientOpsMin?: number;
  clientOpsMax?: number;
  /** mixed lane, lockstep: `CACHE.STATS` of every node over the run. */
  nodes?: CacheNodeFigures[];
  /** CPU used during the run, in % of one core: each server process (and the harness, mixed). */
  cpuPercent: Record<string, number>;
}

export interface CacheLaneResult {
  lane: CacheLaneId;
  system: 'lockstep' | 'redis';
  workload: CacheWorkload;
  label: string;
  /** What one operation sends. */
  command: string;
  clients: number;
  pipeline: number;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  runs: CacheRun[];
  endpoints: string[];
  /** Medians over the rounds. */
  opsPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** lockstep lanes, when redis ran the same workload: per-round lockstep / redis, and medians. */
  roundRatios?: number[];
  roundP99Ratios?: number[];
  ratio?: number;
  p99Ratio?: number;
  /** Largest round ratio / smallest; noisy above NOISY_SPREAD. */
  ratioSpread?: number;
  noisy?: boolean;
  /** lockstep GET lanes: the target ratio, in words and as a number, and the verdict. */
  target?: string;
  targetRatio?: number;
  verdict?: 'PASS' | 'BELOW';
  missed?: string[];
  /** lockstep GET lanes: every measured round passed its hit check. */
  localHits?: boolean;
  /** lockstep mixed lane: `CACHE.STATS` summed over the measured rounds, per node, then `all`. */
  cacheTotals?: CacheNodeFigures[];
}

export interface CacheResult {
  clients: number;
  rounds: number;
  requests: number;
  pipelinedRequests: number;
  pipeline: number;
  runMs: number;
  warmupMs: number;
  valueBytes: number;
  keys: number;
  readShare: number;
  keyChoice: string;
  nodeArgs: readonly string[];
  redisFlags: string;
  lanes: CacheLaneResult[];
}

interface Lane {
  result: CacheLaneResult;
  /** One run: the warm-up (shorter) or a measured one; `index` seeds the mixed load. */
  run?: (warmup: boolean, index: number) => Promise<CacheRun>;
}

/** The GET lanes' value. */
const HIT_VALUE = `${CACHE_HIT_KEY}:`.padEnd(CACHE_VALUE_BYTES, 'v');
const mixedKey = (j: number): string => `mk${j}`;
/** A 100-byte value naming who wrote it: client, its operation number. */
const mixedValue = (tag: string): string => `${tag}:`.padEnd(CACHE_VALUE_BYTES, 'x');

/** mulberry32: a small seeded PRNG, so both sides of a round replay the same choices. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A flat field/value reply (RESP2) or a map (RESP3) → its fields. */
function fieldsOf(reply: Reply): Map<string, Reply> {
  const fields = new Map<string, Reply>();
  if (reply instanceof Map) {
    for (const [k, v] of reply) fields.set(String(k), v);
  } else if (Array.isArray(reply)) {
    for (let k = 0; k + 1 < reply.length; k += 2) fields.set(String(reply[k]), reply[k + 1]!);
  }
  return fields;
}

/** `CACHE.STATS` on `node`: its numeric figures. */
async function cacheStats(c: BenchCluster, node: string): Promise<Map<string, number>> {
  const reply = await c.ask(node, ['CACHE.STATS'], COMMAND_TIMEOUT_MS);
  const numbers = new Map<string, number>();
  for (const [name, value] of fieldsOf(reply)) {
    const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
    if (Number.isFinite(n)) numbers.set(name, n);
  }
  if (!numbers.has('hits')) throw new Error(`${node}: CACHE.STATS → ${describeReply(reply)}, no hits`);
  return numbers;
}

/** `CACHE.STATE key` on `node`: the line's state and the key's home. */
async function lineState(
  c: BenchCluster,
  node: string,
  key: string,
): Promise<{ state: string; home: string }> {
  const reply = await c.ask(node, ['CACHE.STATE', key], COMMAND_TIMEOUT_MS);
  const fields = fieldsOf(reply);
  const state = fields.get('state');
  const home = fields.get('home');
  if (typeof state !== 'string' || typeof home !== 'string')
    throw new Error(`${node}: CACHE.STATE ${key} → ${describeReply(reply)}`);
  return { state, home };
}

/** Changes of a node's `CACHE.STATS` between `before` and `after`. */
function nodeFigures(
  node: string,
  before: Map<string, number>,
  after: Map<string, number>,
): CacheNodeFigures {
  const need = (stats: Map<string, number>, name: string): number => {
    const value = stats.get(name);
    if (value === undefined) throw new Error(`${node}: CACHE.STATS has no numeric ${name}`);
    return value;
  };
  const d = (name: string): number => need(after, name) - need(before, name);
  const hits = d('hits');
  const misses = d('misses');
  const coherenceRequests = d('coherence_requests');
  const sum = (stats: Map<string, number>): number =>
    need(stats, 'coherence_latency_mean_ms') * need(stats, 'coherence_requests');
  return {
    node,
    hits,
    misses,
    ...(hits + misses === 0 ? {} : { hitRatio: hits / (hits + misses) }),
    invalidationsSent: d('invalidations_sent'),
    invalidationsReceived: d('invalidations_received'),
    forwardsSent: d('forwards_sent'),
    forwardsReceived: d('forwards_received'),
    writebacks: d('writebacks'),
    evictions: d('evictions'),
    messagesSent: d('messages_sent'),
    coherenceRequests,
    ...(coherenceRequests === 0 ? {} : { coherenceMeanMs: (sum(after) - sum(before)) / coherenceRequests }),
    coherenceP99Ms: need(after, 'coherence_latency_p99_ms'),
    epochChanges: d('epoch_changes'),
    timeouts: d('timeouts'),
  };
}

/** Figures of several runs (or nodes) added up, as `node`; the p99 is the largest given. */
function addFigures(node: string, list: readonly CacheNodeFigures[]): CacheNodeFigures {
  const total = (pick: (f: CacheNodeFigures) => number): number => list.reduce((s, f) => s + pick(f), 0);
  const hits = total((f) => f.hits);
  const misses = total((f) => f.misses);
  const coherenceRequests = total((f) => f.coherenceRequests);
  const latencySum = total((f) => (f.coherenceMeanMs ?? 0) * f.coherenceRequests);
  return {
    node,
    hits,
    misses,
    ...(hits + misses === 0 ? {} : { hitRatio: hits / (hits + misses) }),
    invalidationsSent: total((f) => f.invalidationsSent),
    invalidationsReceived: total((f) => f.invalidationsReceived),
    forwardsSent: total((f) => f.forwardsSent),
    forwardsReceived: total((f) => f.forwardsReceived),
    writebacks: total((f) => f.writebacks),
    evictions: total((f) => f.evictions),
    messagesSent: total((f) => f.messagesSent),
    coherenceRequests,
    ...(coherenceRequests === 0 ? {} : { coherenceMeanMs: latencySum / coherenceRequests }),
    coherenceP99Ms: Math.max(0, ...list.map((f) => f.coherenceP99Ms)),
    epochChanges: total((f) => f.epochChanges),
    timeouts: total((f) => f.timeouts),
  };
}

/**
 * Waits until `CACHE.SET` succeeds on every node (each answers -TRYAGAIN while the cache ring
 * settles after the joins) and every node reports the same cache epoch.
 */
async function waitCacheReady(c: BenchCluster, signal: AbortSignal): Promise<number> {
  const deadline = Date.now() + CACHE_READY_TIMEOUT_MS;
  let last = 'nothing asked yet';
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    try {
      for (const node of c.running()) {
        const reply = await c.ask(node, ['CACHE.SET', `cache-bench-ready-${node}`, 'x'], COMMAND_TIMEOUT_MS);
        if (reply !== 'OK') throw new Error(`${node}: CACHE.SET → ${describeReply(reply)}`);
      }
      const epochs = await Promise.all(c.running().map(async (n) => (await cacheStats(c, n)).get('epoch')));
      const [epoch, ...others] = new Set(epochs);
      if (others.length === 0 && epoch !== undefined) return epoch;
      last = `cache epochs differ: ${c
        .running()
        .map((n, k) => `${n}:${epochs[k]}`)
        .join(' ')}`;
    } catch (error) {
      last = errorMessage(error);
      if (/unknown command/i.test(last)) break;
    }
    await sleep(100);
  }
  throw new Error(
    `the cache did not serve on every node (waited up to ${CACHE_READY_TIMEOUT_MS} ms); last: ${last}\n${c.logTails()}`,
  );
}

/** One redis-benchmark run as a CacheRun. */
function benchmarkRun(
  load: LoadResult,
  requests: number,
  endpoint: string,
  cpuPercent: Record<string, number>,
): CacheRun {
  return {
    endpoint,
    seconds: requests / load.rps,
    ops: requests,
    opsPerSec: load.rps,
    p50Ms: load.p50LatencyMs,
    p99Ms: load.p99LatencyMs,
    maxMs: load.maxLatencyMs,
    load,
    cpuPercent,
  };
}

/** redis-benchmark `-c clients -P pipeline -n requests <command>` on `port`, with the servers' CPU. */
async function benchmark(
  port: number,
  command: readonly string[],
  pipeline: number,
  requests: number,
  pids: Record<string, number>,
  opts: CacheOptions,
): Promise<{ load: LoadResult; cpuPercent: Record<string, number> }> {
  const cpu = cpuMeter(pids, false);
  const started = performance.now();
  const load = await runRedisBenchmark({
    port,
    clients: opts.clients,
    pipeline,
    requests,
    command: custom(...command),
    timeoutMs: opts.runTimeoutMs,
    signal: opts.signal,
  });
  // The process's whole life (connects included): a little low as a rate, fine for CPU shares.
  const cpuPercent = cpu.stop((performance.now() - started) / 1000);
  return { load, cpuPercent };
}

/** One side's mixed load: the read and the write of key `key`. */
interface MixedSide {
  get(key: string): string[];
  set(key: string, value: string): string[];
}

const lockstepMixed: MixedSide = {
  get: (key) => ['CACHE.GET', key],
  set: (key, value) => ['CACHE.SET', key, value],
};

const redisMixed: MixedSide = {
  get: (key) => ['GET', key],
  set: (key, value) => ['SET', key, value],
};

/**
 * Adds to a failed command's error what `explain` says about the key as seen through
 * connection `k` (lockstep: the node's line and the key's home), when it can say anything.
 */
type Explain = (k: number, key: string) => Promise<string>;

async function explained(
  error: unknown,
  k: number,
  key: string,
  explain: Explain | undefined,
): Promise<Error> {
  const why = explain === undefined ? '' : await explain(k, key).catch(() => '');
  return new Error(`${errorMessage(error)}${why}`);
}

/** Writes every key of the mixed load once (untimed), key j through connection j % connections. */
async function populate(
  side: MixedSide,
  connections: readonly RespConnection[],
  keys: number,
  signal: AbortSignal,
  explain?: Explain,
): Promise<void> {
  await Promise.all(
    connections.map(async (connection, k) => {
      const mine = Array.from({ length: keys }, (_, j) => j).filter((j) => j % connections.length === k);
      for (let at = 0; at < mine.length; at += FILL_BATCH) {
        signal.throwIfAborted();
        // Pipelined: RespConnection answers requests in order.
        await Promise.all(
          mine.slice(at, at + FILL_BATCH).map(async (j) => {
            const command = side.set(mixedKey(j), mixedValue(`init${j}`));
            let reply: Reply;
            try {
              reply = await ask(connection, command, COMMAND_TIMEOUT_MS);
            } catch (error) {
              throw await explained(error, k, mixedKey(j), explain);
            }
            if (reply !== 'OK') throw new Error(`${command[0]} ${command[1]} → ${describeReply(reply)}`);
          }),
        );
      }
    }),
  );
}

interface MixedSamples {
  ops: number[];
  gets: number[];
  sets: number[];
  nils: number;
  perClient: number[];
}

/**
 * The mixed load: `opts.clients` closed loops on `ports[i]` until `runMs` have passed (each
 * finishes the operation it is in). Client i's choices come from a PRNG seeded with the run's
 * `index` and i. The first client error stops the others and fails the run.
 */
async function mixedRun(
  side: MixedSide,
  ports: readonly number[],
  endpoint: string,
  pids: Record<string, number>,
  runMs: number,
  index: number,
  opts: CacheOptions,
  explain?: Explain,
): Promise<CacheRun> {
  const connections = await connectAll(ports);
  try {
    const samples: MixedSamples = {
      ops: [],
      gets: [],
      sets: [],
      nils: 0,
      perClient: new Array<number>(opts.clients).fill(0),
    };
    let failure: unknown;
    const cpu = cpuMeter(pids, true);
    const started = performance.now();
    const deadline = started + runMs;
    const live = (): boolean => failure === undefined && !opts.signal.aborted && performance.now() < deadline;
    await Promise.all(
      connections.map(async (connection, i) => {
        try {
          const random = prng(index * 1_000_003 + i + 1);
          for (let n = 0; live(); n++) {
            const key = mixedKey(Math.floor(random() * opts.keys));
            const read = random() < CACHE_READ_SHARE;
            const command = read ? side.get(key) : side.set(key, mixedValue(`c${i}:${index}:${n}`));
            const t0 = performance.now();
            let reply: Reply;
            try {
              reply = await ask(connection, command, COMMAND_TIMEOUT_MS);
            } catch (error) {
              throw await explained(error, i, key, explain);
            }
            const elapsed = performance.now() - t0;
            if (read) {
              if (reply === null) samples.nils++;
              else if (typeof reply !== 'string' || reply.length !== CACHE_VALUE_BYTES)
                throw new Error(
                  `${command.join(' ')} → ${describeReply(reply)}, not a ${CACHE_VALUE_BYTES}-byte value`,
                );
              samples.gets.push(elapsed);
            } else {
              if (reply !== 'OK') throw new Error(`${command[0]} ${key} → ${describeReply(reply)}, not OK`);
              samples.sets.push(elapsed);
            }
            samples.ops.push(elapsed);
            samples.perClient[i]!++;
          }
        } catch (error) {
          failure ??= error;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuPercent = cpu.stop(seconds);
    opts.signal.throwIfAborted();
    if (failure !== undefined) throw failure;
    if (samples.ops.length === 0) throw new Error('no operation completed');
    const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
    const ops = sorted(samples.ops);
    const gets = sorted(samples.gets);
    const sets = sorted(samples.sets);
    return {
      endpoint,
      seconds,
      ops: ops.length,
      opsPerSec: ops.length / seconds,
      p50Ms: quantile(ops, 0.5),
      p99Ms: quantile(ops, 0.99),
      maxMs: ops.at(-1)!,
      gets: gets.length,
      sets: sets.length,
      nils: samples.nils,
      ...(gets.length === 0 ? {} : { getP99Ms: quantile(gets, 0.99) }),
      ...(sets.length === 0 ? {} : { setP99Ms: quantile(sets, 0.99) }),
      clientOpsMin: Math.min(...samples.perClient),
      clientOpsMax: Math.max(...samples.perClient),
      cpuPercent,
    };
  } finally {
    for (const connection of connections) connection.close();
  }
}

function finishLane(r: CacheLaneResult): void {
  if (r.status !== 'ok' || r.runs.length === 0) return;
  const m = (pick: (run: CacheRun) => number): number => median(r.runs.map(pick));
  r.opsPerSec = m((x) => x.opsPerSec);
  r.p50Ms = m((x) => x.p50Ms);
  r.p99Ms = m((x) => x.p99Ms);
  const checks = r.runs.flatMap((x) => (x.hitCheck === undefined ? [] : [x.hitCheck]));
  if (checks.length > 0) r.localHits = checks.every((h) => h.ok);
  const figures = r.runs.flatMap((x) => x.nodes ?? []);
  if (figures.length > 0) {
    const nodes = [...new Set(figures.map((f) => f.node))].sort();
    const perNode = nodes.map((n) =>
      addFigures(
        n,
        figures.filter((f) => f.node === n),
      ),
    );
    // A node's p99 is its histogram after the last run, not the largest of the runs.
    const last = r.runs.at(-1)?.nodes ?? [];
    for (const f of perNode) f.coherenceP99Ms = last.find((l) => l.node === f.node)?.coherenceP99Ms ?? 0;
    r.cacheTotals = [...perNode, addFigures('all', perNode)];
  }
}

function judge(ours: CacheLaneResult, redis: CacheLaneResult, rounds: number): void {
  if (ours.status !== 'ok' || ours.opsPerSec === undefined) return;
  if (redis.status === 'ok' && ours.runs.length === rounds && redis.runs.length === rounds) {
    ours.roundRatios = ours.runs.map((x, i) => x.opsPerSec / redis.runs[i]!.opsPerSec);
    ours.roundP99Ratios = ours.runs.map((x, i) => x.p99Ms / redis.runs[i]!.p99Ms);
    ours.ratio = median(ours.roundRatios);
    ours.p99Ratio = median(ours.roundP99Ratios);
    ours.ratioSpread = Math.max(...ours.roundRatios) / Math.min(...ours.roundRatios);
    ours.noisy = ours.ratioSpread > NOISY_SPREAD;
  }
  if (ours.targetRatio === undefined) return;
  const missed: string[] = [];
  if (ours.localHits === false) missed.push('not all local hits');
  if (ours.ratio === undefined) {
    // No redis figures: a verdict only when the hit check alone already fails it.
    if (missed.length === 0) return;
  } else if (ours.ratio < ours.targetRatio) {
    missed.push('rps ratio');
  }
  ours.missed = missed;
  ours.verdict = missed.length === 0 ? 'PASS' : 'BELOW';
}

export async function runCacheSuite(opts: CacheOptions): Promise<CacheResult> {
  const pipelinedRequests = opts.requests * CACHE_PIPELINED_FACTOR;
  const lane = (
    id: CacheLaneId,
    system: CacheLaneResult['system'],
    workload: CacheWorkload,
    label: string,
    command: string,
    pipeline: number,
    targetRatio?: number,
  ): Lane => ({
    result: {
      lane: id,
      system,
      workload,
      label,
      command,
      clients: opts.clients,
      pipeline,
      status: 'ok',
      runs: [],
      endpoints: [],
      ...(targetRatio === undefined ? {} : { target: `≥ ${targetRatio}× redis GET rps`, targetRatio }),
    },
  });
  const P = CACHE_PIPELINE;
  const mixedCommand = (get: string, set: string): string =>
    `${get} mk<j> (90%) | ${set} mk<j> <${CACHE_VALUE_BYTES} B> (10%), j uniform in 0..${opts.keys - 1}`;
  // biome-ignore format: one lane per line
  const lsGet = lane('lockstep-get', 'lockstep', 'get-hit', 'GET local hit, -c 50', `CACHE.GET ${CACHE_HIT_KEY}`, 1, CACHE_TARGET_RATIO);
  // biome-ignore format: one lane per line
  const redisGet = lane('redis-get', 'redis', 'get-hit', 'redis-server GET, -c 50', `GET ${CACHE_HIT_KEY}`, 1);
  // biome-ignore format: one lane per line
  const lsGetP = lane('lockstep-get-pipelined', 'lockstep', 'get-hit-pipelined', `GET local hit, -c 50 -P ${P}`, `CACHE.GET ${CACHE_HIT_KEY}`, P, CACHE_TARGET_RATIO_PIPELINED);
  // biome-ignore format: one lane per line
  const redisGetP = lane('redis-get-pipelined', 'redis', 'get-hit-pipelined', `redis-server GET, -c 50 -P ${P}`, `GET ${CACHE_HIT_KEY}`, P);
  // biome-ignore format: one lane per line
  const lsMixed = lane('lockstep-mixed', 'lockstep', 'mixed', 'mixed 90/10', mixedCommand('CACHE.GET', 'CACHE.SET'), 1);
  // biome-ignore format: one lane per line
  const redisMixedLane = lane('redis-mixed', 'redis', 'mixed', 'redis-server mixed 90/10', mixedCommand('GET', 'SET'), 1);
  const lanes = [lsGet, redisGet, lsGetP, redisGetP, lsMixed, redisMixedLane];
  const lockstepLanes = [lsGet, lsGetP, lsMixed];
  const redisLanes = [redisGet, redisGetP, redisMixedLane];
  const benchmarkLanes = [lsGet, redisGet, lsGetP, redisGetP];
  const warmupRequests = (requests: number): number =>
    Math.max(MIN_WARMUP_REQUESTS, Math.round(requests / WARMUP_DIVISOR));

  if (which('redis-benchmark') === undefined)
    for (const l of benchmarkLanes) skipLane(l, 'redis-benchmark not installed');

  let cluster: BenchCluster | undefined;
  let redis: ManagedProcess | undefined;
  try {
    cluster = await startLockstepLanes(opts, lockstepLanes);
    if (cluster !== undefined) {
      const c = cluster;
      const guarded = (run: (pids: Record<string, number>) => Promise<CacheRun>): Promise<CacheRun> =>
        withNodePids(c, opts.signal, run);
      try {
        const epoch = await waitCacheReady(c, opts.signal);
        const n1 = c.ids[0]!;
        const set = await c.ask(n1, ['CACHE.SET', CACHE_HIT_KEY, HIT_VALUE], COMMAND_TIMEOUT_MS);
        if (set !== 'OK') throw new Error(`${n1}: CACHE.SET ${CACHE_HIT_KEY} → ${describeReply(set)}`);
        const line = await lineState(c, n1, CACHE_HIT_KEY);
        opts.log(
          `lockstep: cache serving on every node (epoch ${epoch}); ${CACHE_HIT_KEY} on ${n1}: ${line.state}, home ${line.home}`,
        );
        /** What node `node` says about `key` after a command there failed. */
        const explainLine = async (node: string, key: string): Promise<string> => {
          const line = await lineState(c, node, key);
          return ` (sent to ${node}; its CACHE.STATE ${key} now: ${line.state}, home ${line.home})`;
        };
        const connections = await connectAll(c.ids.map((n) => c.port(n)));
        try {
          await populate(lockstepMixed, connections, opts.keys, opts.signal, (k, key) =>
            explainLine(c.ids[k]!, key),
          );
        } finally {
          for (const connection of connections) connection.close();
        }
        // biome-ignore format: one line per lane
        opts.log(`lockstep: ${opts.keys} keys mk0..mk${opts.keys - 1} written, key j through ${c.ids.join('/')}[j % ${c.ids.length}]`);

        const hit = (pipeline: number, full: number) => (warmup: boolean) =>
          guarded(async (pids) => {
            const requests = warmup ? warmupRequests(full) : full;
            const before = await cacheStats(c, n1);
            const command = ['CACHE.GET', CACHE_HIT_KEY];
            const { load, cpuPercent } = await benchmark(c.port(n1), command, pipeline, requests, pids, opts);
            const after = await cacheStats(c, n1);
            const { state, home } = await lineState(c, n1, CACHE_HIT_KEY);
            const d = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
            const hits = d('hits');
            const misses = d('misses');
            const hitCheck: HitCheck = {
              node: n1,
              state,
              home,
              requests,
              hits,
              misses,
              messagesSent: d('messages_sent'),
              ok: EXCLUSIVE_STATES.has(state) && hits >= requests && misses === 0,
            };
            return { ...benchmarkRun(load, requests, n1, cpuPercent), hitCheck };
          });
        lsGet.run = hit(1, opts.requests);
        lsGetP.run = hit(P, pipelinedRequests);
        const nodes = Array.from({ length: opts.clients }, (_, i) => c.ids[i % c.ids.length]!);
        lsMixed.run = (warmup, index) =>
          guarded(async (pids) => {
            const ids = c.ids;
            const before = await Promise.all(ids.map((n) => cacheStats(c, n)));
            const run = await mixedRun(
              lockstepMixed,
              nodes.map((n) => c.port(n)),
              spread(nodes),
              pids,
              warmup ? opts.warmupMs : opts.runMs,
              index,
              opts,
              (i, key) => explainLine(nodes[i]!, key),
            );
            const after = await Promise.all(ids.map((n) => cacheStats(c, n)));
            return { ...run, nodes: ids.map((n, k) => nodeFigures(n, before[k]!, after[k]!)) };
          });
      } catch (error) {
        if (opts.signal.aborted) throw error;
        const message = errorMessage(error);
        opts.log(`lockstep: ${message}`);
        for (const l of lockstepLanes) failLane(l, `cache not ready: ${message.split('\n')[0]}`);
      }
    }

    if (which('redis-server') === undefined) {
      for (const l of redisLanes) skipLane(l, 'redis-server not installed; comparison skipped');
      opts.log('redis-server: not installed, the redis comparison is skipped');
    } else {
      try {
        const [port] = await freePorts(1);
        redis = await startRedisServer({ port: port!, dir: path.join(opts.workDir, 'redis') });
        opts.log(`redis-server: port ${port}, appendonly no, save ''`);
        const r = redis;
        const pids = { 'redis-server': r.pid };
        const guarded = async (run: () => Promise<CacheRun>): Promise<CacheRun> => {
          if (r.hasExited()) throw new Error('redis-server exited');
          return run();
        };
        const connections = await connectAll([r.port]);
        try {
          const set = await ask(connections[0]!, ['SET', CACHE_HIT_KEY, HIT_VALUE], COMMAND_TIMEOUT_MS);
          if (set !== 'OK') throw new Error(`SET ${CACHE_HIT_KEY} → ${describeReply(set)}`);
          await populate(redisMixed, connections, opts.keys, opts.signal);
        } finally {
          for (const connection of connections) connection.close();
        }
        const get = (pipeline: number, full: number) => (warmup: boolean) =>
          guarded(async () => {
            const requests = warmup ? warmupRequests(full) : full;
            const command = ['GET', CACHE_HIT_KEY];
            const { load, cpuPercent } = await benchmark(r.port, command, pipeline, requests, pids, opts);
            return benchmarkRun(load, requests, '', cpuPercent);
          });
        if (redisGet.result.status === 'ok') redisGet.run = get(1, opts.requests);
        if (redisGetP.result.status === 'ok') redisGetP.run = get(P, pipelinedRequests);
        const ports = new Array<number>(opts.clients).fill(r.port);
        redisMixedLane.run = (warmup, index) =>
          guarded(() =>
            mixedRun(redisMixed, ports, '', pids, warmup ? opts.warmupMs : opts.runMs, index, opts),
          );
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`redis-server: ${errorMessage(error)}`);
        for (const l of redisLanes)
          failLane(l, `redis-server did not start: ${errorMessage(error).split('\n')[0]}`);
      }
    }
    // Without redis-benchmark the GET lanes were skipped before any run was set.
    for (const l of benchmarkLanes) if (l.result.status !== 'ok') delete l.run;

    const once = async (l: Lane, warmup: boolean, index: number): Promise<CacheRun | undefined> => {
      if (l.run === undefined) return undefined;
      try {
        return await l.run(warmup, index);
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`[cache] ${l.result.label}: ${errorMessage(error)}`);
        failLane(l, errorMessage(error).split('\n')[0]!);
        return undefined;
      }
    };
    const describe = (run: CacheRun): string => {
      const parts = [
        `${Math.round(run.opsPerSec).toLocaleString('en-US')} ops/s`,
        `p50 ${run.p50Ms.toFixed(2)} p99 ${run.p99Ms.toFixed(2)} ms`,
      ];
      const h = run.hitCheck;
      if (h !== undefined)
        parts.push(
          `${h.node} ${CACHE_HIT_KEY}: ${h.state} (home ${h.home}), hits +${h.hits} for ${h.requests} requests, ` +
            `misses +${h.misses}, messages +${h.messagesSent}${h.ok ? '' : ' — NOT LOCAL HITS'}`,
        );
      if (run.gets !== undefined)
        parts.push(
          `${run.gets} gets (${run.nils} nil), ${run.sets} sets, ops per client ${run.clientOpsMin}–${run.clientOpsMax}`,
        );
      if (run.nodes !== undefined) {
        const all = addFigures('all', run.nodes);
        parts.push(
          `hit ratio ${all.hitRatio?.toFixed(3) ?? '—'}, invalidations sent ${all.invalidationsSent} ` +
            `received ${all.invalidationsReceived}, forwards ${all.forwardsSent}, writebacks ${all.writebacks}, ` +
            `coherence mean ${all.coherenceMeanMs?.toFixed(2) ?? '—'} ms, p99 ${run.nodes.map((f) => `${f.node} ${f.coherenceP99Ms}`).join(' ')} ms` +
            (all.epochChanges > 0 ? `, ${all.epochChanges} EPOCH CHANGES` : ''),
        );
      }
      parts.push(
        `CPU % of a core: ${Object.entries(run.cpuPercent)
          .map(([name, pct]) => `${name} ${pct.toFixed(0)}`)
          .join(', ')}`,
      );
      return parts.join(', ');
    };

    for (const l of lanes) {
      const run = await once(l, true, 0);
      if (run !== undefined) opts.log(`[cache] ${l.result.label}, warm-up: ${describe(run)}`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const l of lanes) {
        const run = await once(l, false, round);
        if (run === undefined) continue;
        l.result.runs.push(run);
        if (run.endpoint !== '') l.result.endpoints.push(run.endpoint);
        const where = run.endpoint === '' ? '' : ` (${run.endpoint})`;
        opts.log(`[cache] ${l.result.label}, round ${round}/${opts.rounds}${where}: ${describe(run)}`);
      }
    }
  } finally {
    if (redis !== undefined) await stop(redis);
    if (cluster !== undefined) await cluster.stop();
    opts.onCluster(undefined);
  }

  for (const l of lanes) finishLane(l.result);
  judge(lsGet.result, redisGet.result, opts.rounds);
  judge(lsGetP.result, redisGetP.result, opts.rounds);
  judge(lsMixed.result, redisMixedLane.result, opts.rounds);
  return {
    clients: opts.clients,
    rounds: opts.rounds,
    requests: opts.requests,
    pipelinedRequests,
    pipeline: CACHE_PIPELINE,
    runMs: opts.runMs,
    warmupMs: opts.warmupMs,
    valueBytes: CACHE_VALUE_BYTES,
    keys: opts.keys,
    readShare: CACHE_READ_SHARE,
    keyChoice: `uniform over ${opts.keys} keys, seeded PRNG per client and run (the same sequence on both sides)`,
    nodeArgs: opts.nodeArgs,
    redisFlags: "--appendonly no --save ''",
    lanes: lanes.map((l) => l.result),
  };
}
