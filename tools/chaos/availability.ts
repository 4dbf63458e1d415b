/**
 * How available the cluster stayed, and how fast it came back: the figures a chaos run reports
 * beside its safety checks. Availability is the share of completed ops the cluster served, split
 * into ops that ran during a fault and the rest, so an unavailable minority side is not mistaken
 * for a slow healthy cluster. Recovery is measured from each event that ends a fault.
 */
import { faultIntervals, meetsAny, mergeWindows, runSpan, type Window } from './fault-intervals.js';
import {
  groupBy,
  type HistoryEvent,
  type NemesisEvent,
  outcomeOf,
  type PairedOp,
  pairOps,
  type Workload,
} from './history.js';

export interface Ratio {
  readonly ok: number;
  readonly completed: number;
  /** ok / completed; null when nothing completed. */
  readonly fraction: number | null;
}

export interface AvailabilitySplit {
  readonly overall: Ratio;
  /** Ops whose [invoke, completion] met a fault window. */
  readonly duringFaults: Ratio;
  readonly outsideFaults: Ratio;
}

export interface AvailabilityOptions {
  /**
   * What counts as a fault window: `nemesis` (default): from each fault event to the event that
   * ends it, on any node; `phase`: from the `faults` phase marker to the next `heal` marker.
   */
  readonly faultWindows?: 'nemesis' | 'phase';
}

export interface AvailabilityStats extends AvailabilitySplit {
  readonly windowSource: 'nemesis' | 'phase';
  readonly windows: readonly Window[];
  readonly byWorkload: Readonly<Partial<Record<Workload, AvailabilitySplit>>>;
}

export function availability(
  events: readonly HistoryEvent[],
  options: AvailabilityOptions = {},
): AvailabilityStats {
  const windowSource = options.faultWindows ?? 'nemesis';
  const windows = windowSource === 'phase' ? phaseWindows(events) : mergeWindows(faultIntervals(events));
  const completed = pairOps(events).filter((op) => op.completion !== undefined);
  const split = (ops: readonly PairedOp[]): AvailabilitySplit => {
    const during = ops.filter((op) => meetsAny(windows, op.invoke.timeMs, op.completion!.timeMs));
    const outside = ops.filter((op) => !meetsAny(windows, op.invoke.timeMs, op.completion!.timeMs));
    return { overall: ratio(ops), duringFaults: ratio(during), outsideFaults: ratio(outside) };
  };
  const byWorkload: Partial<Record<Workload, AvailabilitySplit>> = {};
  for (const [workload, ops] of groupBy(completed, (op) => op.invoke.workload)) {
    byWorkload[workload] = split(ops);
  }
  return { ...split(completed), windowSource, windows, byWorkload };
}

/**
 * Served: the cluster answered. A definite refusal that is the workload's normal answer (a lock
 * held by another owner, a release after the lease ran out) is an answer; a request that could
 * not be sent, found no quorum or was told to try again was not served.
 */
export function served(op: PairedOp): boolean {
  const outcome = outcomeOf(op);
  if (outcome === 'ok') return true;
  if (outcome === 'info') return false;
  return !/^(not sent|NOQUORUM|TRYAGAIN)/.test(op.completion?.error ?? 'not sent');
}

function ratio(ops: readonly PairedOp[]): Ratio {
  const ok = ops.filter(served).length;
  return { ok, completed: ops.length, fraction: ops.length === 0 ? null : ok / ops.length };
}

/** Each `faults` phase marker to the next `heal` marker (or the end of the history). */
export function phaseWindows(events: readonly HistoryEvent[]): Window[] {
  const out: Window[] = [];
  let start: number | undefined;
  for (const e of events) {
    if (e.type !== 'phase') continue;
    if (e.phase === 'faults' && start === undefined) start = e.timeMs;
    else if (e.phase === 'heal' && start !== undefined) {
      out.push({ startMs: start, endMs: e.timeMs });
      start = undefined;
    }
  }
  if (start !== undefined) out.push({ startMs: start, endMs: runSpan(events).endMs });
  return out;
}

