/**
 * The lock checker: what a client may rely on when LOCK.ACQUIRE says yes.
 *
 * - Mutual exclusion. A grant is *certainly* held from its acquire's ok until the owner's
 *   release is invoked or the lease has surely run out, whichever is first. The lease starts
 *   when the leader applies the acquire, after the client invoked it, so `invoke + ttlMs` is a
 *   lower bound on its end by the runner's clock; `margin(ttl)` allows for clocks that run at
 *   slightly different rates. Two certain intervals of different holds on one lock overlapping
 *   means two clients held it at once.
 * - Fencing. A grant that completed before another was invoked has a smaller token, and no
 *   two holds share a token (tokens are the granting entry's index).
 * - No grant on a minority side. A node that could reach fewer than a majority for the whole
 *   of an acquire cannot have committed it, so its ok is a lie.
 *
 * Re-acquiring a lock you hold renews it and returns the same token (src/lock/README.md): the
 * grants of one owner with one token, up to its release, are one hold. The owner is the
 * acquire's `owner` (the runner uses a fresh one per attempt), else the process.
 */
import { clusterNodes, coveredBy, faultIntervals, mergeWindows } from './fault-intervals.js';
import {
  describeOp,
  groupBy,
  type HistoryEvent,
  outcomeOf,
  type PairedOp,
  pairOps,
  type Violation,
} from './history.js';

export interface LockCheckOptions {
  /** The clock-rate margin as a fraction of the ttl (default 0.02). */
  readonly marginFraction?: number;
  /** ... plus this many ms (default 50). */
  readonly marginMs?: number;
  /** The cluster's nodes (default: every node the history names). */
  readonly nodes?: readonly string[];
}

export interface LockStats {
  readonly locks: number;
  readonly acquires: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly holds: number;
  readonly releases: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly overlappingHolds: number;
  readonly tokenRegressions: number;
  readonly duplicateTokens: number;
  readonly minorityGrants: number;
}

interface Grant {
  readonly op: PairedOp;
  readonly lock: string;
  readonly owner: string;
  readonly token: number;
  readonly ttlMs: number;
  readonly invokeMs: number;
  readonly okMs: number;
  hold?: Hold;
}

interface Hold {
  readonly grants: Grant[];
  readonly release: PairedOp | undefined;
  readonly startMs: number;
  /** End of the certain interval (may be ≤ startMs: never certainly held). */
  readonly certainEndMs: number;
}

export function checkLocks(
  events: readonly HistoryEvent[],
  options: LockCheckOptions = {},
): { stats: LockStats; violations: Violation[] } {
  const margin = (ttlMs: number): number =>
    ttlMs * (options.marginFraction ?? 0.02) + (options.marginMs ?? 50);
  const ops = pairOps(events).filter((op) => op.invoke.workload === 'lock');
  const acquires = { ok: 0, fail: 0, info: 0 };
  const releaseCounts = { ok: 0, fail: 0, info: 0 };
  const grants: Grant[] = [];
  const releaseOps: PairedOp[] = [];
  for (const op of ops) {
    const outcome = outcomeOf(op);
    if (op.invoke.f === 'acquire') {
      const grant = outcome === 'ok' ? toGrant(op) : undefined;
      if (grant !== undefined) grants.push(grant);
      acquires[grant !== undefined || outcome !== 'ok' ? outcome : 'fail']++;
    } else if (op.invoke.f === 'release') {
      releaseCounts[outcome]++;
      releaseOps.push(op);
    }
  }
  const releases = groupBy(releaseOps, (op) =>
    holdKey(op.invoke.key, ownerOf(op), numberField(op.invoke.value, 'token') ?? Number.NaN),
  );
  const holds = buildHolds(grants, releases, margin);
  const violations = [
    ...overlaps(holds),
    ...duplicateTokens(holds),
    ...tokenRegressions(grants),
    ...minorityGrants(grants, events, options.nodes ?? clusterNodes(events)),
  ];
  const count = (kind: string): number => violations.filter((v) => v.kind === kind).length;
  return {
    stats: {
      locks: new Set(grants.map((g) => g.lock)).size,
      acquires,
      holds: holds.length,
      releases: releaseCounts,
      overlappingHolds: count('overlapping-holds'),
      tokenRegressions: count('token-regression'),
      duplicateTokens: count('duplicate-token'),
      minorityGrants: count('minority-grant'),
    },
    violations,
  };
}

function toGrant(op: PairedOp): Grant | undefined {
  const token = numberField(op.completion?.value, 'token');
  const ttlMs = numberField(op.completion?.value, 'ttlMs');
  if (token === undefined || ttlMs === undefined || op.completion === undefined) return undefined;
  return {
    op,
    lock: op.invoke.key,
    owner: ownerOf(op),
    token,
    ttlMs,
    invokeMs: op.invoke.timeMs,
    okMs: op.completion.timeMs,
  };
}

function numberField(value: unknown, field: string): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function ownerOf(op: PairedOp): string {
  const v = op.invoke.value;
  const owner = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)['owner'] : undefined;
  return typeof owner === 'string' ? owner : `p${op.invoke.process}`;
}

function holdKey(lock: string, owner: string, token: number): string {
  return JSON.stringify([lock, owner, token]);
}

