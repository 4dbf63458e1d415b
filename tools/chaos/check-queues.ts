/**
 * The queue checker: at-least-once delivery, as the queues promise (src/queue/README.md).
 * Every body is unique in the run, so a popped body names the push it came from.
 *
 * - Lost: a push that completed `ok` (committed by a majority) was never popped.
 * - Phantom: a pop returned a body nobody pushed, or one whose push certainly failed (`fail`
 *   means nothing was proposed). A push whose outcome is unknown (`info`) may be delivered.
 * - Misrouted: a body popped from another queue than it was pushed to.
 * - Popped before pushed: the pop returned before the push was even invoked.
 * - Duplicates are allowed (a lease that ran out redelivers) but counted: every delivery of a
 *   body beyond its first, and their share of all deliveries.
 */
import {
  describeOp,
  type HistoryEvent,
  outcomeOf,
  type PairedOp,
  pairOps,
  type Violation,
} from './history.js';

export interface QueueStats {
  readonly pushes: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly pops: {
    readonly delivered: number;
    readonly empty: number;
    readonly fail: number;
    readonly info: number;
  };
  readonly acks: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly distinctDelivered: number;
  readonly lost: number;
  readonly phantoms: number;
  readonly duplicates: number;
  /** duplicates / deliveries (0 when nothing was delivered). */
  readonly duplicateRate: number;
}

interface Delivery {
  readonly op: PairedOp;
  readonly body: string;
}

export function checkQueues(events: readonly HistoryEvent[]): { stats: QueueStats; violations: Violation[] } {
  const ops = pairOps(events).filter((op) => op.invoke.workload === 'queue');
  const pushes = { ok: 0, fail: 0, info: 0 };
  const pops = { delivered: 0, empty: 0, fail: 0, info: 0 };
  const acks = { ok: 0, fail: 0, info: 0 };
  const pushed = new Map<string, PairedOp>();
  const deliveries: Delivery[] = [];
  for (const op of ops) {
    const outcome = outcomeOf(op);
    if (op.invoke.f === 'push') {
      pushes[outcome]++;
      pushed.set(asText(op.invoke.value), op);
    } else if (op.invoke.f === 'ack') {
      acks[outcome]++;
    } else if (op.invoke.f === 'pop') {
      const body = outcome === 'ok' ? bodyOf(op.completion?.value) : undefined;
      if (outcome !== 'ok') pops[outcome]++;
      else if (body === undefined) pops.empty++;
      else {
        pops.delivered++;
        deliveries.push({ op, body });
      }
    }
  }
  const violations: Violation[] = [];
  const seen = new Map<string, Delivery>();
  let duplicates = 0;
  for (const d of deliveries.sort((a, b) => a.op.completion!.timeMs - b.op.completion!.timeMs)) {
    const push = pushed.get(d.body);
    if (seen.has(d.body)) duplicates++;
    else seen.set(d.body, d);
    const v = deliveryViolation(d, push);
    if (v !== undefined) violations.push(v);
  }
  let lost = 0;
  for (const [body, push] of pushed) {
    if (push.completion?.type !== 'ok' || seen.has(body)) continue;
    lost++;
    violations.push({
      checker: 'queues',
      kind: 'lost-push',
      description: `queue ${JSON.stringify(push.invoke.key)} lost ${JSON.stringify(body)}: pushed ok, never popped: ${describeOp(push)}`,
      ops: [push],
    });
  }
  return {
    stats: {
      pushes,
      pops,
      acks,
      distinctDelivered: seen.size,
      lost,
      phantoms: violations.filter((v) => v.kind === 'phantom-pop').length,
      duplicates,
      duplicateRate: deliveries.length === 0 ? 0 : duplicates / deliveries.length,
    },
    violations,
  };
}

function deliveryViolation(d: Delivery, push: PairedOp | undefined): Violation | undefined {
  const pop = d.op;
  const body = JSON.stringify(d.body);
  const queue = JSON.stringify(pop.invoke.key);
  const popped = (kind: string, why: string, ops: PairedOp[]): Violation => ({
    checker: 'queues',
    kind,
    description: `queue ${queue} popped ${body}, ${why}: ${describeOp(pop)}`,
    ops,
  });
  if (push === undefined) return popped('phantom-pop', 'which was never pushed', [pop]);
  if (push.completion?.type === 'fail') {
    return popped('phantom-pop', `whose push failed (${push.completion.error ?? 'fail'})`, [push, pop]);
  }
  if (push.invoke.key !== pop.invoke.key) {
    return popped('misrouted', `which was pushed to ${JSON.stringify(push.invoke.key)}`, [push, pop]);
  }
  if (pop.completion!.timeMs < push.invoke.timeMs) {
    return popped('pop-before-push', 'before its push was invoked', [push, pop]);
  }
  return undefined;
}

function bodyOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const body = (value as Record<string, unknown>)['body'];
  return body === undefined ? undefined : asText(body);
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}
