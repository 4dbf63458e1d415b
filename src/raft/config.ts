import type { Random } from '../lib/random.js';
import type { Storage } from './storage.js';
import type { GroupId, NodeId } from './types.js';

export type ReadOnlyOption = 'safe' | 'lease';

/** What a `RawNode` is built from. Everything the core needs comes in here; it reads no globals. */
export interface RaftConfig {
  readonly groupId: GroupId;
  readonly id: NodeId;
  readonly storage: Storage;
  /** Draws the randomized election timeout. Inject a seeded one in tests. */
  readonly random: Random;
  /**
   * The last index the application has applied durably (0 if it rebuilds its state from the
   * snapshot on start). Committed entries after it are handed out again.
   */
  readonly appliedIndex?: number;
  /** A follower campaigns after a random number of ticks in [electionTimeoutTicks, 2×). */
  readonly electionTimeoutTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /**
   * `safe`: every read is confirmed by a heartbeat quorum. `lease`: the leader answers reads
   * alone while its lease holds, which assumes clocks drift apart by at most `maxClockDriftRatio`
   * (see README, "Reads").
   */
  readonly readOnly?: ReadOnlyOption;
  /** Bound on the tick-rate difference between any two replicas, e.g. 0.05 for ±5%. */
  readonly maxClockDriftRatio?: number;
  /** Soft limit on the entry bytes in one append message (at least one entry is always sent). */
  readonly maxMsgBytes?: number;
  /** Appends in flight to one follower before the leader waits for acknowledgements. */
  readonly maxInflightMsgs?: number;
  /** Bytes of appends in flight to one follower. */
  readonly maxInflightBytes?: number;
  /** Bytes the leader accepts beyond the commit index before refusing proposals. */
  readonly maxUncommittedBytes?: number;
  /** Entry bytes handed out for apply in one Ready (at least one entry). */
  readonly maxApplyBytes?: number;
  readonly snapshotChunkBytes?: number;
  readonly maxInflightSnapshotChunks?: number;
  /** Reads waiting for a heartbeat quorum (or for the first commit of a term). */
  readonly maxPendingReads?: number;
  /** Receives one line per notable transition (elections, step-downs, config changes). */
  readonly logger?: (line: string) => void;
}

export type ValidConfig = Required<Omit<RaftConfig, 'logger'>> & Pick<RaftConfig, 'logger'>;

const KIB = 1024;
const MIB = 1024 * KIB;

export const DEFAULTS = {
  appliedIndex: 0,
  electionTimeoutTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  readOnly: 'safe',
  maxClockDriftRatio: 0.05,
  maxMsgBytes: 1 * MIB,
  maxInflightMsgs: 256,
  maxInflightBytes: 32 * MIB,
  maxUncommittedBytes: 64 * MIB,
  maxApplyBytes: 16 * MIB,
  snapshotChunkBytes: 256 * KIB,
  maxInflightSnapshotChunks: 4,
  maxPendingReads: 4096,
} as const satisfies Partial<RaftConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fills defaults and checks every field once, so the core can trust its configuration. */
export function validateConfig(config: RaftConfig): ValidConfig {
  const c: ValidConfig = { ...DEFAULTS, ...withoutUndefined(config) } as ValidConfig;
  const fail = (message: string): never => {
    throw new ConfigError(`raft config for group ${config.groupId}, node ${config.id}: ${message}`);
  };
  if (!Number.isInteger(c.groupId) || c.groupId < 0 || c.groupId > 0xffff_ffff) {
    fail(`groupId must be an integer in [0, 2^32), got ${c.groupId}`);
  }
  if (typeof c.id !== 'string' || c.id.length === 0 || new TextEncoder().encode(c.id).length > 255) {
    fail(`id must be a non-empty string of at most 255 UTF-8 bytes, got ${JSON.stringify(c.id)}`);
  }
  for (const key of [
    'electionTimeoutTicks',
    'heartbeatTicks',
    'maxMsgBytes',
    'maxInflightMsgs',
    'maxInflightBytes',
    'maxUncommittedBytes',
    'maxApplyBytes',
    'snapshotChunkBytes',
    'maxInflightSnapshotChunks',
    'maxPendingReads',
  ] as const) {
    if (!Number.isSafeInteger(c[key]) || c[key] <= 0)
      fail(`${key} must be a positive integer, got ${c[key]}`);
  }
  if (!Number.isSafeInteger(c.appliedIndex) || c.appliedIndex < 0) {
    fail(`appliedIndex must be a non-negative integer, got ${c.appliedIndex}`);
  }
  if (c.heartbeatTicks >= c.electionTimeoutTicks) {
    fail(
      `heartbeatTicks (${c.heartbeatTicks}) must be less than electionTimeoutTicks (${c.electionTimeoutTicks}), ` +
        'or followers time out between heartbeats',
    );
  }
  if (c.readOnly !== 'safe' && c.readOnly !== 'lease') {
    fail(`readOnly must be 'safe' or 'lease', got ${JSON.stringify(c.readOnly)}`);
  }
  if (!(c.maxClockDriftRatio >= 0 && c.maxClockDriftRatio < 1)) {
    fail(`maxClockDriftRatio must be in [0, 1), got ${c.maxClockDriftRatio}`);
  }
  if (c.readOnly === 'lease') {
    if (!c.checkQuorum)
      fail(`readOnly 'lease' needs checkQuorum: followers must refuse votes while a lease holds`);
    if (leaseTicks(c) < 1) {
      fail(
        `readOnly 'lease' with electionTimeoutTicks ${c.electionTimeoutTicks} and maxClockDriftRatio ` +
          `${c.maxClockDriftRatio} leaves no lease; raise the timeout or lower the drift`,
      );
    }
  }
  if (c.storage === undefined || c.random === undefined) fail('storage and random are required');
  return c;
}

/**
 * How long a heartbeat acknowledged by a quorum lets the leader serve reads alone, in leader
 * ticks counted from when that heartbeat was sent. A follower refuses votes for
 * electionTimeoutTicks of its own ticks after hearing from the leader; the first of those
 * ticks may come at once, so only (T − 1) whole periods are guaranteed, and a follower
 * ticking faster and a leader ticking slower shrink them by (1 − ρ)/(1 + ρ).
 */
export function leaseTicks(c: Pick<ValidConfig, 'electionTimeoutTicks' | 'maxClockDriftRatio'>): number {
  const rho = c.maxClockDriftRatio;
  return Math.floor(((c.electionTimeoutTicks - 1) * (1 - rho)) / (1 + rho));
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
