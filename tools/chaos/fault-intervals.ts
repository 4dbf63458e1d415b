/**
 * What the nemesis did to each node over time, derived from the history's nemesis events: the
 * checkers need it (a lock granted by a node cut off from the majority), the availability
 * figures need it (which ops ran during a fault) and the timeline draws it. One derivation, so
 * the three agree.
 *
 * - `kill` → `restart`, `pause` → `resume`, `skew` → `unskew` open and close a fault on the
 *   nodes named; an end event naming no nodes ends that fault on every node.
 * - `partition` replaces the network: a node reaches the union of the components it is in
 *   (components may overlap, as in a bridge or a ring), and a node in no component is taken
 *   to reach everyone (the runner lists every node it cuts, so this only avoids inventing
 *   faults). Reaching fewer than a majority is `minority`; reaching a majority but not
 *   everyone is `partitioned`. `heal` restores the full network.
 * - A fault still open at the end of the history ends there (`ended: false`).
 */
import { type HistoryEvent, isOp, type NemesisEvent } from './history.js';

export type FaultKind = 'killed' | 'paused' | 'minority' | 'partitioned' | 'skewed';

export interface Window {
  readonly startMs: number;
  readonly endMs: number;
}

export interface FaultInterval extends Window {
  readonly node: string;
  readonly kind: FaultKind;
  /** The event's detail (partition shape and components, skew offset). */
  readonly detail: string;
  /** False when the history ended with the fault still in place. */
  readonly ended: boolean;
}

/** Every node id the history mentions, in natural order (n2 before n10): the cluster. */
export function clusterNodes(events: readonly HistoryEvent[]): string[] {
  const nodes = new Set<string>();
  for (const e of events) {
    if (isOp(e)) nodes.add(e.node);
    else if (e.type === 'nemesis') {
      for (const n of e.nodes) nodes.add(n);
      for (const c of e.components ?? []) for (const n of c) nodes.add(n);
    } else if (e.type === 'leaders') {
      for (const n of Object.values(e.leaders)) nodes.add(n);
    }
  }
  return [...nodes].sort(naturalCompare);
}

export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The smallest number of nodes that is a majority of `size`. */
export function majorityOf(size: number): number {
  return Math.floor(size / 2) + 1;
}

/** The history's first and last event times. */
export function runSpan(events: readonly HistoryEvent[]): Window {
  let startMs = Number.POSITIVE_INFINITY;
  let endMs = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    startMs = Math.min(startMs, e.timeMs);
    endMs = Math.max(endMs, e.timeMs);
  }
  return Number.isFinite(startMs) ? { startMs, endMs } : { startMs: 0, endMs: 0 };
}

const OPENS: Partial<Record<NemesisEvent['action'], FaultKind>> = {
  kill: 'killed',
  pause: 'paused',
  skew: 'skewed',
};
const CLOSES: Partial<Record<NemesisEvent['action'], FaultKind>> = {
  restart: 'killed',
  resume: 'paused',
  unskew: 'skewed',
};

/** Every fault on every node, in the order they started. */
export function faultIntervals(
  events: readonly HistoryEvent[],
  nodes: readonly string[] = clusterNodes(events),
): FaultInterval[] {
  const out: FaultInterval[] = [];
  const open = new Map<string, { node: string; kind: FaultKind; startMs: number; detail: string }>();
  const close = (id: string, endMs: number, ended: boolean): void => {
    const f = open.get(id);
    if (f === undefined) return;
    open.delete(id);
    out.push({ ...f, endMs, ended });
  };
  const start = (node: string, kind: FaultKind, startMs: number, detail: string): void => {
    open.set(`${kind}|${node}`, { node, kind, startMs, detail });
  };
  const closeKind = (kinds: readonly FaultKind[], only: readonly string[], t: number): void => {
    for (const [id, f] of [...open]) {
      if (kinds.includes(f.kind) && (only.length === 0 || only.includes(f.node))) close(id, t, true);
    }
  };
  const nemesis = events.filter((e): e is NemesisEvent => e.type === 'nemesis');
  nemesis.sort((a, b) => a.timeMs - b.timeMs);
  const majority = majorityOf(nodes.length);
  for (const e of nemesis) {
    const t = e.timeMs;
    const opens = OPENS[e.action];
    const closes = CLOSES[e.action];
    if (opens !== undefined) {
      for (const n of e.nodes) {
        if (opens === 'skewed') close(`skewed|${n}`, t, true);
        if (!open.has(`${opens}|${n}`)) {
          start(n, opens, t, opens === 'skewed' ? `skew ${e.skewMs ?? '?'} ms ${e.detail}`.trim() : e.detail);
        }
      }
    } else if (closes !== undefined) {
      closeKind([closes], e.nodes, t);
    } else if (e.action === 'heal') {
      closeKind(['minority', 'partitioned'], [], t);
    } else if (e.action === 'partition') {
      closeKind(['minority', 'partitioned'], [], t);
      const components = e.components ?? [];
      const detail = `${e.detail} ${components.map((c) => `[${c.join(' ')}]`).join(' ')}`.trim();
      for (const n of nodes) {
        const reach = reachOf(n, components, nodes.length);
        if (reach < majority) start(n, 'minority', t, detail);
        else if (reach < nodes.length) start(n, 'partitioned', t, detail);
      }
    }
  }
  const { endMs } = runSpan(events);
  for (const id of [...open.keys()]) close(id, endMs, false);
  return out.sort((a, b) => a.startMs - b.startMs || naturalCompare(a.node, b.node));
}

/** How many nodes (itself included) `node` can talk to under these components. */
function reachOf(node: string, components: readonly (readonly string[])[], size: number): number {
  const mine = components.filter((c) => c.includes(node));
  if (mine.length === 0) return size;
  return new Set(mine.flat()).size;
}

/** Sorted, disjoint windows covering the same time as `windows` (touching ones are joined). */
export function mergeWindows(windows: readonly Window[]): Window[] {
  const sorted = [...windows].sort((a, b) => a.startMs - b.startMs);
  const out: { startMs: number; endMs: number }[] = [];
  for (const w of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && w.startMs <= last.endMs) last.endMs = Math.max(last.endMs, w.endMs);
    else out.push({ startMs: w.startMs, endMs: w.endMs });
  }
  return out;
}

/** Whether [startMs, endMs] meets any of the sorted, disjoint `windows`. */
export function meetsAny(windows: readonly Window[], startMs: number, endMs: number): boolean {
  return windows.some((w) => w.startMs <= endMs && startMs <= w.endMs);
}

/** Whether one of the windows covers all of [startMs, endMs]. */
export function coveredBy(windows: readonly Window[], startMs: number, endMs: number): boolean {
  return windows.some((w) => w.startMs <= startMs && endMs <= w.endMs);
}
