/**
 * Lock throughput (issue 6, acceptance 4): acquire+release pairs per second on a local 3-node
 * lockstep cluster, 50 clients each on its own lock ("distinct", uncontended) and 50 clients on
 * 10 hot locks ("hot", 5 clients per lock), against the nearest etcd equivalent in the same
 * run.
 *
 * lockstep: every client has its own RESP connection (bench/lib/resp-client.ts, no pipelining)
 * and loops `LOCK.ACQUIRE <name> OWNER c<i> TTL 10000 WAIT 5000`, then
 * `LOCK.RELEASE <name> OWNER c<i>`; name `k<i>` (distinct) or `hot<i % 10>` (hot). Through the
 * group-0 leader, and (distinct only) through a follower, which forwards to the leader.
 *
 * etcd: a 3-member cluster, the v3 JSON gateway on the leader, one keep-alive HTTP/1.1
 * connection per client (bench/lib/http-client.ts). Acquire = `POST /v3/kv/txn` with compare
 * `create_revision(key) == 0` and success `put(key, owner)`; when it fails (hot locks), retry
 * after a short random pause until it succeeds or 5 s have passed (lockstep's WAIT). Release =
 * `POST /v3/kv/deleterange` of the key. A lease-less txn lock: cheaper than etcd's own
 * `concurrency.Mutex` recipe (which also grants a lease, keeps it alive, and watches its
 * predecessor instead of polling), so the comparison favours etcd.
 *
 * Runs are time-bounded: clients start pairs until the run's time is up, the pairs in flight
 * are finished, and the run lasts from the start until the last answer. A "pair" is one
 * acquire that got the lock plus its release; "ops" counts the two commands of a pair
 * (ops/s = 2 × pairs/s). Pair latency: acquire sent (first attempt, for etcd) → release
 * answered. Command latency: each command on its own (for etcd's hot locks, every txn attempt,
 * including the failed ones).
 *
 * Sanity checks that fail the run: a lockstep token not above the last one seen on that lock,
 * an etcd release that found the key already gone, any error reply or HTTP status but 200.
 *
 * One warm-up run per lane, then rounds of every lane in a fixed order (lockstep distinct via
 * leader, via follower, etcd distinct, lockstep hot, etcd hot), so drift on the machine falls
 * on all lanes alike. Each lane's figures are medians over its rounds; ratios against etcd are
 * medians of per-round ratios, as in the rest of the harness.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantile } from './autocannon-load.js';
import {
  CONNECT_TIMEOUT_MS,
  cpuMeter,
  failLane,
  skipLane,
  startLockstepLanes,
  withNodePids,
} from './cluster-harness.js';
import { type BenchCluster, type ClusterSuiteOptions, errorMessage } from './cluster-lockstep.js';
import { median } from './compare.js';
import {
  type EtcdCluster,
  type EtcdMember,
  etcdLeader,
  etcdVersion,
  startEtcdCluster,
  stopEtcdCluster,
} from './etcd.js';
import { HttpConnection } from './http-client.js';
import { describeReply, RespConnection } from './resp-client.js';

/** Uncontended target: single commands (acquire or release) per second, via the leader. */
export const LOCKS_TARGET_OPS = 10_000;
/** Uncontended target: p99 of a single command, ms. */
export const LOCKS_TARGET_P99_MS = 10;
export const LOCK_TTL_MS = 10_000;
export const LOCK_WAIT_MS = 5_000;
/** etcd, hot locks: pause before retrying a txn that did not get the lock, uniform in [min, max) ms. */
export const ETCD_RETRY_MS: readonly [number, number] = [1, 3];
const ETCD_SIZE = 3;
const ETCD_PREFIX = 'lockstep-bench-lock/';
/** Client-side timeout of one command: longer than any WAIT, so only a stuck server hits it. */
const COMMAND_TIMEOUT_MS = LOCK_WAIT_MS + 10_000;

export type Workload = 'distinct' | 'hot';
export type LockLaneId =
  | 'lockstep-distinct-leader'
  | 'lockstep-distinct-follower'
  | 'etcd-distinct'
  | 'lockstep-hot-leader'
  | 'etcd-hot';

