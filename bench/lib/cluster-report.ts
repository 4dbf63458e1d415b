/** The Markdown the cluster benchmarks print (and bench/README.md quotes). */
import {
  FAILOVER_MIN_TRIALS,
  FAILOVER_TARGET_MEDIAN_MS,
  FAILOVER_TARGET_WORST_MS,
  type FailoverResult,
} from './cluster-failover.js';
import {
  LOCKS_TARGET_OPS,
  LOCKS_TARGET_P99_MS,
  type LockLaneResult,
  type LocksResult,
} from './cluster-locks.js';
import {
  QUEUES_TARGET_POP_ACK,
  QUEUES_TARGET_PUSH_P99_MS,
  QUEUES_TARGET_PUSHES,
  type QueueLaneResult,
  type QueuesResult,
} from './cluster-queues.js';
import { type LaneResult, WRITE_TARGET_RATIO, type WriteResult } from './cluster-write.js';
import type { MachineInfo } from './report.js';

export interface ClusterRunSummary {
  generatedAt: string;
  machine: MachineInfo & { etcd: string };
  quick: boolean;
  durationMs: number;
  write?: WriteResult;
  failover?: FailoverResult;
  locks?: LocksResult;
  queues?: QueuesResult;
}

const rps = (value: number): string => Math.round(value).toLocaleString('en-US');
const ms = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const flags = (args: readonly string[]): string => (args.length === 0 ? 'defaults' : `\`${args.join(' ')}\``);

function laneRow(lane: LaneResult, notes: string[]): string {
  const note = (): string => {
    notes.push(`${lane.label} ${lane.status}: ${lane.reason ?? 'no reason given'}`);
    return `${lane.status} [${notes.length}]`;
  };
  const endpoints = [...new Set(lane.endpoints)].join(', ');
  const label = endpoints === '' ? lane.label : `${lane.label} (${endpoints})`;
  if (lane.status !== 'ok') return `| ${label} | ${lane.command} | ${note()} | — | — | — | — | — |`;
  const ratios =
    lane.rpsRatio === undefined
      ? ['—', '—', lane.lane === 'etcd' ? '(reference)' : '— (no etcd figures)']
      : [`${lane.rpsRatio.toFixed(2)}×`, `${lane.p99Ratio!.toFixed(2)}×`, lane.verdict!];
  return `| ${label} | ${lane.command} | ${rps(lane.rps!)} | ${ms(lane.p50LatencyMs!)} | ${ms(lane.p99LatencyMs!)} | ${ratios.join(' | ')} |`;
}