export interface RecoveryEvent {
  readonly timeMs: number;
  /** `restart n3`, `resume n1 n2`, `heal`, `phase heal`. */
  readonly cause: string;
  /**
   * Per workload that had ops in flight at the event: ms until the first `ok` of an op invoked
   * at or after it; null if none came before the history ended.
   */
  readonly byWorkload: Readonly<Partial<Record<Workload, number | null>>>;
  /** The slowest workload's time; 0 with nothing in flight; null if one never recovered. */
  readonly recoveryMs: number | null;
}

export interface RecoveryStats {
  readonly events: readonly RecoveryEvent[];
  /** Over the events that recovered. */
  readonly maxMs: number | null;
  readonly medianMs: number | null;
  readonly unrecovered: number;
}

const HEALS: ReadonlySet<NemesisEvent['action']> = new Set(['restart', 'resume', 'heal']);

export function recovery(events: readonly HistoryEvent[]): RecoveryStats {
  const ops = pairOps(events);
  const okByWorkload = groupBy(
    ops.filter((op) => outcomeOf(op) === 'ok').sort((a, b) => a.completion!.timeMs - b.completion!.timeMs),
    (op) => op.invoke.workload,
  );
  const out: RecoveryEvent[] = [];
  for (const e of events) {
    let cause: string;
    if (e.type === 'nemesis' && HEALS.has(e.action)) cause = [e.action, ...e.nodes].join(' ');
    else if (e.type === 'phase' && e.phase === 'heal') cause = 'phase heal';
    else continue;
    const t = e.timeMs;
    const inFlight = new Set(
      ops
        .filter((op) => op.invoke.timeMs <= t && (op.completion === undefined || op.completion.timeMs > t))
        .map((op) => op.invoke.workload),
    );
    const byWorkload: Partial<Record<Workload, number | null>> = {};
    for (const w of inFlight) {
      const first = (okByWorkload.get(w) ?? []).find((op) => op.invoke.timeMs >= t);
      byWorkload[w] = first === undefined ? null : first.completion!.timeMs - t;
    }
    const times = Object.values(byWorkload);
    const recoveryMs = times.includes(null) ? null : Math.max(0, ...(times as number[]));
    out.push({ timeMs: t, cause, byWorkload, recoveryMs });
  }
  const recovered = out.flatMap((r) => (r.recoveryMs === null ? [] : [r.recoveryMs]));
  return {
    events: out,
    maxMs: recovered.length === 0 ? null : Math.max(...recovered),
    medianMs: median(recovered),
    unrecovered: out.length - recovered.length,
  };
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface ErrorCount {
  readonly prefix: string;
  readonly count: number;
}

/** The most frequent error prefixes of fail and info completions, most frequent first. */
export function errorCounts(events: readonly HistoryEvent[], top = 10): ErrorCount[] {
  const counts = new Map<string, number>();
  for (const op of pairOps(events)) {
    const outcome = outcomeOf(op);
    if (outcome === 'ok') continue;
    const prefix =
      op.completion === undefined ? '(never returned)' : errorPrefix(op.completion.error ?? `(${outcome})`);
    counts.set(prefix, (counts.get(prefix) ?? 0) + 1);
  }
  return [...counts]
    .map(([prefix, count]) => ({ prefix, count }))
    .sort((a, b) => b.count - a.count || a.prefix.localeCompare(b.prefix))
    .slice(0, top);
}

/**
 * An error's kind without its particulars: the first two words of its first line, numbers
 * replaced by `#` (`MOVED 3 127.0.0.1:7003` → `MOVED #`, `connect ECONNREFUSED ...` stays apart
 * from `read ECONNRESET`), so thousands of errors group into a few lines.
 */
export function errorPrefix(message: string): string {
  const words = (message.split('\n')[0] ?? '').trim().split(/\s+/).slice(0, 2);
  const prefix = words
    .join(' ')
    .replace(/\d+/g, '#')
    .replace(/[.:,;]+$/, '');
  return prefix.length === 0 ? '(empty)' : prefix.slice(0, 40);
}
