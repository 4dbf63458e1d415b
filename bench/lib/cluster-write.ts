/**
 * Replicated write throughput: `RAFT.NOOP 0` (an empty entry through Raft group 0, replied
 * once applied) on a local 3-node lockstep cluster with `--fsync always`, loaded by
 * redis-benchmark at 50 clients through the leader and through a follower (which forwards to
 * the leader); and, in the same run, puts through the v3 JSON gateway of a local 3-member etcd
 * (which fsyncs its WAL before acknowledging) loaded by autocannon at 50 connections.
 *
 * One warm-up run per lane, then N rounds, each one run of every lane in a fixed order
 * (leader, follower, etcd), so drift on the machine falls on all lanes alike. Each lane's
 * figures are medians over its rounds; the ratios are medians of per-round ratios, as in
 * bench/lib/compare.ts.
 */
import path from 'node:path';
import { runHttpLoad } from './autocannon-load.js';
import { failLane, skipLane, startLockstepLanes } from './cluster-harness.js';
import {
  type BenchCluster,
  type ClusterSuiteOptions,
  errorMessage,
  NOOP_COMMAND,
} from './cluster-lockstep.js';
import { median } from './compare.js';
import {
  etcdLeader,
  etcdPutBody,
  etcdPutOnce,
  etcdVersion,
  startEtcdCluster,
  stopEtcdCluster,
} from './etcd.js';
import { lockstepMissingReason, which } from './processes.js';
import { custom, type LoadResult, runRedisBenchmark } from './redis-benchmark.js';

export const WRITE_TARGET_RATIO = 2;
const ETCD_SIZE = 3;
const WARMUP_DIVISOR = 5;
const MIN_WARMUP = 500;

export interface WriteOptions extends ClusterSuiteOptions {
  rounds: number;
  requests: number;
  clients: number;
  runTimeoutMs: number;
}

export interface LaneResult {
  lane: 'leader' | 'follower' | 'etcd';
  label: string;
  command: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  rounds: LoadResult[];
  /** Which node (or member) each round ran against. */
  endpoints: string[];
  rps?: number;
  p50LatencyMs?: number;
  p99LatencyMs?: number;
  /** lockstep lanes only, when etcd ran too: per-round lockstep / etcd, and their medians. */
  roundRpsRatios?: number[];
  roundP99Ratios?: number[];
  rpsRatio?: number;
  p99Ratio?: number;
  verdict?: 'PASS' | 'BELOW';
}

export interface WriteResult {
  requests: number;
  clients: number;
  rounds: number;
  etcdVersion?: string;
  nodeArgs: readonly string[];
  lanes: LaneResult[];
}

interface Lane {
  result: LaneResult;
  /** One load run; returns the result and the endpoint it ran against. */
  run?: (requests: number) => Promise<{ load: LoadResult; endpoint: string }>;
}

function finishLane(lane: Lane): void {
  const r = lane.result;
  if (r.status !== 'ok') return;
  r.rps = median(r.rounds.map((x) => x.rps));
  r.p50LatencyMs = median(r.rounds.map((x) => x.p50LatencyMs));
  r.p99LatencyMs = median(r.rounds.map((x) => x.p99LatencyMs));
}

function compareWithEtcd(ours: LaneResult, etcd: LaneResult, rounds: number): void {
  if (ours.status !== 'ok' || etcd.status !== 'ok') return;
  if (ours.rounds.length !== rounds || etcd.rounds.length !== rounds) return;
  ours.roundRpsRatios = ours.rounds.map((x, i) => x.rps / etcd.rounds[i]!.rps);
  ours.roundP99Ratios = ours.rounds.map((x, i) => x.p99LatencyMs / etcd.rounds[i]!.p99LatencyMs);
  ours.rpsRatio = median(ours.roundRpsRatios);
  ours.p99Ratio = median(ours.roundP99Ratios);
  ours.verdict = ours.rpsRatio >= WRITE_TARGET_RATIO && ours.p99Ratio < 1 ? 'PASS' : 'BELOW';
}