export function writeMarkdown(result: WriteResult, summary: ClusterRunSummary): string {
  const m = summary.machine;
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}, ` +
    `redis-benchmark ${m.redisBenchmark}, etcd ${m.etcd}, autocannon 8 for etcd; ` +
    `3 lockstep nodes (flags: ${flags(result.nodeArgs)}) and 3 etcd members on loopback, ` +
    `${result.clients} clients, ${rps(result.requests)} requests per run, median of ${result.rounds} ` +
    `alternating round${result.rounds === 1 ? '' : 's'}${summary.quick ? ' (`--quick`)' : ''}; ` +
    `load average ${m.loadAverageAtStart} at start. Everything shares the same cores.`;
  const notes: string[] = [];
  const rows = result.lanes.map((lane) => laneRow(lane, notes));
  return [
    '### Replicated writes: lockstep RAFT.NOOP vs etcd put',
    '',
    context,
    '',
    `| target | request | rps | p50 ms | p99 ms | rps vs etcd | p99 vs etcd | verdict (≥ ${WRITE_TARGET_RATIO}× rps and lower p99) |`,
    '|---|---|--:|--:|--:|--:|--:|---|',
    ...rows,
    ...(notes.length > 0 ? ['', ...notes.map((n, i) => `- [${i + 1}] ${n}`)] : []),
  ].join('\n');
}

export function failoverMarkdown(result: FailoverResult, summary: ClusterRunSummary): string {
  const m = summary.machine;
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}; ` +
    `3 lockstep nodes on loopback (flags: ${flags(result.nodeArgs)}); per trial kill -9 the group-0 leader, ` +
    `then RAFT.NOOP through a survivor (${result.attemptTimeoutMs} ms per attempt, ${result.retryPauseMs} ms ` +
    `pause after an error reply) until one succeeds; load average ${m.loadAverageAtStart} at start.`;
  const target = `median ≤ ${FAILOVER_TARGET_MEDIAN_MS} ms, worst ≤ ${FAILOVER_TARGET_WORST_MS} ms, ≥ ${FAILOVER_MIN_TRIALS} trials`;
  const header = [
    '### Failover: kill -9 the meta leader, first write through a survivor',
    '',
    context,
    '',
    `| trials | median ms | p90 ms | worst ms | failed trials | verdict (${target}) |`,
    '|--:|--:|--:|--:|--:|---|',
  ];
  const notes: string[] = [];
  if (result.status !== 'ok') notes.push(`failover ${result.status}: ${result.reason ?? 'no reason given'}`);
  const done = `${result.trials.length}${result.trials.length < result.requestedTrials ? ` of ${result.requestedTrials}` : ''}`;
  const cell = (value: number | undefined): string => (value === undefined ? '—' : value.toFixed(0));
  let verdict = result.verdict ?? '—';
  if (result.trials.length < FAILOVER_MIN_TRIALS && result.verdict !== undefined)
    verdict += ' (too few trials)';
  if (notes.length > 0) verdict += ` · ${result.status} [1]`;
  const row = `| ${done} | ${cell(result.medianMs)} | ${cell(result.p90Ms)} | ${cell(result.worstMs)} | ${result.failed} | ${verdict} |`;
  const times = result.trials.map((t) => (t.elapsedMs === undefined ? 'failed' : t.elapsedMs.toFixed(0)));
  const detail = times.length === 0 ? [] : ['', `Every trial, ms: ${times.join(', ')}.`];
  return [...header, row, ...detail, ...(notes.length > 0 ? ['', `- [1] ${notes[0]}`] : [])].join('\n');
}

function lockRow(lane: LockLaneResult, notes: string[]): string {
  const endpoints = [...new Set(lane.endpoints)].join(', ');
  const label = endpoints === '' ? lane.label : `${lane.label} (${endpoints})`;
  const workload = lane.workload === 'distinct' ? 'distinct locks' : 'hot locks';
  if (lane.status !== 'ok' || lane.pairsPerSec === undefined) {
    notes.push(`${lane.label}, ${workload} ${lane.status}: ${lane.reason ?? 'no measured round'}`);
    return `| ${label} | ${workload} | ${lane.status} [${notes.length}] | — | — | — | — | — | — |`;
  }
  let versus = ['—', '—'];
  if (lane.pairRatio !== undefined)
    versus = [`${lane.pairRatio.toFixed(2)}×`, `${lane.pairP99Ratio!.toFixed(2)}×`];
  else if (lane.system === 'etcd') versus = ['(reference)', ''];
  let verdict = '— (no etcd figures)';
  if (lane.system === 'etcd') verdict = '';
  else if (lane.verdict !== undefined) {
    verdict = lane.verdict === 'PASS' ? 'PASS' : `BELOW (${lane.missed!.join(', ')})`;
    if (lane.strictVerdict !== undefined) verdict += ` · strict ${lane.strictVerdict}`;
  } else if (lane.strictVerdict !== undefined) verdict += ` · strict ${lane.strictVerdict}`;
  return (
    `| ${label} | ${workload} | ${rps(lane.pairsPerSec)} | ${rps(lane.opsPerSec!)} | ` +
    `${ms(lane.pairP50Ms!)} / ${ms(lane.pairP99Ms!)} | ${ms(lane.commandP50Ms!)} / ${ms(lane.commandP99Ms!)} | ` +
    `${versus.join(' | ')} | ${verdict} |`
  );
}

