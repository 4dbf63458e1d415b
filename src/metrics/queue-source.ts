import { namedCounts, numberField } from './info-fields.js';
import { type InfoReader, infoFamilies, type Projection } from './info-projection.js';
import type { MetricsSource, Sample } from './source.js';

/**
 * Figures of the partitions this node leads: each partition is counted by its leader only, so
 * summing over the nodes gives the cluster's figure. They move with leadership, which is why
 * even the cumulative ones are gauges (a counter must never go down).
 */
const LED = 'Over the partitions this node leads (sum over nodes for the cluster).';

export const QUEUE_PROJECTIONS: readonly Projection[] = [
  { field: 'queues_led_here', name: 'lockstep_queues', kind: 'gauge', help: `Queues with a record. ${LED}` },
  {
    field: 'queue_pushed_total',
    name: 'lockstep_queue_led_pushed_messages',
    kind: 'gauge',
    help: `Messages pushed since each queue's record was created. ${LED}`,
  },
  {
    field: 'queue_acked_total',
    name: 'lockstep_queue_led_acked_messages',
    kind: 'gauge',
    help: `Messages acked since each queue's record was created. ${LED}`,
  },
  {
    field: 'queue_redelivered_total',
    name: 'lockstep_queue_led_redelivered_messages',
    kind: 'gauge',
    help: `Messages whose lease ran out and went back to ready (redeliveries). ${LED}`,
  },
  {
    field: 'queue_dead_lettered_total',
    name: 'lockstep_queue_led_dead_lettered_messages',
    kind: 'gauge',
    help: `Messages moved to a dead-letter list. ${LED}`,
  },
  {
    field: 'queue_push_calls_here',
    name: 'lockstep_queue_push_calls_total',
    kind: 'counter',
    help: 'Q.PUSH calls taken by this node.',
  },
  {
    field: 'queue_pop_calls_here',
    name: 'lockstep_queue_pop_calls_total',
    kind: 'counter',
    help: 'Q.POP calls taken by this node.',
  },
  {
    field: 'queue_ack_calls_here',
    name: 'lockstep_queue_ack_calls_total',
    kind: 'counter',
    help: 'Q.ACK calls taken by this node.',
  },
  {
    field: 'queue_blocked_clients_here',
    name: 'lockstep_queue_blocked_clients',
    kind: 'gauge',
    help: 'Clients of this node blocked in Q.POP ... BLOCK now.',
  },
  {
    field: 'queue_ticks_proposed_here',
    name: 'lockstep_queue_ticks_proposed_total',
    kind: 'counter',
    help: 'Tick entries this node proposed as a partition leader to expire leases and delays.',
  },
];

const MESSAGE_STATES = ['ready', 'inflight', 'delayed', 'dead'] as const;

/** The INFO `queues` section (src/queue/resp-commands.ts) as metrics. */
export function queueSource(read: InfoReader): MetricsSource {
  return {
    name: 'queues',
    families: [
      {
        name: 'lockstep_queue_messages',
        kind: 'gauge',
        help: `Messages by state: ready, inflight (leased to a consumer), delayed, dead. ${LED}`,
        labelNames: ['state'],
        read: () => {
          const fields = read('queues');
          const samples: Sample[] = [];
          for (const state of MESSAGE_STATES) {
            const value = numberField(fields, `queue_messages_${state}`);
            if (value !== undefined) samples.push({ labels: { state }, value });
          }
          return samples;
        },
      },
      ...infoFamilies(read, 'queues', QUEUE_PROJECTIONS),
      {
        name: 'lockstep_queue_depth',
        kind: 'gauge',
        help: `Ready + inflight + delayed messages of the 10 deepest queues. ${LED}`,
        labelNames: ['queue'],
        read: () =>
          namedCounts(read('queues').get('queue_deepest') ?? '').map(([queue, value]) => ({
            labels: { queue },
            value,
          })),
      },
    ],
  };
}
