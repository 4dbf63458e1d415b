/**
 * The cache checker: each key must behave as one linearizable register, checked with the WGL
 * search in linearizability.ts. Jepsen outcomes map onto its model: a `fail` op did nothing
 * and is dropped; an `info` (or never returned) write may have taken effect at any time after
 * its invocation (`returnMs: null`); an `info` read tells nothing and is dropped.
 *
 * Ring changes empty every cache (src/cache/README.md, "what is lost"): the system itself
 * writes nil to every key. A ring changes only when a node's liveness or membership changes,
 * which only a fault (or its heal) causes here, so each fault window, widened by `settleMs`
 * for the failure detector and the epoch to catch up, is modelled as one write of nil to every
 * key at an unknown point inside it; reads of nil inside a window are left out, as several
 * ring changes can happen in one window and each would need its own nil write. A value read
 * back after it was flushed, or a nil read outside every window, is still caught.
 */

import { coveredBy, faultIntervals, mergeWindows, type Window } from './fault-intervals.js';
import {
  describeOp,
  groupBy,
  type HistoryEvent,
  outcomeOf,
  type PairedOp,
  pairOps,
  type Violation,
} from './history.js';
import { checkLinearizable, type Operation, type RegisterValue } from './linearizability.js';

export interface CacheCheckOptions {
  /** Every key's value before the run (default null: the runner uses fresh keys). */
  readonly initial?: RegisterValue;
  /** Shrink a failing key's history only if it has at most this many ops (default 200). */
  readonly minimizeUpTo?: number;
  /** How long after a fault ends a ring change it caused may still happen (default 10 s). */
  readonly settleMs?: number;
}

/** The fault windows, widened by `settleMs` and merged where they overlap. */
export function flushWindows(events: readonly HistoryEvent[], settleMs: number): Window[] {
  return mergeWindows(faultIntervals(events).map((f) => ({ startMs: f.startMs, endMs: f.endMs + settleMs })));
}

export interface CacheStats {
  /** Ops given to the checker, per key. */
  readonly opsChecked: Readonly<Record<string, number>>;
  readonly reads: number;
  readonly writes: number;
  /** Writes with an unknown outcome (kept, with no return time). */
  readonly unknownWrites: number;
  /** Failed ops and unknown reads, which say nothing. */
  readonly dropped: number;
  /** Reads of nil inside a fault window, explained by a ring change and left out. */
  readonly flushedReads: number;
  /** Fault windows modelled as a nil write to every key. */
  readonly flushWindows: number;
  readonly nonLinearizableKeys: readonly string[];
}

export function checkCache(
  events: readonly HistoryEvent[],
  options: CacheCheckOptions = {},
): { stats: CacheStats; violations: Violation[] } {
  const checked: Operation[] = [];
  const source = new Map<Operation, PairedOp>();
  let reads = 0;
  let writes = 0;
  let unknownWrites = 0;
  let dropped = 0;
  const windows = flushWindows(events, options.settleMs ?? 10_000);
  const inWindow = (o: Operation) => o.returnMs !== null && coveredBy(windows, o.invokeMs, o.returnMs);
  const keys = new Set<string>();
  let flushedReads = 0;
  for (const op of pairOps(events)) {
    if (op.invoke.workload !== 'cache') continue;
    keys.add(op.invoke.key);
    const operation = toOperation(op);
    if (
      operation !== undefined &&
      operation.kind === 'read' &&
      operation.value === null &&
      inWindow(operation)
    ) {
      flushedReads++;
      continue;
    }
    if (operation === undefined) {
      dropped++;
      continue;
    }
    if (operation.kind === 'read') reads++;
    else if (operation.returnMs === null) unknownWrites++;
    else writes++;
    source.set(operation, op);
    checked.push(operation);
  }
  for (const key of keys) {
    for (const w of windows) {
      checked.push({
        key,
        kind: 'write',
        value: null,
        invokeMs: w.startMs,
        returnMs: w.endMs,
        client: 'ring-change',
      });
    }
  }
  const byKey = groupBy(checked, (o) => o.key);
  const opsChecked: Record<string, number> = {};
  const nonLinearizableKeys: string[] = [];
  const violations: Violation[] = [];
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key)!;
    opsChecked[key] = ops.length;
    const result = checkLinearizable(ops, {
      ...(options.initial !== undefined ? { initial: options.initial } : {}),
      ...(options.minimizeUpTo !== undefined ? { minimizeUpTo: options.minimizeUpTo } : {}),
    });
    if (result.ok) continue;
    nonLinearizableKeys.push(key);
    const involved = result.ops.flatMap((o) => source.get(o) ?? []);
    const [headline] = result.description.split('\n');
    violations.push({
      checker: 'cache',
      kind: 'non-linearizable',
      description: `${headline}; ops: ${involved.map(describeOp).join('; ')}`,
      ops: involved,
    });
  }
  return {
    stats: {
      opsChecked,
      reads,
      writes,
      unknownWrites,
      dropped,
      flushedReads,
      flushWindows: windows.length,
      nonLinearizableKeys,
    },
    violations,
  };
}

function toOperation(op: PairedOp): Operation | undefined {
  const { invoke, completion } = op;
  const outcome = outcomeOf(op);
  if (outcome === 'fail') return undefined;
  const base = { key: invoke.key, invokeMs: invoke.timeMs, client: `p${invoke.process}` };
  if (invoke.f === 'write') {
    return {
      ...base,
      kind: 'write',
      value: asRegister(invoke.value),
      returnMs: outcome === 'ok' ? completion!.timeMs : null,
    };
  }
  if (invoke.f === 'read' && outcome === 'ok') {
    return { ...base, kind: 'read', value: asRegister(completion!.value), returnMs: completion!.timeMs };
  }
  return undefined;
}

function asRegister(value: unknown): RegisterValue {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}