export function locksMarkdown(result: LocksResult, summary: ClusterRunSummary): string {
  const m = summary.machine;
  const seconds = (value: number): string => `${Number((value / 1000).toFixed(1))} s`;
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}, etcd ${m.etcd}; ` +
    `3 lockstep nodes (flags: ${flags(result.nodeArgs)}) and 3 etcd members on loopback, ${result.clients} clients ` +
    `(own connection each, no pipelining; the load runs in the harness process, Node, for both), ` +
    `${seconds(result.runMs)} per run after a ${seconds(result.warmupMs)} warm-up, median of ${result.rounds} ` +
    `alternating round${result.rounds === 1 ? '' : 's'}${summary.quick ? ' (`--quick`)' : ''}; ` +
    `load average ${m.loadAverageAtStart} at start. Everything shares the same cores.`;
  const method =
    `A pair is one acquire that got the lock plus its release; ops/s = 2 × pairs/s. Pair latency: acquire sent → ` +
    `release answered; command latency: each command alone. lockstep: \`LOCK.ACQUIRE <name> OWNER c<i> TTL ` +
    `${result.ttlMs} WAIT ${result.waitMs}\` then \`LOCK.RELEASE <name> OWNER c<i>\`, name \`k<i>\` (distinct) or ` +
    `\`hot<i % ${result.hotLocks}>\` (hot). etcd: a lease-less txn lock through the JSON gateway — \`/v3/kv/txn\` ` +
    `if create_revision(key) = 0 then put(key, owner), retried after ${result.etcdRetryMs[0]}–${result.etcdRetryMs[1]} ms ` +
    `while it fails (hot locks; every attempt counts in its command latency), release \`/v3/kv/deleterange\` — ` +
    `the nearest equivalent, and cheaper than etcd's lease-based \`concurrency.Mutex\` recipe, so the comparison ` +
    `favours etcd.`;
  const notes: string[] = [];
  const rows = result.lanes.map((lane) => lockRow(lane, notes));
  return [
    '### Locks: acquire+release pairs, lockstep LOCK.* vs an etcd txn lock',
    '',
    context,
    '',
    method,
    '',
    `| target | workload | pairs/s | ops/s | pair p50 / p99 ms | command p50 / p99 ms | pairs/s vs etcd | pair p99 vs etcd | verdict |`,
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
    ...rows,
    '',
    `Verdict, distinct locks: ≥ ${rps(LOCKS_TARGET_OPS)} ops/s (single commands) with command p99 ≤ ` +
      `${LOCKS_TARGET_P99_MS} ms and more pairs/s than etcd; "strict" reads the target as ≥ ` +
      `${rps(LOCKS_TARGET_OPS)} pairs/s with pair p99 ≤ ${LOCKS_TARGET_P99_MS} ms (and ahead of etcd). ` +
      `Hot locks: more pairs/s than etcd.`,
    ...(notes.length > 0 ? ['', ...notes.map((n, i) => `- [${i + 1}] ${n}`)] : []),
  ].join('\n');
}

/** One row per lockstep lane, with the redis lane of the same workload beside it; RabbitMQ apart. */
function queueRow(lane: QueueLaneResult, redis: QueueLaneResult | undefined, notes: string[]): string {
  const note = (l: QueueLaneResult): string => {
    notes.push(`${l.label} ${l.status}: ${l.reason ?? 'no measured round'}`);
    return `${l.status} [${notes.length}]`;
  };
  const endpoints = [...new Set(lane.endpoints)].join('; ');
  const label = endpoints === '' ? lane.label : `${lane.label} (${endpoints})`;
  const unit = lane.workload === 'push' ? 'pushes/s' : lane.workload === 'pop+ack' ? 'pairs/s' : 'msgs/s';
  const ours =
    lane.status !== 'ok' || lane.messagesPerSec === undefined
      ? [note(lane), '—', '—']
      : [`${rps(lane.messagesPerSec)} ${unit}`, ms(lane.p50Ms!), ms(lane.p99Ms!)];
  let theirs = ['—', '—'];
  if (redis !== undefined) {
    theirs =
      redis.status !== 'ok' || redis.messagesPerSec === undefined
        ? [note(redis), '—']
        : [`${rps(redis.messagesPerSec)} ${unit}`, `${ms(redis.p50Ms!)} / ${ms(redis.p99Ms!)}`];
  }
  const ratio =
    lane.ratio === undefined ? '—' : `${lane.ratio.toFixed(2)}× (p99 ${lane.p99Ratio!.toFixed(2)}×)`;
  let verdict = lane.verdict ?? '—';
  if (lane.verdict === 'BELOW') verdict += ` (${lane.missed!.join(', ')})`;
  return `| ${label} | ${ours.join(' | ')} | ${theirs.join(' | ')} | ${ratio} | ${lane.target ?? '—'} | ${verdict} |`;
}

