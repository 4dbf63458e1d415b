/**
 * The first byte of every command a group replicates says which state machine it is for. One
 * table, so group 0 (meta and locks) and the partitions (queues) never collide.
 */
export const PayloadKind = {
  /** Applies nothing; replies with its log index (RAFT.NOOP: a round trip through consensus). */
  noop: 0,
  /** Cluster metadata: membership, liveness, placement (group 0). */
  meta: 1,
  /** The lock table (group 0). */
  lock: 2,
  /** The queues of a partition (groups 1..P). */
  queue: 3,
} as const;

export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

export function withKind(kind: PayloadKind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.byteLength + 1);
  out[0] = kind;
  out.set(body, 1);
  return out;
}

export const NOOP_PAYLOAD = Uint8Array.of(PayloadKind.noop);
