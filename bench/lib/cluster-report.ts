/** The Markdown the cluster benchmarks print (and bench/README.md quotes). */
import {
  CACHE_HIT_KEY,
  type CacheLaneResult,
  type CacheNodeFigures,
  type CacheResult,
} from './cluster-cache.js';
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
  cache?: CacheResult;
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

/** The GET lanes' hit check over the measured rounds: n1's line state and its hit counters. */
function hitCheckCell(lane: CacheLaneResult): string {
  const checks = lane.runs.flatMap((r) => (r.hitCheck === undefined ? [] : [r.hitCheck]));
  if (checks.length === 0) return '—';
  const node = checks[0]!.node;
  const states = [...new Set(checks.map((h) => h.state))].join('/');
  const homes = [...new Set(checks.map((h) => h.home))].join('/');
  const total = (pick: (h: (typeof checks)[number]) => number): number =>
    checks.reduce((s, h) => s + pick(h), 0);
  const mark = lane.localHits === true ? '✓' : '✗ not all local hits';
  return (
    `${mark}: ${node} holds ${CACHE_HIT_KEY} in ${states} (home ${homes}); hits +${rps(total((h) => h.hits))} ` +
    `for ${rps(total((h) => h.requests))} requests, misses +${rps(total((h) => h.misses))}`
  );
}

/** One row per lockstep lane, with the redis lane of the same workload beside it. */
function cacheRow(lane: CacheLaneResult, redis: CacheLaneResult | undefined, notes: string[]): string {
  const note = (l: CacheLaneResult): string => {
    notes.push(`${l.label} ${l.status}: ${l.reason ?? 'no measured round'}`);
    return `${l.status} [${notes.length}]`;
  };
  const endpoints = [...new Set(lane.endpoints)].join('; ');
  const label = endpoints === '' ? lane.label : `${lane.label} (${endpoints})`;
  const unit = lane.workload === 'mixed' ? 'ops/s' : 'rps';
  const ours =
    lane.status !== 'ok' || lane.opsPerSec === undefined
      ? [note(lane), '—']
      : [`${rps(lane.opsPerSec)} ${unit}`, `${ms(lane.p50Ms!)} / ${ms(lane.p99Ms!)}`];
  let theirs = ['—', '—'];
  if (redis !== undefined) {
    theirs =
      redis.status !== 'ok' || redis.opsPerSec === undefined
        ? [note(redis), '—']
        : [`${rps(redis.opsPerSec)} ${unit}`, `${ms(redis.p50Ms!)} / ${ms(redis.p99Ms!)}`];
  }
  let ratio =
    lane.ratio === undefined ? '—' : `${lane.ratio.toFixed(2)}× (p99 ${lane.p99Ratio!.toFixed(2)}×)`;
  if (lane.noisy === true) ratio += ' noisy';
  let verdict = lane.verdict ?? (lane.targetRatio === undefined ? '—' : '— (no redis figures)');
  if (lane.verdict === 'BELOW') verdict += ` (${lane.missed!.join(', ')})`;
  let check = hitCheckCell(lane);
  const all = lane.cacheTotals?.find((f) => f.node === 'all');
  if (all !== undefined)
    check = `hit ratio ${all.hitRatio === undefined ? '—' : all.hitRatio.toFixed(3)} (table below)`;
  return `| ${label} | ${ours.join(' | ')} | ${theirs.join(' | ')} | ${ratio} | ${lane.target ?? '—'} | ${verdict} | ${check} |`;
}

function cacheFiguresRow(f: CacheNodeFigures): string {
  const name = f.node === 'all' ? '**all**' : f.node;
  const cells = [
    name,
    rps(f.hits),
    rps(f.misses),
    f.hitRatio === undefined ? '—' : f.hitRatio.toFixed(3),
    rps(f.invalidationsSent),
    rps(f.invalidationsReceived),
    `${rps(f.forwardsSent)} / ${rps(f.forwardsReceived)}`,
    rps(f.writebacks),
    rps(f.coherenceRequests),
    f.coherenceMeanMs === undefined ? '—' : ms(f.coherenceMeanMs),
    ms(f.coherenceP99Ms),
  ];
  return `| ${cells.join(' | ')} |`;
}

