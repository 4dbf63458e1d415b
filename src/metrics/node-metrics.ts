import type { InfoRegistry } from '../server/info.js';
import type { CommandLatency } from './command-latency.js';
import { infoReader } from './info-projection.js';
import { addLatencyInfo } from './latency-info.js';
import { lockSource } from './lock-source.js';
import { queueSource } from './queue-source.js';
import { raftSource } from './raft-source.js';
import { NodeMetrics } from './registry.js';
import { serverSource } from './server-source.js';

/**
 * The metrics of one node: process metrics, and the server, Raft, lock and queue figures as
 * projections of their INFO sections; adds `INFO latencystats`. Other parts (the cache) add
 * their sources to the result with `addSource`.
 */
export function createNodeMetrics(
  info: InfoRegistry,
  latency: CommandLatency,
  onReadError: (metric: string, err: unknown) => void,
): NodeMetrics {
  const metrics = new NodeMetrics({ processMetrics: true, onReadError });
  const read = infoReader(info);
  metrics.addSource(serverSource(read, latency));
  metrics.addSource(raftSource(read));
  metrics.addSource(lockSource(read));
  metrics.addSource(queueSource(read));
  addLatencyInfo(info, latency);
  return metrics;
}
