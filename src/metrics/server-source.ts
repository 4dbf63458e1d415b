import type { CommandLatency } from './command-latency.js';
import { parsePairs } from './info-fields.js';
import { type InfoReader, infoFamilies } from './info-projection.js';
import type { MetricsSource, Sample } from './source.js';

/**
 * The front door: build info, connections, per-command counts (INFO `server`, `clients`,
 * `stats`, `commandstats`) and the per-command latency histogram (also `INFO latencystats`).
 */
export function serverSource(read: InfoReader, latency: CommandLatency): MetricsSource {
  return {
    name: 'server',
    families: [
      {
        name: 'lockstep_build_info',
        kind: 'gauge',
        help: 'Always 1; the labels name the node and its lockstep version.',
        labelNames: ['node', 'version'],
        read: () => {
          const server = read('server');
          return [
            {
              labels: { node: server.get('node_id') ?? '', version: server.get('lockstep_version') ?? '' },
              value: 1,
            },
          ];
        },
      },
      ...infoFamilies(read, 'clients', [
        {
          field: 'connected_clients',
          name: 'lockstep_connected_clients',
          kind: 'gauge',
          help: 'RESP client connections open now.',
        },
        {
          field: 'client_recent_max_output_buffer',
          name: 'lockstep_client_max_output_buffer_bytes',
          kind: 'gauge',
          help: 'Largest unsent output of any RESP client now.',
        },
        {
          field: 'rejected_connections',
          name: 'lockstep_connections_rejected_total',
          kind: 'counter',
          help: 'RESP connections refused because maxclients was reached.',
        },
      ]),
      ...infoFamilies(read, 'stats', [
        {
          field: 'total_connections_received',
          name: 'lockstep_connections_received_total',
          kind: 'counter',
          help: 'RESP connections accepted.',
        },
      ]),
      commandStatFamily(
        read,
        'lockstep_commands_total',
        'calls',
        'Commands run (RESP and HTTP API), by command.',
      ),
      commandStatFamily(
        read,
        'lockstep_command_failures_total',
        'failed_calls',
        'Commands that ran and answered an error (-NOQUORUM, -DEADLOCK, ...), by command.',
      ),
      commandStatFamily(
        read,
        'lockstep_command_rejections_total',
        'rejected_calls',
        'Commands refused before running (arity, authentication, ACL), by command.',
      ),
      {
        name: 'lockstep_command_duration_seconds',
        kind: 'histogram',
        help: 'Time from dispatch to reply, by command (forwarding, Raft commit and lock waits included).',
        labelNames: ['command'],
        read: () => latency.snapshots().map(([command, snapshot]) => ({ labels: { command }, snapshot })),
      },
    ],
  };
}

function commandStatFamily(read: InfoReader, name: string, key: string, help: string) {
  return {
    name,
    kind: 'counter' as const,
    help,
    labelNames: ['command'],
    read: (): Sample[] => {
      const samples: Sample[] = [];
      for (const [field, text] of read('commandstats')) {
        if (!field.startsWith('cmdstat_')) continue;
        const value = Number(parsePairs(text).get(key));
        if (Number.isFinite(value))
          samples.push({ labels: { command: field.slice('cmdstat_'.length) }, value });
      }
      return samples;
    },
  };
}