export interface LocksOptions extends ClusterSuiteOptions {
  rounds: number;
  /** Length of one measured run, ms. */
  runMs: number;
  /** Length of the warm-up run of each lane, ms. */
  warmupMs: number;
  clients: number;
  hotLocks: number;
  /** etcd, hot locks: pause before a retry, uniform in [min, max) ms (default ETCD_RETRY_MS). */
  etcdRetryMs?: readonly [number, number];
}

/** One time-bounded run of one lane. */
export interface LockRun {
  endpoint: string;
  seconds: number;
  pairs: number;
  pairsPerSec: number;
  /** 2 × pairsPerSec: the acquire and the release of each pair. */
  opsPerSec: number;
  /** Every command sent, including etcd's failed txn attempts, per second. */
  requestsPerSec: number;
  pairP50Ms: number;
  pairP99Ms: number;
  pairMaxMs: number;
  commandP50Ms: number;
  commandP99Ms: number;
  acquireP50Ms: number;
  acquireP99Ms: number;
  releaseP50Ms: number;
  releaseP99Ms: number;
  /** Acquires that ended without the lock (lockstep: nil after WAIT; etcd: 5 s of failed attempts). */
  notGranted: number;
  /** etcd: txn attempts that did not get the lock and were retried. */
  retries: number;
  /** Fewest and most pairs one client completed: how evenly a hot lock was shared. */
  clientPairsMin: number;
  clientPairsMax: number;
  /**
   * CPU used during the run, in % of one core: `harness` (the load generator, this process)
   * and each server process by node or member name. From /proc; absent where unreadable.
   */
  cpuPercent: Record<string, number>;
}

export interface LockLaneResult {
  lane: LockLaneId;
  system: 'lockstep' | 'etcd';
  workload: Workload;
  label: string;
  /** What one pair sends. */
  pair: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  runs: LockRun[];
  endpoints: string[];
  pairsPerSec?: number;
  opsPerSec?: number;
  pairP50Ms?: number;
  pairP99Ms?: number;
  commandP50Ms?: number;
  commandP99Ms?: number;
  /** lockstep lanes, when etcd ran the same workload: per-round lockstep / etcd, and medians. */
  roundPairRatios?: number[];
  roundPairP99Ratios?: number[];
  pairRatio?: number;
  pairP99Ratio?: number;
  /**
   * distinct: ≥ LOCKS_TARGET_OPS single ops/s, command p99 ≤ LOCKS_TARGET_P99_MS, and more
   * pairs/s than etcd (when etcd ran); hot: more pairs/s than etcd.
   */
  verdict?: 'PASS' | 'BELOW';
  /** Which parts of the target were missed. */
  missed?: string[];
  /** distinct only: the strict reading, ≥ 10,000 pairs/s with pair p99 ≤ 10 ms (and ahead of etcd). */
  strictVerdict?: 'PASS' | 'BELOW';
}

export interface LocksResult {
  clients: number;
  hotLocks: number;
  rounds: number;
  runMs: number;
  warmupMs: number;
  ttlMs: number;
  waitMs: number;
  etcdRetryMs: readonly [number, number];
  etcdVersion?: string;
  nodeArgs: readonly string[];
  lanes: LockLaneResult[];
}

interface Samples {
  acquire: number[];
  release: number[];
  pairs: number[];
  /** Pairs completed by each client. */
  perClient: number[];
  notGranted: number;
  retries: number;
}

interface Lane {
  result: LockLaneResult;
  run?: (runMs: number) => Promise<LockRun>;
}

const lockName = (workload: Workload, client: number, hotLocks: number): string =>
  workload === 'distinct' ? `k${client}` : `hot${client % hotLocks}`;

/**
 * Runs `clients` loops until `runMs` have passed (each finishes the pair it is in) and turns
 * their samples into a LockRun. The first client error stops the others and fails the run.
 */
