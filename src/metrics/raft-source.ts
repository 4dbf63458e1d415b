import { parsePairs } from './info-fields.js';
import { type InfoReader, infoFamilies, type Projection } from './info-projection.js';
import type { MetricsSource, Sample, ValueFamily } from './source.js';

export const CLUSTER_PROJECTIONS: readonly Projection[] = [
  {
    field: 'cluster_size',
    name: 'lockstep_cluster_members',
    kind: 'gauge',
    help: 'Members of the cluster, as group 0 has applied.',
  },
  {
    field: 'cluster_members_up',
    name: 'lockstep_cluster_members_up',
    kind: 'gauge',
    help: 'Members in state up.',
  },
  {
    field: 'cluster_members_down',
    name: 'lockstep_cluster_members_down',
    kind: 'gauge',
    help: 'Members in state down or evicted (silent past down-after-ms).',
  },
  {
    field: 'cluster_epoch',
    name: 'lockstep_cluster_epoch',
    kind: 'gauge',
    help: 'Ring epoch: goes up on every membership change.',
  },
  {
    field: 'cluster_partitions',
    name: 'lockstep_cluster_partitions',
    kind: 'gauge',
    help: 'Queue partition groups (fixed at creation).',
  },
  {
    field: 'meta_term',
    name: 'lockstep_cluster_meta_term',
    kind: 'gauge',
    help: "Group 0's Raft term as this node sees it.",
  },
  {
    field: 'raft_groups_hosted',
    name: 'lockstep_raft_groups_hosted',
    kind: 'gauge',
    help: 'Raft groups with a replica on this node.',
  },
  {
    field: 'raft_groups_led',
    name: 'lockstep_raft_groups_led',
    kind: 'gauge',
    help: 'Raft groups this node leads.',
  },
];

/** INFO `cluster` fields exported otherwise (labels, a 0/1 gauge) or that are not figures. */
export const CLUSTER_NOT_PROJECTED = [
  'cluster_enabled',
  'cluster_state',
  'cluster_replicas',
  'meta_leader',
  'my_id',
  'my_state',
] as const;

export const RAFT_PROJECTIONS: readonly Projection[] = [
  {
    field: 'raft_groups',
    name: 'lockstep_raft_groups',
    kind: 'gauge',
    help: 'Raft groups hosted (same as lockstep_raft_groups_hosted).',
  },
  {
    field: 'raft_ready_cycles',
    name: 'lockstep_raft_ready_cycles_total',
    kind: 'counter',
    help: 'Ready rounds: persist, send, apply.',
  },
  {
    field: 'raft_messages_sent',
    name: 'lockstep_raft_messages_sent_total',
    kind: 'counter',
    help: 'Raft messages sent over the bus.',
  },
  {
    field: 'raft_messages_received',
    name: 'lockstep_raft_messages_received_total',
    kind: 'counter',
    help: 'Raft messages received over the bus.',
  },
  {
    field: 'raft_messages_dropped',
    name: 'lockstep_raft_messages_dropped_total',
    kind: 'counter',
    help: 'Raft messages dropped (peer unreachable, queue full, unknown group).',
  },
  {
    field: 'raft_snapshots_taken',
    name: 'lockstep_raft_snapshots_total',
    kind: 'counter',
    help: 'Snapshots taken (log compaction).',
  },
  {
    field: 'raft_forwarded_served',
    name: 'lockstep_raft_forwarded_served_total',
    kind: 'counter',
    help: 'Commands other nodes forwarded here, served as leader.',
  },
  {
    field: 'raft_forwards_in_flight',
    name: 'lockstep_raft_forwards_in_flight',
    kind: 'gauge',
    help: 'Commands this node forwarded and still waits for.',
  },
  {
    field: 'raft_proposal_retries',
    name: 'lockstep_raft_proposal_retries_total',
    kind: 'counter',
    help: 'Proposals retried after a leader change or a timeout.',
  },
  {
    field: 'storage_transactions',
    name: 'lockstep_storage_transactions_total',
    kind: 'counter',
    help: 'SQLite transactions of the Raft storage (one per Ready round).',
  },
  {
    field: 'storage_entries_appended',
    name: 'lockstep_storage_entries_appended_total',
    kind: 'counter',
    help: 'Raft log entries written to SQLite.',
  },
  {
    field: 'storage_last_txn_ms',
    name: 'lockstep_storage_last_transaction_seconds',
    kind: 'gauge',
    help: 'Duration of the latest storage transaction (fsync included).',
    scale: 0.001,
  },
  {
    field: 'storage_max_txn_ms',
    name: 'lockstep_storage_max_transaction_seconds',
    kind: 'gauge',
    help: 'Longest storage transaction since start.',
    scale: 0.001,
  },
  {
    field: 'event_loop_delay_p99_ms',
    name: 'lockstep_event_loop_delay_p99_seconds',
    kind: 'gauge',
    help: "99th percentile of the event loop's delay, as the Raft host measures it.",
    scale: 0.001,
  },
  {
    field: 'event_loop_delay_max_ms',
    name: 'lockstep_event_loop_delay_max_seconds',
    kind: 'gauge',
    help: 'Largest event loop delay the Raft host has measured.',
    scale: 0.001,
  },
];

