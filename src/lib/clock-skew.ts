/**
 * Fault injection for the chaos tool (DEBUG.CLOCKSKEW): steps this process's wall clock, as a
 * misbehaving NTP daemon would, by replacing `Date.now`. Everything that reads wall time reads
 * `Date.now` (leases are stamped with the leader's wall clock, waits and deadlines use it), so
 * the skew reaches all of it; `performance.now` (the monotonic clock) is left alone, as a real
 * clock step leaves CLOCK_MONOTONIC alone.
 */
const realNow = Date.now.bind(Date);

let skewMs = 0;

export function setWallClockSkew(offsetMs: number): void {
  skewMs = offsetMs;
  Date.now = offsetMs === 0 ? realNow : () => realNow() + skewMs;
}

export function wallClockSkewMs(): number {
  return skewMs;
}
