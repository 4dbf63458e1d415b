/**
 * Time as an interface. Only the runtime layers read the wall clock; state machines get their
 * time from entries stamped by the Raft leader, and the simulator drives a manual clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** A monotonic reading in milliseconds, for measuring intervals. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};

/** A clock the caller moves by hand; used by tests and the simulator. */
export class ManualClock implements Clock {
  constructor(private timeMs = 0) {}
  nowMs(): number {
    return this.timeMs;
  }
  monotonicMs(): number {
    return this.timeMs;
  }
  advance(ms: number): void {
    this.timeMs += ms;
  }
}

const startWallMs = Date.now();
const startMonotonicMs = performance.now();

/**
 * The node's steady clock, in integer ms since the Unix epoch: the wall clock read once when
 * the process started, advanced by the monotonic clock. The Raft leader stamps entries with it
 * (lease expiries, message visibility and delays are computed from those stamps), and deadlines
 * and silence intervals are measured with it, so a step of the wall clock while the node runs
 * (an NTP correction, `date -s`, DEBUG.CLOCKSKEW) moves none of them; only the monotonic
 * clock's rate does, which is what lease-based systems assume. Between nodes the stamps differ
 * by their wall clocks' difference at start; the state machines never let time go backwards,
 * so a leader with a slower clock only lengthens leases. Found by the chaos tool: stamped with
 * `Date.now`, a leader whose clock jumped 30 s ahead expired a lease held 100 ms earlier and
 * granted the lock again.
 */
export function steadyNowMs(): number {
  return Math.floor(startWallMs + (performance.now() - startMonotonicMs));
}
