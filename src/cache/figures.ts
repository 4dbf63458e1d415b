import { quantileSeconds } from '../lib/histogram.js';
import { STABLE_CACHE_STATES } from './protocol.js';
import type { CacheService } from './service.js';

/**
 * Every figure the cache reports, in one list: CACHE.STATS replies them, `INFO cache` prints
 * them with a `cache_` prefix, and the metrics export the numeric ones.
 */
export function cacheFigures(service: CacheService): [string, number | string][] {
  const c = service.cache.counters();
  const d = service.directory.counters();
  const s = service.stats;
  const reads = c.readHits + c.readMisses;
  const lines = service.cache.linesByState();
  const latency = service.latency.snapshot();
  const ms = (seconds: number) => (Number.isNaN(seconds) ? 0 : Number((seconds * 1000).toFixed(3)));
  const figures: [string, number | string][] = [
    ['protocol', service.protocol],
    ['epoch', service.epoch],
    ['hits', c.readHits],
    ['misses', c.readMisses],
    ['hit_ratio', reads === 0 ? 0 : Number((c.readHits / reads).toFixed(4))],
    ['write_hits', c.writeHits],
    ['write_misses', c.writeMisses],
    ['upgrades', c.upgrades],
    ['invalidations_sent', d.invalidations],
    ['invalidations_received', c.invalidationsReceived],
    ['forwards_sent', d.forwards],
    ['forwards_received', c.forwardsReceived],
    ['writebacks', c.writebacks],
    ['evictions', c.evictions],
    ['capacity_evictions', c.capacityEvictions],
    ['lines', service.cache.size],
    ['bytes', service.cache.bytes],
  ];
  for (const state of STABLE_CACHE_STATES) {
    if (state === 'O' && service.protocol === 'mesi') continue;
    figures.push([`lines_${state}`, lines[state] ?? 0]);
  }
  const transient = Object.entries(lines)
    .filter(([state]) => !(STABLE_CACHE_STATES as readonly string[]).includes(state))
    .reduce((n, [, count]) => n + (count ?? 0), 0);
  figures.push(
    ['lines_transient', transient],
    ['home_entries', service.directory.size],
    ['home_memory_bytes', service.directory.memoryBytes],
    ['home_requests_queued', d.queued],
    ['home_memory_drops', d.memoryDrops],
    ['coherence_requests', latency.count],
    ['coherence_latency_mean_ms', ms(latency.count === 0 ? 0 : latency.sumSeconds / latency.count)],
    ['coherence_latency_p50_ms', ms(quantileSeconds(latency, 0.5))],
    ['coherence_latency_p99_ms', ms(quantileSeconds(latency, 0.99))],
    ['timeouts', s.timeouts],
    ['epoch_changes', s.epochChanges],
    ['resets_requested', service.resetsRequested],
    ['dirty_lost', s.dirtyLost],
    ['flushed_operations', s.flushedOperations],
    ['stale_frames', s.staleFrames],
    ['messages_sent', s.messagesSent],
    ['messages_received', s.messagesReceived],
    ['protocol_errors', s.protocolErrors],
  );
  return figures;
}
