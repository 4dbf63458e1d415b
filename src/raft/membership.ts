import type { ConfChange, ConfState, NodeId } from './types.js';

/**
 * Applies a single-server change to a configuration, or explains why it does not apply.
 * Pure and deterministic: every replica applies the same committed entries in the same order,
 * so an invalid change that slipped into the log is skipped identically everywhere.
 */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState | string {
  const { nodeId } = change;
  const isVoter = conf.voters.includes(nodeId);
  const isLearner = conf.learners.includes(nodeId);
  switch (change.type) {
    case 'addLearner':
      if (isVoter) return `${nodeId} is a voter; demotion is not supported`;
      if (isLearner) return `${nodeId} is already a learner`;
      return { voters: conf.voters, learners: sorted([...conf.learners, nodeId]) };
    case 'addVoter':
      if (isVoter) return `${nodeId} is already a voter`;
      return { voters: sorted([...conf.voters, nodeId]), learners: without(conf.learners, nodeId) };
    case 'promote':
      if (!isLearner) return `${nodeId} is not a learner`;
      return { voters: sorted([...conf.voters, nodeId]), learners: without(conf.learners, nodeId) };
    case 'remove':
      if (!isVoter && !isLearner) return `${nodeId} is not a member`;
      if (isVoter && conf.voters.length === 1) return `${nodeId} is the last voter`;
      return { voters: without(conf.voters, nodeId), learners: without(conf.learners, nodeId) };
  }
}

export function confStateEquals(a: ConfState, b: ConfState): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.learners, b.learners);
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

function sorted(ids: NodeId[]): NodeId[] {
  return ids.sort();
}

function without(ids: readonly NodeId[], id: NodeId): NodeId[] {
  return ids.filter((x) => x !== id);
}
