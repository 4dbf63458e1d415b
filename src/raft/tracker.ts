import { assert } from '../lib/assert.js';
import type { Progress } from './progress.js';
import type { ConfState, NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The configuration in force on this replica (voters and learners), the leader's progress for
 * each member, and the votes of the current election. All quorum arithmetic lives here.
 */
export class ProgressTracker {
  #voters: readonly NodeId[] = [];
  #learners: readonly NodeId[] = [];
  readonly progress = new Map<NodeId, Progress>();
  readonly #votes = new Map<NodeId, boolean>();
  /** Scratch space for quorum computations, so a hot path does not allocate. */
  readonly #scratch: number[] = [];

  get voters(): readonly NodeId[] {
    return this.#voters;
  }

  get learners(): readonly NodeId[] {
    return this.#learners;
  }

  confState(): ConfState {
    return { voters: this.#voters, learners: this.#learners };
  }

  /** Installs a configuration; `makeProgress` creates state for members that have none. */
  setConf(conf: ConfState, makeProgress: (id: NodeId, isLearner: boolean) => Progress): void {
    this.#voters = [...conf.voters].sort();
    this.#learners = [...conf.learners].sort();
    const members = new Set([...this.#voters, ...this.#learners]);
    for (const id of this.progress.keys()) {
      if (!members.has(id)) this.progress.delete(id);
    }
    for (const id of members) {
      const isLearner = !this.#voters.includes(id);
      const pr = this.progress.get(id);
      if (pr === undefined) this.progress.set(id, makeProgress(id, isLearner));
      else pr.isLearner = isLearner;
    }
  }

  /** Fresh progress for every member (a new term, or a new leader). */
  resetProgress(makeProgress: (id: NodeId, isLearner: boolean) => Progress): void {
    for (const [id, pr] of this.progress) this.progress.set(id, makeProgress(id, pr.isLearner));
  }

  isVoter(id: NodeId): boolean {
    return this.#voters.includes(id);
  }

  isLearner(id: NodeId): boolean {
    return this.#learners.includes(id);
  }

  quorumSize(): number {
    return Math.floor(this.#voters.length / 2) + 1;
  }

  /**
   * The largest value that a quorum of voters has reached: the commit index when `valueOfVoter`
   * gives each voter's match index, the confirmed heartbeat round when it gives acked rounds.
   */
  quorumValue(valueOfVoter: (id: NodeId, progress: Progress) => number): number {
    assert(this.#voters.length > 0, 'a quorum needs at least one voter');
    const values = this.#scratch;
    values.length = 0;
    // Insertion sort, descending: a configuration has a handful of voters.
    for (const id of this.#voters) {
      const v = valueOfVoter(id, this.progress.get(id)!);
      let i = values.length;
      values.push(v);
      while (i > 0 && values[i - 1]! < v) {
        values[i] = values[i - 1]!;
        i--;
      }
      values[i] = v;
    }
    return values[this.quorumSize() - 1]!;
  }

  resetVotes(): void {
    this.#votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.#votes.has(id)) this.#votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.#voters) {
      const vote = this.#votes.get(id);
      if (vote === true) granted++;
      else if (vote === false) rejected++;
    }
    const quorum = this.quorumSize();
    const result = granted >= quorum ? 'won' : this.#voters.length - rejected < quorum ? 'lost' : 'pending';
    return { granted, rejected, result };
  }
}
