import os from 'node:os';
import type { Dispatcher } from './dispatcher.js';
import type { InfoRegistry } from './info.js';
import type { RespServer } from './listener.js';

export interface ServerFacts {
  readonly nodeId: string;
  readonly version: string;
  readonly port: number;
  readonly startedAtMs: number;
}

/** The Redis-standard INFO sections this layer knows the figures for. */
export function addStandardInfo(
  info: InfoRegistry,
  facts: ServerFacts,
  server: RespServer,
  dispatcher: Dispatcher,
): void {
  info.add('server', 'Server', () => [
    ['lockstep_version', facts.version],
    // Clients gate features on redis_version; we speak the Redis 7 protocol (RESP3, HELLO, COMMAND DOCS).
    ['redis_version', '7.2.0'],
    ['redis_mode', 'standalone'],
    ['node_id', facts.nodeId],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`],
    ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
    ['process_id', process.pid],
    ['node_version', process.version],
    ['tcp_port', facts.port],
    ['uptime_in_seconds', Math.floor((Date.now() - facts.startedAtMs) / 1000)],
    ['uptime_in_days', Math.floor((Date.now() - facts.startedAtMs) / 86_400_000)],
    ['executable', process.argv[1] ?? ''],
  ]);
  info.add('clients', 'Clients', () => {
    let maxOutput = 0;
    for (const connection of server.connections.values()) {
      maxOutput = Math.max(maxOutput, connection.outputBytes);
    }
    return [
      ['connected_clients', server.connections.size],
      ['client_recent_max_output_buffer', maxOutput],
      ['rejected_connections', server.rejectedConnections],
    ];
  });
  info.add('memory', 'Memory', () => {
    const usage = process.memoryUsage();
    return [
      ['used_memory', usage.heapUsed + usage.external],
      ['used_memory_rss', usage.rss],
      ['used_memory_heap_total', usage.heapTotal],
      ['used_memory_external', usage.external],
    ];
  });
  info.add('persistence', 'Persistence', () => [
    // ioredis waits for loading:0 before it reports ready.
    ['loading', 0],
  ]);
  info.add('stats', 'Stats', () => {
    let processed = 0;
    let rejected = 0;
    for (const stats of dispatcher.stats().values()) {
      processed += stats.calls;
      rejected += stats.rejectedCalls;
    }
    return [
      ['total_connections_received', server.totalConnections],
      ['total_commands_processed', processed],
      ['rejected_calls', rejected],
    ];
  });
  info.add(
    'commandstats',
    'Commandstats',
    function* () {
      for (const [name, s] of dispatcher.stats()) {
        const perCall = s.calls > 0 ? s.totalMicros / s.calls : 0;
        yield [
          `cmdstat_${name}`,
          `calls=${s.calls},usec=${Math.round(s.totalMicros)},usec_per_call=${perCall.toFixed(2)},` +
            `rejected_calls=${s.rejectedCalls},failed_calls=${s.failedCalls}`,
        ] as const;
      }
    },
    false,
  );
}