async function drive(
  clients: number,
  runMs: number,
  signal: AbortSignal,
  endpoint: string,
  pids: Record<string, number>,
  client: (i: number, samples: Samples, live: () => boolean) => Promise<void>,
): Promise<LockRun> {
  const samples: Samples = {
    acquire: [],
    release: [],
    pairs: [],
    perClient: new Array<number>(clients).fill(0),
    notGranted: 0,
    retries: 0,
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
  if (samples.pairs.length === 0) throw new Error('no acquire+release pair completed');
  const sorted = (values: number[]): number[] => values.sort((a, b) => a - b);
  const pairs = sorted(samples.pairs);
  const acquire = sorted(samples.acquire);
  const release = sorted(samples.release);
  const commands = sorted([...acquire, ...release]);
  const pairsPerSec = pairs.length / seconds;
  return {
    endpoint,
    seconds,
    pairs: pairs.length,
    pairsPerSec,
    opsPerSec: 2 * pairsPerSec,
    requestsPerSec: commands.length / seconds,
    pairP50Ms: quantile(pairs, 0.5),
    pairP99Ms: quantile(pairs, 0.99),
    pairMaxMs: pairs.at(-1)!,
    commandP50Ms: quantile(commands, 0.5),
    commandP99Ms: quantile(commands, 0.99),
    acquireP50Ms: quantile(acquire, 0.5),
    acquireP99Ms: quantile(acquire, 0.99),
    releaseP50Ms: quantile(release, 0.5),
    releaseP99Ms: quantile(release, 0.99),
    notGranted: samples.notGranted,
    retries: samples.retries,
    clientPairsMin: Math.min(...samples.perClient),
    clientPairsMax: Math.max(...samples.perClient),
    cpuPercent,
  };
}

/**
 * Fencing tokens as the harness sees them: a grant on a lock is only possible after the
 * previous holder has read its own grant and sent its release, so the tokens of one lock must
 * arrive strictly increasing.
 */
class TokenWatch {
  readonly #last = new Map<string, number>();

  granted(name: string, client: number, token: number): void {
    const last = this.#last.get(name) ?? -1;
    if (token <= last) throw new Error(`${name}: token ${token} granted to c${client} is not above ${last}`);
    this.#last.set(name, token);
  }
}

async function lockstepRun(
  port: number,
  endpoint: string,
  pids: Record<string, number>,
  workload: Workload,
  runMs: number,
  opts: LocksOptions,
): Promise<LockRun> {
  const connections = await Promise.all(
    Array.from({ length: opts.clients }, () => RespConnection.connect(port, CONNECT_TIMEOUT_MS)),
  );
  const tokens = new TokenWatch();
  try {
    return await drive(opts.clients, runMs, opts.signal, endpoint, pids, async (i, samples, live) => {
      const connection = connections[i]!;
      const name = lockName(workload, i, opts.hotLocks);
      const owner = `c${i}`;
      // biome-ignore format: one command per line
      const acquire = ['LOCK.ACQUIRE', name, 'OWNER', owner, 'TTL', String(LOCK_TTL_MS), 'WAIT', String(LOCK_WAIT_MS)];
      const release = ['LOCK.RELEASE', name, 'OWNER', owner];
      while (live()) {
        const t0 = performance.now();
        const token = await connection.command(acquire, COMMAND_TIMEOUT_MS);
        const t1 = performance.now();
        samples.acquire.push(t1 - t0);
        if (token === null) {
          samples.notGranted++;
          continue;
        }
        if (typeof token !== 'number') throw new Error(`${acquire.join(' ')} → ${describeReply(token)}`);
        tokens.granted(name, i, token);
        const released = await connection.command(release, COMMAND_TIMEOUT_MS);
        const t2 = performance.now();
        samples.release.push(t2 - t1);
        if (released !== 1) throw new Error(`${release.join(' ')} → ${describeReply(released)}, not 1`);
        samples.pairs.push(t2 - t0);
        samples.perClient[i]!++;
      }
    });
  } finally {
    for (const connection of connections) connection.close();
  }
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** `[prefix, prefix+1)`: every key under the prefix, for deleterange. */
function prefixRange(prefix: string): { key: string; range_end: string } {
  const end = Buffer.from(prefix);
  end[end.length - 1]! += 1;
  return { key: b64(prefix), range_end: end.toString('base64') };
}

async function etcdRun(
  member: EtcdMember,
  pids: Record<string, number>,
  workload: Workload,
  runMs: number,
  opts: LocksOptions,
): Promise<LockRun> {
  const port = member.clientPort;
  const [retryMin, retryMax] = opts.etcdRetryMs ?? ETCD_RETRY_MS;
  const connections = await Promise.all(
    Array.from({ length: opts.clients }, () => HttpConnection.connect(port, CONNECT_TIMEOUT_MS)),
  );
  try {
    // Leftovers of an aborted run would hold locks forever (no lease): start from no keys.
    const clear = await connections[0]!.send(
      HttpConnection.postRequest(port, '/v3/kv/deleterange', JSON.stringify(prefixRange(ETCD_PREFIX))),
      COMMAND_TIMEOUT_MS,
    );
    if (clear.status !== 200)
      throw new Error(`etcd deleterange of ${ETCD_PREFIX}: HTTP ${clear.status} ${clear.body}`);
    return await drive(opts.clients, runMs, opts.signal, member.name, pids, async (i, samples, live) => {
      const connection = connections[i]!;
      const name = lockName(workload, i, opts.hotLocks);
      const key = b64(`${ETCD_PREFIX}${name}`);
      const acquire = HttpConnection.postRequest(
        port,
        '/v3/kv/txn',
        JSON.stringify({
          compare: [{ key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
          success: [{ request_put: { key, value: b64(`c${i}`) } }],
        }),
      );
      const release = HttpConnection.postRequest(port, '/v3/kv/deleterange', JSON.stringify({ key }));
      while (live()) {
        const t0 = performance.now();
        let granted = false;
        for (;;) {
          const sent = performance.now();
          const response = await connection.send(acquire, COMMAND_TIMEOUT_MS);
          const answered = performance.now();
          samples.acquire.push(answered - sent);
          if (response.status !== 200)
            throw new Error(`etcd txn on ${name}: HTTP ${response.status} ${response.body}`);
          if ((JSON.parse(response.body) as { succeeded?: boolean }).succeeded === true) {
            granted = true;
            break;
          }
          if (answered - t0 >= LOCK_WAIT_MS) break;
          samples.retries++;
          await sleep(retryMin + Math.random() * (retryMax - retryMin));
        }
        if (!granted) {
          samples.notGranted++;
          continue;
        }
        const t1 = performance.now();
        const response = await connection.send(release, COMMAND_TIMEOUT_MS);
        const t2 = performance.now();
        samples.release.push(t2 - t1);
        if (response.status !== 200)
          throw new Error(`etcd deleterange of ${name}: HTTP ${response.status} ${response.body}`);
        // Our key must still have been there: deleted "1".
        if ((JSON.parse(response.body) as { deleted?: string }).deleted !== '1') {
          throw new Error(
            `etcd deleterange of ${name} by c${i}: the key was already gone (${response.body})`,
          );
        }
        samples.pairs.push(t2 - t0);
        samples.perClient[i]!++;
      }
    });
  } finally {
    for (const connection of connections) connection.close();
  }
}

function finishLane(r: LockLaneResult): void {
  if (r.status !== 'ok' || r.runs.length === 0) return;
  const m = (pick: (run: LockRun) => number): number => median(r.runs.map(pick));
  r.pairsPerSec = m((x) => x.pairsPerSec);
  r.opsPerSec = m((x) => x.opsPerSec);
  r.pairP50Ms = m((x) => x.pairP50Ms);
  r.pairP99Ms = m((x) => x.pairP99Ms);
  r.commandP50Ms = m((x) => x.commandP50Ms);
  r.commandP99Ms = m((x) => x.commandP99Ms);
}

function judge(ours: LockLaneResult, etcd: LockLaneResult | undefined, rounds: number): void {
  if (ours.status !== 'ok' || ours.pairsPerSec === undefined) return;
  const compared = etcd?.status === 'ok' && ours.runs.length === rounds && etcd.runs.length === rounds;
  if (compared) {
    ours.roundPairRatios = ours.runs.map((x, i) => x.pairsPerSec / etcd.runs[i]!.pairsPerSec);
    ours.roundPairP99Ratios = ours.runs.map((x, i) => x.pairP99Ms / etcd.runs[i]!.pairP99Ms);
    ours.pairRatio = median(ours.roundPairRatios);
    ours.pairP99Ratio = median(ours.roundPairP99Ratios);
  }
  const behindEtcd = ours.pairRatio !== undefined && ours.pairRatio <= 1;
  const missed: string[] = [];
  if (ours.workload === 'distinct') {
    if (ours.opsPerSec! < LOCKS_TARGET_OPS) missed.push('ops/s');
    if (ours.commandP99Ms! > LOCKS_TARGET_P99_MS) missed.push('p99');
    if (behindEtcd) missed.push('vs etcd');
    const strict =
      ours.pairsPerSec >= LOCKS_TARGET_OPS && ours.pairP99Ms! <= LOCKS_TARGET_P99_MS && !behindEtcd;
    ours.strictVerdict = strict ? 'PASS' : 'BELOW';
  } else {
    // No absolute target for contended locks: only "ahead of etcd", which needs etcd figures.
    if (ours.pairRatio === undefined) return;
    if (behindEtcd) missed.push('vs etcd');
  }
  ours.missed = missed;
  ours.verdict = missed.length === 0 ? 'PASS' : 'BELOW';
}

export async function runLocksSuite(opts: LocksOptions): Promise<LocksResult> {
  const version = etcdVersion();
  const lockstepPair = (workload: Workload): string =>
    `LOCK.ACQUIRE ${workload === 'distinct' ? 'k<i>' : `hot<i % ${opts.hotLocks}>`} OWNER c<i> TTL ${LOCK_TTL_MS} WAIT ${LOCK_WAIT_MS} + LOCK.RELEASE`;
  const etcdPair = 'txn create_revision = 0 → put (retry), deleterange';
  const lane = (
    id: LockLaneId,
    system: 'lockstep' | 'etcd',
    workload: Workload,
    label: string,
    pair: string,
  ): Lane => ({ result: { lane: id, system, workload, label, pair, status: 'ok', runs: [], endpoints: [] } });
  const etcdLabel = version === undefined ? 'etcd via leader' : `etcd ${version} via leader`;
  const distinctLeader = lane(
    'lockstep-distinct-leader',
    'lockstep',
    'distinct',
    'lockstep via leader',
    lockstepPair('distinct'),
  );
  const distinctFollower = lane(
    'lockstep-distinct-follower',
    'lockstep',
    'distinct',
    'lockstep via follower, forwarded',
    lockstepPair('distinct'),
  );
  const etcdDistinct = lane('etcd-distinct', 'etcd', 'distinct', etcdLabel, etcdPair);
  const hotLeader = lane(
    'lockstep-hot-leader',
    'lockstep',
    'hot',
    'lockstep via leader',
    lockstepPair('hot'),
  );
  const etcdHot = lane('etcd-hot', 'etcd', 'hot', etcdLabel, etcdPair);
  const lanes = [distinctLeader, distinctFollower, etcdDistinct, hotLeader, etcdHot];
  const lockstepLanes = [distinctLeader, distinctFollower, hotLeader];

  let cluster: BenchCluster | undefined;
  let etcd: EtcdCluster | undefined;
  try {
    cluster = await startLockstepLanes(opts, lockstepLanes);
    if (cluster !== undefined) {
      const c = cluster;
      const viaNode = async (
        entry: 'leader' | 'follower',
        workload: Workload,
        runMs: number,
      ): Promise<LockRun> => {
        // Leadership may move between runs: ask again before each one.
        const leader = await c.waitStable({ timeoutMs: 10_000, signal: opts.signal });
        const id = entry === 'leader' ? leader : c.running().find((n) => n !== leader)!;
        return withNodePids(c, opts.signal, (pids) =>
          lockstepRun(c.port(id), entry === 'leader' ? id : `${id}→${leader}`, pids, workload, runMs, opts),
        );
      };
      distinctLeader.run = (runMs) => viaNode('leader', 'distinct', runMs);
      distinctFollower.run = (runMs) => viaNode('follower', 'distinct', runMs);
      hotLeader.run = (runMs) => viaNode('leader', 'hot', runMs);
    }

    if (version === undefined) {
      const reason = 'etcd not installed (Debian: apt-get install etcd-server); comparison skipped';
      skipLane(etcdDistinct, reason);
      skipLane(etcdHot, reason);
      opts.log('etcd: not installed, the etcd comparison is skipped');
    } else {
      try {
        etcd = await startEtcdCluster({
          workDir: path.join(opts.workDir, 'etcd'),
          size: ETCD_SIZE,
          log: opts.log,
        });
        const e = etcd;
        const pids = Object.fromEntries(e.members.map((m) => [m.name, m.proc.pid]));
        const viaLeader = async (workload: Workload, runMs: number): Promise<LockRun> =>
          etcdRun(await etcdLeader(e), pids, workload, runMs, opts);
        etcdDistinct.run = (runMs) => viaLeader('distinct', runMs);
        etcdHot.run = (runMs) => viaLeader('hot', runMs);
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`etcd: ${errorMessage(error)}`);
        failLane(etcdDistinct, `etcd did not start: ${errorMessage(error).split('\n')[0]}`);
        failLane(etcdHot, `etcd did not start: ${errorMessage(error).split('\n')[0]}`);
      }
    }

    const once = async (l: Lane, runMs: number): Promise<LockRun | undefined> => {
      if (l.run === undefined) return undefined;
      try {
        return await l.run(runMs);
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`[locks] ${l.result.label}, ${l.result.workload}: ${errorMessage(error)}`);
        failLane(l, errorMessage(error).split('\n')[0]!);
        return undefined;
      }
    };
    const describe = (run: LockRun): string =>
      `${Math.round(run.pairsPerSec).toLocaleString('en-US')} pairs/s (${Math.round(run.opsPerSec).toLocaleString('en-US')} ops/s), ` +
      `pair p50 ${run.pairP50Ms.toFixed(2)} p99 ${run.pairP99Ms.toFixed(2)} ms, ` +
      `command p50 ${run.commandP50Ms.toFixed(2)} p99 ${run.commandP99Ms.toFixed(2)} ms` +
      (run.retries > 0 ? `, ${run.retries} retries` : '') +
      (run.notGranted > 0 ? `, ${run.notGranted} not granted` : '') +
      `, pairs per client ${run.clientPairsMin}–${run.clientPairsMax}` +
      `; CPU % of a core: ${Object.entries(run.cpuPercent)
        .map(([name, pct]) => `${name} ${pct.toFixed(0)}`)
        .join(', ')}`;

    for (const l of lanes) {
      const run = await once(l, opts.warmupMs);
      if (run !== undefined)
        opts.log(`[locks] ${l.result.label}, ${l.result.workload}, warm-up: ${describe(run)}`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const l of lanes) {
        const run = await once(l, opts.runMs);
        if (run === undefined) continue;
        l.result.runs.push(run);
        l.result.endpoints.push(run.endpoint);
        opts.log(
          `[locks] ${l.result.label}, ${l.result.workload}, round ${round}/${opts.rounds} (${run.endpoint}): ${describe(run)}`,
        );
      }
    }
  } finally {
    if (etcd !== undefined) await stopEtcdCluster(etcd);
    if (cluster !== undefined) await cluster.stop();
    opts.onCluster(undefined);
  }

  for (const l of lanes) finishLane(l.result);
  judge(distinctLeader.result, etcdDistinct.result, opts.rounds);
  judge(distinctFollower.result, etcdDistinct.result, opts.rounds);
  judge(hotLeader.result, etcdHot.result, opts.rounds);
  return {
    clients: opts.clients,
    hotLocks: opts.hotLocks,
    rounds: opts.rounds,
    runMs: opts.runMs,
    warmupMs: opts.warmupMs,
    ttlMs: LOCK_TTL_MS,
    waitMs: LOCK_WAIT_MS,
    etcdRetryMs: opts.etcdRetryMs ?? ETCD_RETRY_MS,
    ...(version === undefined ? {} : { etcdVersion: version }),
    nodeArgs: opts.nodeArgs,
    lanes: lanes.map((l) => l.result),
  };
}
