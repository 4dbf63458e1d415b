import type { ConfChange, ConfState } from '../../raft/types.js';
import type { DesiredConf } from './types.js';

export interface ReconcileInput {
  readonly desired: DesiredConf;
  /** The group's applied configuration on its leader. */
  readonly current: ConfState;
  readonly leaderId: string;
  /** The learner's match index is close to the leader's last index. */
  readonly isCaughtUp: (id: string) => boolean;
  /** The leader heard from it recently. */
  readonly isLive: (id: string) => boolean;
}

/**
 * The next single-server change that moves a group's configuration towards the desired one,
 * or null when there is none to make now. The leader calls it again after each change has
 * applied (and been reported), so the configuration walks to the target one step at a time,
 * each step a change the Raft core accepts (`applyConfChange`).
 *
 * Priorities, first applicable wins:
 * 1. add every missing replica as a learner (learners cost no availability);
 * 2. promote a desired voter that is a learner, once it is live and caught up (promoting a
 *    lagging one would make the group wait for it to commit);
 * 3. remove learners that are not wanted at all;
 * 4. remove voters that are not desired voters, non-leaders first and the leader last (the
 *    core hands leadership to a caught-up voter when the leader removes itself). A desired
 *    learner that is a voter is removed here and re-added by rule 1: the core cannot demote.
 *
 * A voter is removed only if the live voters left are still a majority of the voters left,
 * never if it is the last voter, and — while a desired voter still awaits promotion — only if
 * it is not live itself: a live voter keeps serving until its replacement votes, so the group
 * never runs on fewer live voters than it needs; a dead one only weighs on the majority.
 *
 * A desired configuration without voters (nothing could be placed, and nothing was ever
 * observed) is not a target: null.
 */
export function nextConfChange(input: ReconcileInput): ConfChange | null {
  const { current, leaderId, isCaughtUp, isLive } = input;
  const desiredVoters = unique(input.desired.voters);
  if (desiredVoters.length === 0) return null;
  const wantVoter = new Set(desiredVoters);
  const desiredLearners = unique(input.desired.learners).filter((id) => !wantVoter.has(id));
  const wanted = new Set([...desiredVoters, ...desiredLearners]);
  const voters = new Set(current.voters);
  const learners = new Set(current.learners);

  for (const id of [...desiredVoters, ...desiredLearners]) {
    if (!voters.has(id) && !learners.has(id)) return { type: 'addLearner', nodeId: id };
  }

  for (const id of desiredVoters) {
    if (learners.has(id) && isLive(id) && isCaughtUp(id)) return { type: 'promote', nodeId: id };
  }

  for (const id of current.learners) {
    if (!wanted.has(id)) return { type: 'remove', nodeId: id };
  }

  const awaitingPromotion = desiredVoters.some((id) => !voters.has(id));
  const unwanted = current.voters.filter((id) => !wantVoter.has(id));
  const leaderLast = [
    ...unwanted.filter((id) => id !== leaderId),
    ...unwanted.filter((id) => id === leaderId),
  ];
  for (const id of leaderLast) {
    if (voters.size <= 1) break;
    if (awaitingPromotion && isLive(id)) continue;
    const remaining = current.voters.filter((v) => v !== id);
    const live = remaining.filter(isLive).length;
    if (live < majority(remaining.length)) continue;
    return { type: 'remove', nodeId: id };
  }
  return null;
}

function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}