export function queuesMarkdown(result: QueuesResult, summary: ClusterRunSummary): string {
  const m = summary.machine;
  const seconds = (value: number): string => `${Number((value / 1000).toFixed(1))} s`;
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}, ` +
    `redis-server ${m.redisServer}; 3 lockstep nodes (flags: ${flags(result.nodeArgs)}) on loopback against one ` +
    `redis-server (\`--appendonly yes --appendfsync always --save ''\`, no replication), ${result.clients} clients ` +
    `(own connection and own queue each, one command at a time; the load runs in the harness process, Node, for ` +
    `both), ${result.payloadBytes}-byte payloads, ${seconds(result.runMs)} per run after a ` +
    `${seconds(result.warmupMs)} warm-up, median of ${result.rounds} alternating round${result.rounds === 1 ? '' : 's'}` +
    `${summary.quick ? ' (`--quick`)' : ''}; load average ${m.loadAverageAtStart} at start. Everything shares the same cores.`;
  const method =
    `push: \`Q.PUSH bq<i> <payload>\` vs \`XADD bq<i> * p <payload>\`, latency per push. pop+ack: \`Q.POP bc<i>\` ` +
    `then \`Q.ACK bc<i> <id>\` vs \`XREADGROUP GROUP g c<i> COUNT 1 STREAMS bc<i> >\` then \`XACK bc<i> g <id>\`, ` +
    `latency pop sent → ack answered; COUNT ${result.popBatch}: the same with up to ${result.popBatch} messages per pop ` +
    `and one ack of their ids, counted in messages. Queues are pre-filled before each pop run (untimed). lockstep ` +
    `clients connect to the leader of their queue's partition, except "via any node": node i % 3, which forwards ` +
    `when it does not lead it. redis-server is one node without replication; XACK leaves the entry in the stream ` +
    `where Q.ACK deletes the message.`;
  const byLane = new Map(result.lanes.map((l) => [l.lane, l]));
  const peer: Record<string, QueueLaneResult['lane']> = {
    'lockstep-push-leader': 'redis-push',
    'lockstep-push-any': 'redis-push',
    'lockstep-pop-ack': 'redis-pop-ack',
    'lockstep-pop-ack-batch': 'redis-pop-ack-batch',
  };
  const notes: string[] = [];
  const rows = result.lanes
    .filter((l) => l.system !== 'redis')
    .map((l) => {
      const redis = peer[l.lane] === undefined ? undefined : byLane.get(peer[l.lane]!);
      return queueRow(l, redis, notes);
    });
  return [
    '### Queues: replicated durable pushes and pop+ack, lockstep Q.* vs redis-server streams',
    '',
    context,
    '',
    method,
    '',
    '| lane | lockstep rate | p50 ms | p99 ms | redis rate | redis p50 / p99 ms | vs redis (p99) | target | verdict |',
    '|---|--:|--:|--:|--:|--:|--:|---|---|',
    ...rows,
    '',
    `Targets (issue 7): pushes ≥ ${rps(QUEUES_TARGET_PUSHES)}/s with p99 ≤ ${QUEUES_TARGET_PUSH_P99_MS} ms, ` +
      `pop+ack ≥ ${rps(QUEUES_TARGET_POP_ACK)}/s; the COUNT ${result.popBatch} row reads the latter in messages. ` +
      `vs redis: median of per-round lockstep / redis (rate, and p99 in brackets); redis has no target.`,
    ...(notes.length > 0 ? ['', ...notes.map((n, i) => `- [${i + 1}] ${n}`)] : []),
  ].join('\n');
}

export function clusterMarkdown(summary: ClusterRunSummary): string {
  const parts: string[] = [];
  if (summary.write !== undefined) parts.push(writeMarkdown(summary.write, summary));
  if (summary.failover !== undefined) parts.push(failoverMarkdown(summary.failover, summary));
  if (summary.locks !== undefined) parts.push(locksMarkdown(summary.locks, summary));
  if (summary.queues !== undefined) parts.push(queuesMarkdown(summary.queues, summary));
  return parts.join('\n\n');
}
