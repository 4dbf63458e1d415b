import type { RaftHost } from '../raft-runtime/host.js';
import type { QueueMachine } from './machine.js';
import type { QueueTotals, TopQueue } from './types.js';

/** Queues named in INFO and the metrics: the deepest few, so cardinality stays bounded. */
export const TOP_QUEUES = 10;

/**
 * Queue totals and the deepest queues over the partitions this node leads: each partition is
 * counted once across the cluster (by its leader), and the named queues stay few.
 */
export function ledQueueTotals(
  host: RaftHost,
  machineOf: (groupId: number) => QueueMachine | undefined,
): { totals: QueueTotals; top: TopQueue[] } {
  const totals: QueueTotals = {
    queues: 0,
    ready: 0,
    inflight: 0,
    delayed: 0,
    dead: 0,
    pushed: 0,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
  };
  let top: TopQueue[] = [];
  for (const groupId of host.groupIds()) {
    if (groupId === 0 || !host.group(groupId)?.isLeader) continue;
    const state = machineOf(groupId)?.state;
    if (state === undefined) continue;
    const t = state.totals();
    for (const k of Object.keys(totals) as (keyof QueueTotals)[]) totals[k] += t[k];
    top = [...top, ...state.topQueues(TOP_QUEUES)].sort((a, b) => b.depth - a.depth).slice(0, TOP_QUEUES);
  }
  return { totals, top };
}
