import { SeededRandom } from '../../src/lib/random.js';
import type { ReadOnlyOption } from '../../src/raft/config.js';

/** Every knob of one simulated run. All of it derives from the seed, so the seed replays the run. */
export interface SimOptions {
  readonly seed: number;
  readonly nodeCount: number;
  /** The first `initialVoters` nodes form the group; the rest start empty and may be added. */
  readonly initialVoters: number;
  readonly electionTimeoutTicks: number;
  readonly heartbeatTicks: number;
  readonly readOnly: ReadOnlyOption;
  /** The drift bound the core is told about (lease reads rely on it). */
  readonly maxClockDriftRatio: number;
  /** Each node's tick period in simulated microseconds: the clock drift between nodes. */
  readonly tickPeriodsUs: readonly number[];
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly minDelayUs: number;
  readonly maxDelayUs: number;
  readonly maxMsgBytes: number;
  readonly maxInflightMsgs: number;
  readonly snapshotChunkBytes: number;
  readonly maxInflightSnapshotChunks: number;
  /** Applied entries beyond the snapshot before a node snapshots and compacts. */
  readonly compactAfterEntries: number;
  /** A node snapshots at most this often: snapshots are expensive, and transfers must finish. */
  readonly minTicksBetweenSnapshots: number;
  /** The leader's back-pressure: bytes of uncommitted entries before it refuses proposals. */
  readonly maxUncommittedBytes: number;
  /** Entries kept in the log behind a new snapshot. */
  readonly compactRetainEntries: number;
  /** Filler bytes in each snapshot, so that transfers take several chunks. */
  readonly snapshotPaddingBytes: number;
  /** Mean simulated time between two client or fault actions. */
  readonly actionIntervalUs: number;
  /** Relative weights of the fault actions (crash, partition, membership, transfer). */
  readonly faultiness: number;
  /** Events processed in the safety phase (faults on). */
  readonly safetySteps: number;
  /** Ticks (of the base period) the healed cluster gets to elect a leader and commit. */
  readonly livenessTicks: number;
}

export const BASE_TICK_US = 1000;

export interface SimOverrides {
  readonly safetySteps?: number;
}

export function deriveOptions(seed: number, overrides: SimOverrides = {}): SimOptions {
  const r = new SeededRandom(seed ^ 0x5eed_cafe);
  const pick = <T>(xs: readonly T[]): T => xs[r.int(0, xs.length - 1)]!;
  const nodeCount = r.int(1, 7);
  // Most runs start with 3 to 5 voters, where quorums overlap in interesting ways.
  const initialVoters =
    nodeCount >= 3 && r.next() < 0.7 ? r.int(3, Math.min(nodeCount, 5)) : r.int(1, Math.min(nodeCount, 5));
  const electionTimeoutTicks = r.int(5, 15);
  const heartbeatTicks = r.int(1, Math.min(3, Math.floor(electionTimeoutTicks / 3)));
  // A quarter of the runs serve reads from the leader lease; their clocks must honour its bound.
  const readOnly: ReadOnlyOption = r.next() < 0.25 ? 'lease' : 'safe';
  const maxClockDriftRatio = 0.05;
  const driftRatio = readOnly === 'lease' ? r.next() * maxClockDriftRatio : pick([0, 0.1, 0.3, 0.5]);
  const tickPeriodsUs = Array.from({ length: nodeCount }, () =>
    Math.round(BASE_TICK_US * (1 + (2 * r.next() - 1) * driftRatio)),
  );
  const maxDelayUs = pick([100, 500, 1000, 3000]);
  return {
    seed,
    nodeCount,
    initialVoters,
    electionTimeoutTicks,
    heartbeatTicks,
    readOnly,
    maxClockDriftRatio,
    tickPeriodsUs,
    dropRate: pick([0, 0.01, 0.05, 0.15]),
    duplicateRate: pick([0, 0.01, 0.05]),
    minDelayUs: 10,
    maxDelayUs,
    // One entry per append most often: acknowledgements then arrive entry by entry.
    maxMsgBytes: pick([1, 1, 64, 256, 4096]),
    maxInflightMsgs: pick([1, 2, 4, 16]),
    snapshotChunkBytes: pick([16, 64, 256]),
    maxInflightSnapshotChunks: r.int(1, 4),
    compactAfterEntries: pick([5, 20, 100]),
    compactRetainEntries: pick([0, 2, 10]),
    minTicksBetweenSnapshots: pick([5, 20, 60]),
    maxUncommittedBytes: pick([512, 2048, 8192]),
    snapshotPaddingBytes: r.int(0, 400),
    actionIntervalUs: pick([200, 500, 1000]),
    faultiness: pick([0.5, 1, 2]),
    safetySteps: overrides.safetySteps ?? 4000,
    livenessTicks: 60 * electionTimeoutTicks,
  };
}