/** Groups an owner's grants of one token into holds, each ended by the first release after it. */
function buildHolds(
  grants: Grant[],
  releases: Map<string, PairedOp[]>,
  margin: (ttl: number) => number,
): Hold[] {
  const byKey = groupBy(grants, (g) => holdKey(g.lock, g.owner, g.token));
  const holds: Hold[] = [];
  for (const [id, list] of byKey) {
    list.sort((a, b) => a.okMs - b.okMs);
    const rels = (releases.get(id) ?? []).sort((a, b) => a.invoke.timeMs - b.invoke.timeMs);
    let current: Grant[] = [];
    const flush = (release: PairedOp | undefined): void => {
      if (current.length === 0) return;
      const startMs = current[0]!.okMs;
      const leaseEndMs = Math.max(...current.map((g) => g.invokeMs + g.ttlMs - margin(g.ttlMs)));
      const certainEndMs = Math.min(release?.invoke.timeMs ?? Number.POSITIVE_INFINITY, leaseEndMs);
      const hold: Hold = { grants: current, release, startMs, certainEndMs };
      for (const g of current) g.hold = hold;
      holds.push(hold);
      current = [];
    };
    for (const g of list) {
      // A release invoked before this grant's invocation ended the hold before it.
      while (rels.length > 0 && rels[0]!.invoke.timeMs < g.invokeMs) {
        const rel = rels.shift()!;
        if (current.length > 0) flush(rel);
      }
      current.push(g);
    }
    flush(rels[0]);
  }
  return holds.sort((a, b) => a.startMs - b.startMs);
}

function holdOps(hold: Hold): PairedOp[] {
  return [...hold.grants.map((g) => g.op), ...(hold.release === undefined ? [] : [hold.release])];
}

function showHold(hold: Hold): string {
  const g = hold.grants[0]!;
  const end = Number.isFinite(hold.certainEndMs) ? hold.certainEndMs.toFixed(0) : '∞';
  return `${g.owner} (p${g.op.invoke.process}, token ${g.token}, certain ${g.okMs.toFixed(0)}–${end})`;
}

/** Per lock, sweeps holds by start, remembering the one whose certain interval reaches furthest. */
function overlaps(holds: readonly Hold[]): Violation[] {
  const out: Violation[] = [];
  const furthest = new Map<string, Hold>();
  for (const hold of holds) {
    if (hold.certainEndMs <= hold.startMs) continue;
    const lock = hold.grants[0]!.lock;
    const prev = furthest.get(lock);
    if (prev !== undefined && hold.startMs < prev.certainEndMs) {
      out.push({
        checker: 'locks',
        kind: 'overlapping-holds',
        description: `lock ${JSON.stringify(lock)} held by two at once: ${showHold(prev)} and ${showHold(hold)}`,
        ops: [...holdOps(prev), ...holdOps(hold)],
      });
    }
    if (prev === undefined || hold.certainEndMs > prev.certainEndMs) furthest.set(lock, hold);
  }
  return out;
}

function duplicateTokens(holds: readonly Hold[]): Violation[] {
  const byToken = groupBy(holds, (h) => JSON.stringify([h.grants[0]!.lock, h.grants[0]!.token]));
  const out: Violation[] = [];
  for (const same of byToken.values()) {
    if (same.length < 2) continue;
    const g = same[0]!.grants[0]!;
    out.push({
      checker: 'locks',
      kind: 'duplicate-token',
      description: `lock ${JSON.stringify(g.lock)} token ${g.token} granted to ${same.length} holds: ${same.map(showHold).join(', ')}`,
      ops: same.flatMap((h) => h.grants.map((x) => x.op)),
    });
  }
  return out;
}

/**
 * For each grant B, the largest token of a grant of another hold that completed before B was
 * invoked must be smaller than B's. Equal tokens are left to `duplicateTokens`.
 */
function tokenRegressions(grants: readonly Grant[]): Violation[] {
  const out: Violation[] = [];
  for (const [lock, list] of groupBy(grants, (g) => g.lock)) {
    const byOk = [...list].sort((a, b) => a.okMs - b.okMs);
    const byInvoke = [...list].sort((a, b) => a.invokeMs - b.invokeMs);
    // The two largest tokens seen so far, from different holds.
    let best: Grant | undefined;
    let second: Grant | undefined;
    let i = 0;
    for (const b of byInvoke) {
      for (; i < byOk.length && byOk[i]!.okMs < b.invokeMs; i++) {
        const a = byOk[i]!;
        if (best === undefined || a.token > best.token) {
          if (best !== undefined && best.hold !== a.hold) second = best;
          best = a;
        } else if (a.hold !== best.hold && (second === undefined || a.token > second.token)) {
          second = a;
        }
      }
      const a = best !== undefined && best.hold !== b.hold ? best : second;
      if (a !== undefined && a.hold !== b.hold && a.token > b.token) {
        out.push({
          checker: 'locks',
          kind: 'token-regression',
          description: `lock ${JSON.stringify(lock)} fencing token went backwards: token ${a.token} granted at ${a.okMs.toFixed(0)}, then token ${b.token} to an acquire invoked at ${b.invokeMs.toFixed(0)}`,
          ops: [a.op, b.op],
        });
      }
    }
  }
  return out;
}

function minorityGrants(
  grants: readonly Grant[],
  events: readonly HistoryEvent[],
  nodes: readonly string[],
): Violation[] {
  const minority = groupBy(
    faultIntervals(events, nodes).filter((f) => f.kind === 'minority'),
    (f) => f.node,
  );
  const out: Violation[] = [];
  for (const g of grants) {
    const node = g.op.completion!.node;
    const windows = mergeWindows(minority.get(node) ?? []);
    if (!coveredBy(windows, g.invokeMs, g.okMs)) continue;
    out.push({
      checker: 'locks',
      kind: 'minority-grant',
      description: `lock ${JSON.stringify(g.lock)} granted (token ${g.token}) by ${node} while it could reach only a minority of ${nodes.length} nodes: ${describeOp(g.op)}`,
      ops: [g.op],
    });
  }
  return out;
}
