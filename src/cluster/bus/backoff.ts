import { assert } from '../../lib/assert.js';
import type { Random } from '../../lib/random.js';

export interface BackoffPolicy {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Fast enough to hide a peer's restart, slow enough not to spin on a dead host. */
export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = { minMs: 50, maxMs: 2000 };

/**
 * Delay before redial number `failures + 1` since the last good connection. The ceiling doubles
 * per failure from `minMs` to `maxMs`; the delay is drawn from the ceiling's upper half, so the
 * nodes that lost the same peer spread out but none retries faster than the ceiling allows.
 */
export function reconnectDelayMs(failures: number, policy: BackoffPolicy, random: Random): number {
  assert(Number.isInteger(failures) && failures >= 0, `bad failure count ${failures}`);
  assert(policy.minMs > 0 && policy.maxMs >= policy.minMs, 'backoff needs 0 < minMs <= maxMs');
  const ceilingMs = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(failures, 31));
  return ceilingMs / 2 + random.next() * (ceilingMs / 2);
}
