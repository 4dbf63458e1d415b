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
