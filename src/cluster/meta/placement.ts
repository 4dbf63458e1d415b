import type { ConfState } from '../../raft/types.js';
import type { Ring } from '../ring.js';
import type { DesiredConf, Member } from './types.js';

/**
 * Where every group's replicas should be, as pure functions of the meta state.
 *
 * - Ring nodes are the members that are `up` or `down`. A down member keeps its replicas (a
 *   short outage must not move data); `evicted` and `leaving` members are out, so their
 *   replicas are re-created on the others.
 * - Partition p (1..P): voters = the first min(R, ring size) distinct owners clockwise from
 *   the partition's point (`Ring.placeReplicas`), no learners. With an empty ring nothing
 *   can be placed, so the desired configuration is the observed one: nothing moves.
 * - Group 0 holds every member. Its voters are sticky: the current voters that are still up or
 *   down stay, then up members fill the free seats up to metaVotersMax in join order. Sticky,
 *   because replacing a voter costs two membership changes and a catch-up, and a voter that is
 *   merely down may be back in a moment; a leaving or evicted voter gives its seat up. All
 *   other members (leaving and evicted ones included, until removed) are learners.
 */

export function inRing(m: Member): boolean {
  return m.state === 'up' || m.state === 'down';
}

/** Ascending ids of the members that hold partition replicas. */
export function ringNodeIds(members: readonly Member[]): string[] {
  return members
    .filter(inRing)
    .map((m) => m.id)
    .sort();
}

/** Group 0's next desired voters (ascending id), from the current ones and the members in join order. */
export function nextMetaVoters(
  members: readonly Member[],
  current: readonly string[],
  metaVotersMax: number,
): string[] {
  const keep = new Set(current);
  const voters: string[] = [];
  for (const m of members)
    if (keep.has(m.id) && inRing(m) && voters.length < metaVotersMax) voters.push(m.id);
  for (const m of members) {
    if (voters.length >= metaVotersMax) break;
    if (m.state === 'up' && !voters.includes(m.id)) voters.push(m.id);
  }
  return voters.sort();
}

/** Group 0's desired configuration: the voters, then every other member as a learner, in join order. */
export function metaDesired(members: readonly Member[], metaVoters: readonly string[]): DesiredConf {
  const voterSet = new Set(metaVoters);
  return {
    voters: members.filter((m) => voterSet.has(m.id)).map((m) => m.id),
    learners: members.filter((m) => !voterSet.has(m.id)).map((m) => m.id),
  };
}

/** Partition `p`'s desired configuration on `ring` (undefined: the ring is empty). */
export function partitionDesired(
  ring: Ring | undefined,
  partition: number,
  replicas: number,
  observed: ConfState | undefined,
): DesiredConf {
  if (ring === undefined) {
    return observed === undefined ? EMPTY_CONF : { voters: observed.voters, learners: observed.learners };
  }
  return { voters: ring.placeReplicas(partition, replicas), learners: [] };
}

export const EMPTY_CONF: DesiredConf = { voters: [], learners: [] };
