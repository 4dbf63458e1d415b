import type { Reply } from '../resp/reply.js';

/** Where and when an entry applies. Time is the proposing leader's, made monotonic. */
export interface ApplyContext {
  readonly groupId: number;
  readonly index: number;
  readonly term: number;
  readonly timeMs: number;
}

/**
 * What a Raft group replicates: a deterministic state machine (DESIGN.md §2). Every replica
 * applies the same payloads in the same order with the same context and must end in the same
 * state and give the same replies; so no clocks, no randomness, no I/O that can differ.
 */
export interface StateMachine {
  /** Applies one command. Errors are replies (`-ERR ...`), never exceptions. */
  apply(payload: Uint8Array, ctx: ApplyContext): Reply;
  /** The whole state as bytes, deterministic for equal states. */
  snapshot(): Uint8Array;
  /** Replaces the state; empty bytes mean the initial state. */
  restore(data: Uint8Array): void;
}

/**
 * A state machine whose state lives in `raft.sqlite` (tables of its own), written in the same
 * transaction as the group's applied index (DESIGN.md §7). After a restart the replica opens at
 * that index instead of restoring the last snapshot and replaying the log behind it, and the
 * rows are the truth: a snapshot of the group is its rows, encoded.
 *
 * The host calls `persist` inside the apply transaction of every round that applied entries;
 * `restore` (a snapshot installed) must make the next `persist` replace every stored row.
 */
export interface DurableStateMachine extends StateMachine {
  readonly durable: true;
  /** Replaces the in-memory state with the stored rows (called at open, when rows exist). */
  load(): void;
  /** Writes every change since `load`/`restore`/the last call, inside the caller's transaction. */
  persist(): void;
  /** Deletes the stored rows, inside the caller's transaction: the replica is being removed. */
  destroy(): void;
}

export function isDurable(machine: StateMachine): machine is DurableStateMachine {
  return (machine as Partial<DurableStateMachine>).durable === true;
}
