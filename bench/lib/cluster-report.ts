/** The Markdown the cluster benchmarks print (and bench/README.md quotes). */
import {
  FAILOVER_MIN_TRIALS,
  FAILOVER_TARGET_MEDIAN_MS,
  FAILOVER_TARGET_WORST_MS,
  type FailoverResult,
} from './cluster-failover.js';
import { type LaneResult, WRITE_TARGET_RATIO, type WriteResult } from './cluster-write.js';
import type { MachineInfo } from './report.js';

export interface ClusterRunSummary {
  generatedAt: string;
  machine: MachineInfo & { etcd: string };
  quick: boolean;
  durationMs: number;
  write?: WriteResult;
  failover?: FailoverResult;
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

export function clusterMarkdown(summary: ClusterRunSummary): string {
  const parts: string[] = [];
  if (summary.write !== undefined) parts.push(writeMarkdown(summary.write, summary));
  if (summary.failover !== undefined) parts.push(failoverMarkdown(summary.failover, summary));
  return parts.join('\n\n');
}