/** One value per hosted group, from INFO `raft`'s `group<N>:role=...,leader=...,term=...` lines. */
function perGroup(
  read: InfoReader,
  name: string,
  help: string,
  value: (pairs: ReadonlyMap<string, string>) => number | undefined,
  extraLabel?: (pairs: ReadonlyMap<string, string>) => Record<string, string>,
): ValueFamily {
  return {
    name,
    kind: 'gauge',
    help,
    labelNames: extraLabel === undefined ? ['group'] : ['group', 'leader'],
    read: () => {
      const samples: Sample[] = [];
      for (const [field, text] of read('raft')) {
        const m = /^group(\d+)$/.exec(field);
        if (m === null) continue;
        const pairs = parsePairs(text);
        const v = value(pairs);
        if (v !== undefined && Number.isFinite(v)) {
          samples.push({ labels: { group: m[1]!, ...(extraLabel?.(pairs) ?? {}) }, value: v });
        }
      }
      return samples;
    },
  };
}

/** Membership (INFO `cluster`) and every hosted Raft group (INFO `raft`). */
export function raftSource(read: InfoReader): MetricsSource {
  return {
    name: 'raft',
    families: [
      {
        name: 'lockstep_cluster_state_ok',
        kind: 'gauge',
        help: '1 when this node is a member that sees a group 0 leader (CLUSTER.INFO cluster_state:ok), else 0.',
        labelNames: [],
        read: () => (read('cluster').get('cluster_state') === 'ok' ? 1 : 0),
      },
      ...infoFamilies(read, 'cluster', CLUSTER_PROJECTIONS),
      ...infoFamilies(read, 'raft', RAFT_PROJECTIONS),
      perGroup(read, 'lockstep_raft_term', 'Current Raft term, by group.', (p) => Number(p.get('term'))),
      perGroup(read, 'lockstep_raft_commit_index', 'Highest log index known committed, by group.', (p) =>
        Number(p.get('commit')),
      ),
      perGroup(read, 'lockstep_raft_applied_index', 'Highest log index applied here, by group.', (p) =>
        Number(p.get('applied')),
      ),
      perGroup(read, 'lockstep_raft_is_leader', '1 when this node leads the group, else 0.', (p) =>
        p.get('role') === 'leader' ? 1 : 0,
      ),
      perGroup(
        read,
        'lockstep_raft_leader_info',
        'Always 1; the leader label names the leader this node knows of, by group (absent while none is known).',
        (p) => ((p.get('leader') ?? '') === '' ? undefined : 1),
        (p) => ({ leader: p.get('leader') ?? '' }),
      ),
    ],
  };
}
