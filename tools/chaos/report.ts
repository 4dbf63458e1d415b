/**
 * One report of a chaos run: every checker's violations and figures, the availability and
 * recovery figures, and the error counts, as an object (for the runner and the JSON file) and
 * as the few lines a person reads at the end of a run.
 */
import {
  type AvailabilityOptions,
  type AvailabilitySplit,
  type AvailabilityStats,
  availability,
  type ErrorCount,
  errorCounts,
  type Ratio,
  type RecoveryStats,
  recovery,
} from './availability.js';
import { type CacheCheckOptions, type CacheStats, checkCache } from './check-cache.js';
import { checkLocks, type LockCheckOptions, type LockStats } from './check-locks.js';
import { checkQueues, type QueueStats } from './check-queues.js';
import { clusterNodes, runSpan } from './fault-intervals.js';
import { type HistoryEvent, isOp, type Violation, type Workload } from './history.js';

export interface ChaosOptions {
  readonly locks?: LockCheckOptions;
  readonly cache?: CacheCheckOptions;
  readonly availability?: AvailabilityOptions;
  /** How many error prefixes to keep (default 10). */
  readonly topErrors?: number;
}

export interface ChaosReport {
  readonly run: {
    readonly nodes: readonly string[];
    readonly durationMs: number;
    readonly events: number;
    /** Invocations per workload. */
    readonly ops: Readonly<Partial<Record<Workload, number>>>;
    /** Nemesis events of each action. */
    readonly nemesis: Readonly<Record<string, number>>;
  };
  readonly violations: readonly Violation[];
  readonly locks: LockStats;
  readonly queues: QueueStats;
  readonly cache: CacheStats;
  readonly availability: AvailabilityStats;
  readonly recovery: RecoveryStats;
  readonly errors: readonly ErrorCount[];
}

export function buildReport(events: readonly HistoryEvent[], options: ChaosOptions = {}): ChaosReport {
  const locks = checkLocks(events, options.locks);
  const queues = checkQueues(events);
  const cache = checkCache(events, options.cache);
  const ops: Partial<Record<Workload, number>> = {};
  const nemesis: Record<string, number> = {};
  for (const e of events) {
    if (isOp(e) && e.type === 'invoke') ops[e.workload] = (ops[e.workload] ?? 0) + 1;
    if (e.type === 'nemesis') nemesis[e.action] = (nemesis[e.action] ?? 0) + 1;
  }
  const span = runSpan(events);
  return {
    run: {
      nodes: options.locks?.nodes ?? clusterNodes(events),
      durationMs: span.endMs - span.startMs,
      events: events.length,
      ops,
      nemesis,
    },
    violations: [...locks.violations, ...queues.violations, ...cache.violations],
    locks: locks.stats,
    queues: queues.stats,
    cache: cache.stats,
    availability: availability(events, options.availability),
    recovery: recovery(events),
    errors: errorCounts(events, options.topErrors ?? 10),
  };
}

const pct = (r: Ratio): string =>
  r.fraction === null ? '   -  ' : `${(100 * r.fraction).toFixed(1)}%`.padStart(6);
const secs = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
const row = (label: string, text: string): string => `${label.padEnd(13)}${text}`;

/** The end-of-run summary; the last line is `chaos: N violations`. */
export function renderSummary(report: ChaosReport, maxViolations = 20): string {
  const { run, locks, queues, cache, recovery: rec } = report;
  const opCounts = Object.entries(run.ops)
    .map(([w, n]) => `${w} ${n}`)
    .join(', ');
  const faults = Object.entries(run.nemesis)
    .map(([a, n]) => `${a} ${n}`)
    .join(', ');
  const keys = Object.keys(cache.opsChecked);
  const checked = Object.values(cache.opsChecked).reduce((a, b) => a + b, 0);
  const availabilityLine = (name: string, s: AvailabilitySplit): string =>
    row(
      `  ${name}`,
      `ok ${pct(s.overall)} overall  ${pct(s.duringFaults)} during faults  ${pct(s.outsideFaults)} outside (${s.overall.completed} completed)`,
    );
  const lines = [
    row('run', `${run.nodes.length} nodes, ${secs(run.durationMs)}, ${opCounts || 'no ops'}`),
    row('nemesis', faults || 'no faults'),
    row(
      'locks',
      `${locks.holds} holds on ${locks.locks} locks (acquires ok ${locks.acquires.ok}/fail ${locks.acquires.fail}/info ${locks.acquires.info}); ` +
        `${locks.overlappingHolds} overlapping, ${locks.tokenRegressions} token regressions, ${locks.duplicateTokens} duplicate tokens, ${locks.minorityGrants} minority grants`,
    ),
    row(
      'queues',
      `pushes ok ${queues.pushes.ok}/fail ${queues.pushes.fail}/info ${queues.pushes.info}; ${queues.distinctDelivered} delivered, ` +
        `${queues.lost} lost, ${queues.phantoms} phantom, ${queues.duplicates} duplicates (${(100 * queues.duplicateRate).toFixed(2)}%)`,
    ),
    row(
      'cache',
      `${checked} ops on ${keys.length} keys (${cache.reads} reads, ${cache.writes} writes, ${cache.unknownWrites} unknown writes); ` +
        `${cache.nonLinearizableKeys.length} keys not linearizable`,
    ),
    row('availability', `fault windows from ${report.availability.windowSource} events`),
    availabilityLine('all', report.availability),
    ...Object.entries(report.availability.byWorkload).map(([w, s]) => availabilityLine(w, s)),
    row(
      'recovery',
      `${rec.events.length} heal events: median ${secs(rec.medianMs)}, max ${secs(rec.maxMs)}, ${rec.unrecovered} never recovered`,
    ),
    row('errors', report.errors.map((e) => `${e.prefix} ×${e.count}`).join(', ') || 'none'),
    ...report.violations
      .slice(0, maxViolations)
      .map((v) => `VIOLATION [${v.checker}/${v.kind}] ${v.description}`),
  ];
  if (report.violations.length > maxViolations) {
    lines.push(`... and ${report.violations.length - maxViolations} more violations (see the JSON report)`);
  }
  // Always plural: scripts match this line.
  lines.push(`chaos: ${report.violations.length} violations`);
  return lines.join('\n');
}

/** The report as JSON (ops in violations carry their full invoke and completion events). */
export function renderJson(report: ChaosReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