export async function runWriteSuite(opts: WriteOptions): Promise<WriteResult> {
  const command = NOOP_COMMAND.join(' ');
  const version = etcdVersion();
  const leaderLane: Lane = {
    result: {
      lane: 'leader',
      label: 'lockstep via leader',
      command,
      status: 'ok',
      rounds: [],
      endpoints: [],
    },
  };
  const followerLane: Lane = {
    result: {
      lane: 'follower',
      label: 'lockstep via follower, forwarded',
      command,
      status: 'ok',
      rounds: [],
      endpoints: [],
    },
  };
  const etcdLane: Lane = {
    result: {
      lane: 'etcd',
      label: version === undefined ? 'etcd via leader' : `etcd ${version} via leader`,
      command: 'POST /v3/kv/put (JSON gateway)',
      status: 'ok',
      rounds: [],
      endpoints: [],
    },
  };
  const lockstepLanes = [leaderLane, followerLane];
  const lanes = [leaderLane, followerLane, etcdLane];

  let cluster: BenchCluster | undefined;
  let etcd: Awaited<ReturnType<typeof startEtcdCluster>> | undefined;
  try {
    // lockstep: three nodes, then the two lanes share them.
    const missing =
      which('redis-benchmark') === undefined ? 'redis-benchmark not installed' : lockstepMissingReason();
    cluster = await startLockstepLanes(opts, lockstepLanes, missing);
    if (cluster !== undefined) {
      const c = cluster;
      const viaNode = async (entry: 'leader' | 'follower', requests: number) => {
        // Leadership may move between runs: ask again before each one.
        const leader = await c.waitStable({ timeoutMs: 10_000, signal: opts.signal });
        const id = entry === 'leader' ? leader : c.running().find((n) => n !== leader)!;
        try {
          const load = await runRedisBenchmark({
            port: c.port(id),
            clients: opts.clients,
            pipeline: 1,
            requests,
            command: custom(...NOOP_COMMAND),
            timeoutMs: opts.runTimeoutMs,
            signal: opts.signal,
          });
          return { load, endpoint: entry === 'leader' ? id : `${id}→${leader}` };
        } catch (error) {
          const down = c.ids.filter((n) => !c.cluster.isRunning(n));
          const note = down.length > 0 ? ` (not running: ${down.join(', ')})` : '';
          throw new Error(`${errorMessage(error)}${note}\n${c.logTails()}`);
        }
      };
      leaderLane.run = (requests) => viaNode('leader', requests);
      followerLane.run = (requests) => viaNode('follower', requests);
    }

    // etcd: three members; the load goes to whichever is leader at the time of the run.
    if (version === undefined) {
      skipLane(etcdLane, 'etcd not installed (Debian: apt-get install etcd-server); comparison skipped');
      opts.log('etcd: not installed, the etcd comparison is skipped');
    } else {
      try {
        etcd = await startEtcdCluster({
          workDir: path.join(opts.workDir, 'etcd'),
          size: ETCD_SIZE,
          log: opts.log,
        });
        await etcdPutOnce(await etcdLeader(etcd), 'lockstep-bench-check', 'x');
        const e = etcd;
        etcdLane.run = async (requests) => {
          const leader = await etcdLeader(e);
          const load = await runHttpLoad({
            url: `${leader.clientUrl}/v3/kv/put`,
            body: etcdPutBody('lockstep-bench', 'x'),
            connections: opts.clients,
            requests,
            timeoutMs: opts.runTimeoutMs,
            signal: opts.signal,
          });
          return { load, endpoint: leader.name };
        };
      } catch (error) {
        if (opts.signal.aborted) throw error;
        opts.log(`etcd: ${errorMessage(error)}`);
        failLane(etcdLane, `etcd did not start: ${errorMessage(error).split('\n')[0]}`);
      }
    }

    const once = async (lane: Lane, requests: number): Promise<LoadResult | undefined> => {
      if (lane.run === undefined) return undefined;
      try {
        const { load, endpoint } = await lane.run(requests);
        lane.result.endpoints.push(endpoint);
        return load;
      } catch (error) {
        if (opts.signal.aborted) throw error;
        // A lockstep error carries the nodes' last log lines; the table keeps its first line.
        opts.log(`[write] ${lane.result.label}: ${errorMessage(error)}`);
        failLane(lane, errorMessage(error).split('\n')[0]!);
        return undefined;
      }
    };

    const warmup = Math.max(MIN_WARMUP, Math.round(opts.requests / WARMUP_DIVISOR));
    for (const lane of lanes) {
      const load = await once(lane, warmup);
      lane.result.endpoints.length = 0;
      if (load !== undefined) opts.log(`[write] ${lane.result.label} warm-up: ${Math.round(load.rps)} rps`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      for (const lane of lanes) {
        const load = await once(lane, opts.requests);
        if (load === undefined) continue;
        lane.result.rounds.push(load);
        opts.log(
          `[write] ${lane.result.label} round ${round}/${opts.rounds} (${lane.result.endpoints.at(-1)}): ` +
            `${Math.round(load.rps).toLocaleString('en-US')} rps, p50 ${load.p50LatencyMs.toFixed(2)} ms, ` +
            `p99 ${load.p99LatencyMs.toFixed(2)} ms`,
        );
      }
    }
  } finally {
    if (etcd !== undefined) await stopEtcdCluster(etcd);
    if (cluster !== undefined) await cluster.stop();
    opts.onCluster(undefined);
  }

  for (const lane of lanes) finishLane(lane);
  for (const lane of lockstepLanes) compareWithEtcd(lane.result, etcdLane.result, opts.rounds);
  return {
    requests: opts.requests,
    clients: opts.clients,
    rounds: opts.rounds,
    ...(version === undefined ? {} : { etcdVersion: version }),
    nodeArgs: opts.nodeArgs,
    lanes: lanes.map((l) => l.result),
  };
}