export function cacheMarkdown(result: CacheResult, summary: ClusterRunSummary): string {
  const m = summary.machine;
  const seconds = (value: number): string => `${Number((value / 1000).toFixed(1))} s`;
  const context =
    `Measured ${summary.generatedAt.slice(0, 10)} on ${m.cpuCount} × ${m.cpuModel}, Node ${m.node}, ` +
    `redis-benchmark ${m.redisBenchmark}, redis-server ${m.redisServer}; 3 lockstep nodes (flags: ` +
    `${flags(result.nodeArgs)}; cache defaults) on loopback against one redis-server (\`${result.redisFlags}\`, ` +
    `no replication, no coherence), ${result.clients} clients, ${result.valueBytes}-byte values; GET lanes: ` +
    `redis-benchmark, ${rps(result.requests)} requests per run (${rps(result.pipelinedRequests)} with ` +
    `-P ${result.pipeline}); mixed: ${seconds(result.runMs)} per run after a ${seconds(result.warmupMs)} warm-up; ` +
    `median of ${result.rounds} alternating round${result.rounds === 1 ? '' : 's'}` +
    `${summary.quick ? ' (`--quick`)' : ''}; load average ${m.loadAverageAtStart} at start. Everything shares the same cores.`;
  const method =
    `GET local hit: \`CACHE.SET ${CACHE_HIT_KEY} <value>\` once on n1, then \`redis-benchmark -c ${result.clients} ` +
    `CACHE.GET ${CACHE_HIT_KEY}\` against n1 vs \`GET ${CACHE_HIT_KEY}\` on redis-server (after one \`SET\`); the last ` +
    `column checks, from n1's \`CACHE.STATE ${CACHE_HIT_KEY}\` and \`CACHE.STATS\` around every measured run, that ` +
    `they were local hits (line still M/E, hits up by the requests, no miss). Mixed ${Math.round(result.readShare * 100)}/` +
    `${Math.round((1 - result.readShare) * 100)}: client i on node i % 3 (redis: all on the one server), own ` +
    `connection, one command at a time (the load runs in the harness process, Node, for both); each operation ` +
    `picks a key ${result.keyChoice}, then \`CACHE.GET\` / \`GET\` (${Math.round(result.readShare * 100)}%) or ` +
    `\`CACHE.SET\` / \`SET\` of a ${result.valueBytes}-byte value; every key written once before the first run.`;
  const byLane = new Map(result.lanes.map((l) => [l.lane, l]));
  const peer: Record<string, CacheLaneResult['lane']> = {
    'lockstep-get': 'redis-get',
    'lockstep-get-pipelined': 'redis-get-pipelined',
    'lockstep-mixed': 'redis-mixed',
  };
  const notes: string[] = [];
  const rows = result.lanes
    .filter((l) => l.system !== 'redis')
    .map((l) => {
      const redis = peer[l.lane] === undefined ? undefined : byLane.get(peer[l.lane]!);
      return cacheRow(l, redis, notes);
    });
  const totals = byLane.get('lockstep-mixed')?.cacheTotals;
  const figures =
    totals === undefined
      ? []
      : [
          '',
          `Mixed ${Math.round(result.readShare * 100)}/${Math.round((1 - result.readShare) * 100)}, lockstep: ` +
            `\`CACHE.STATS\` of each node, changes summed over the ${result.rounds} measured ` +
            `round${result.rounds === 1 ? '' : 's'} (coherence mean over those runs; p99 from the node's ` +
            `histogram after the last one, which covers the node's life; **all**: the largest).`,
          '',
          '| node | hits | misses | hit ratio | invalidations sent | invalidations received | forwards sent / received | writebacks | coherence requests | coherence mean ms | coherence p99 ms |',
          '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
          ...totals.map(cacheFiguresRow),
        ];
  return [
    '### Cache: CACHE.GET local hits and a read-mostly mixed load, lockstep CACHE.* vs redis-server',
    '',
    context,
    '',
    method,
    '',
    '| lane | lockstep rate | p50 / p99 ms | redis rate | redis p50 / p99 ms | vs redis (p99) | target | verdict | cache check |',
    '|---|--:|--:|--:|--:|--:|---|---|---|',
    ...rows,
    ...figures,
    '',
    `Targets (issue 8): \`CACHE.GET\` local hits ≥ 0.8× redis-server \`GET\` rps at -c ${result.clients}, ` +
      `≥ 0.5× with -P ${result.pipeline}; the mixed load has none. vs redis: median of per-round lockstep / redis ` +
      `(rate, and p99 in brackets); \`noisy\` when the round ratios lie more than 1.25× apart.`,
    ...(notes.length > 0 ? ['', ...notes.map((n, i) => `- [${i + 1}] ${n}`)] : []),
  ].join('\n');
}

export function clusterMarkdown(summary: ClusterRunSummary): string {
  const parts: string[] = [];
  if (summary.write !== undefined) parts.push(writeMarkdown(summary.write, summary));
  if (summary.failover !== undefined) parts.push(failoverMarkdown(summary.failover, summary));
  if (summary.locks !== undefined) parts.push(locksMarkdown(summary.locks, summary));
  if (summary.queues !== undefined) parts.push(queuesMarkdown(summary.queues, summary));
  if (summary.cache !== undefined) parts.push(cacheMarkdown(summary.cache, summary));
  return parts.join('\n\n');
}
