/**
 * What the run learns from the cluster itself: who leads each Raft group (sampled from every
 * reachable node's `INFO raft`, the claim with the highest term wins) and whether the cluster is
 * whole again after the faults.
 */
import { parseInfo } from '../../bench/lib/resp-client.js';
import type { ChaosClient } from './client.js';

/** group id → { role, leader, term }, from the `groupN:role=...,leader=...,term=...` fields of INFO raft. */
export function parseRaftInfo(text: string): Map<string, { role: string; leader: string; term: number }> {
  const groups = new Map<string, { role: string; leader: string; term: number }>();
  for (const [field, value] of parseInfo(text)) {
    const m = /^group(\d+)$/.exec(field);
    const v = /^role=(\w+),leader=([^,]*),term=(\d+)/.exec(value);
    if (m && v) groups.set(m[1]!, { role: v[1]!, leader: v[2]!, term: Number(v[3]) });
  }
  return groups;
}

/** Asks each node (skipping `skip`) and returns group → the leader claiming the highest term. */
export async function sampleLeaders(
  clients: ReadonlyMap<string, ChaosClient>,
  skip: ReadonlySet<string>,
): Promise<Record<string, string>> {
  const best = new Map<string, { node: string; term: number }>();
  await Promise.all(
    [...clients].map(async ([node, client]) => {
      if (skip.has(node)) return;
      const result = await client.call(['INFO', 'raft'], 500);
      if (result.kind !== 'reply') return;
      for (const [group, g] of parseRaftInfo(String(result.value))) {
        if (g.role !== 'leader') continue;
        const seen = best.get(group);
        if (seen === undefined || g.term > seen.term) best.set(group, { node, term: g.term });
      }
    }),
  );
  return Object.fromEntries([...best].sort(([a], [b]) => Number(a) - Number(b)).map(([g, v]) => [g, v.node]));
}

/** Whole: every node answers, sees `size` members, state ok, and all agree on the meta leader. */
export async function clusterWhole(
  clients: ReadonlyMap<string, ChaosClient>,
  size: number,
): Promise<boolean> {
  const infos = await Promise.all(
    [...clients.values()].map(async (c) => {
      const r = await c.call(['CLUSTER.INFO'], 1000);
      return r.kind === 'reply' ? parseInfo(String(r.value)) : undefined;
    }),
  );
  const leader = infos[0]?.get('meta_leader');
  return infos.every(
    (i) =>
      i !== undefined &&
      i.get('cluster_state') === 'ok' &&
      Number(i.get('cluster_size')) === size &&
      i.get('meta_leader') === leader &&
      leader !== '',
  );
}
