import { namedCounts } from './info-fields.js';
import { type InfoReader, infoFamilies, type Projection } from './info-projection.js';
import type { MetricsSource } from './source.js';

const REPLICATED = 'Replicated: every node reports the same cluster-wide figure (use max, not sum).';

export const LOCK_PROJECTIONS: readonly Projection[] = [
  {
    field: 'locks_live',
    name: 'lockstep_locks',
    kind: 'gauge',
    help: `Locks held or waited for now. ${REPLICATED}`,
  },
  {
    field: 'locks_grants',
    name: 'lockstep_lock_grants_total',
    kind: 'counter',
    help: `New holds granted (fresh fencing tokens). ${REPLICATED}`,
  },
  {
    field: 'locks_releases',
    name: 'lockstep_lock_releases_total',
    kind: 'counter',
    help: `Holds released. ${REPLICATED}`,
  },
  {
    field: 'locks_expirations',
    name: 'lockstep_lock_expirations_total',
    kind: 'counter',
    help: `Holds whose lease ran out. ${REPLICATED}`,
  },
  {
    field: 'locks_waits',
    name: 'lockstep_lock_waits_total',
    kind: 'counter',
    help: `Requests that had to queue (contention). ${REPLICATED}`,
  },
  {
    field: 'locks_waited_ms',
    name: 'lockstep_lock_wait_seconds_total',
    kind: 'counter',
    help: `Time waited by the waiters that were granted, summed (leader time). ${REPLICATED}`,
    scale: 0.001,
  },
  {
    field: 'locks_wait_timeouts',
    name: 'lockstep_lock_wait_timeouts_total',
    kind: 'counter',
    help: `Waits that ended at their WAIT deadline. ${REPLICATED}`,
  },
  {
    field: 'locks_cancels',
    name: 'lockstep_lock_cancels_total',
    kind: 'counter',
    help: `Waits cancelled (the client left). ${REPLICATED}`,
  },
  {
    field: 'locks_deadlocks',
    name: 'lockstep_lock_deadlocks_total',
    kind: 'counter',
    help: `Requests refused with -DEADLOCK. ${REPLICATED}`,
  },
  {
    field: 'locks_waiting_clients_here',
    name: 'lockstep_lock_waiting_clients',
    kind: 'gauge',
    help: 'Clients of this node blocked in LOCK.ACQUIRE ... WAIT now.',
  },
  {
    field: 'locks_ticks_proposed_here',
    name: 'lockstep_lock_ticks_proposed_total',
    kind: 'counter',
    help: 'Tick entries this node proposed as group 0 leader to expire leases and waits.',
  },
];

/** The INFO `locks` section (src/lock/resp-commands.ts) as metrics. */
export function lockSource(read: InfoReader): MetricsSource {
  return {
    name: 'locks',
    families: [
      ...infoFamilies(read, 'locks', LOCK_PROJECTIONS),
      {
        name: 'lockstep_lock_contended_requests',
        kind: 'gauge',
        help: `Requests not granted at once since the lock was last free, for the 5 most contended locks. ${REPLICATED}`,
        labelNames: ['lock'],
        read: () =>
          namedCounts(read('locks').get('locks_top_contended') ?? '').map(([lock, value]) => ({
            labels: { lock },
            value,
          })),
      },
    ],
  };
}
