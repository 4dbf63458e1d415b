import { infoFamilies, infoReader } from '../metrics/info-projection.js';
import type { MetricsSource } from '../metrics/source.js';
import type { InfoRegistry } from '../server/info.js';
import { cacheFigures } from './figures.js';
import type { CacheService } from './service.js';

/**
 * The cache's metrics (src/metrics/README.md): its counters read from the `cache` INFO section
 * on every scrape (one source per figure), the lines per state, and the coherence round trip as
 * a histogram; its status-page panel shows `cacheFigures`.
 */
export function cacheMetricsSource(service: CacheService, info: InfoRegistry): MetricsSource {
  const read = infoReader(info);
  const counter = (field: string, help: string) => ({
    field: `cache_${field}`,
    name: `lockstep_cache_${field}_total`,
    kind: 'counter' as const,
    help,
  });
  const gauge = (field: string, name: string, help: string) => ({
    field: `cache_${field}`,
    name: `lockstep_cache_${name}`,
    kind: 'gauge' as const,
    help,
  });
  return {
    name: 'cache',
    families: [
      ...infoFamilies(read, 'cache', [
        counter('hits', 'Reads served by a local line (M, E, S or O).'),
        counter('misses', "Reads that went to the key's home."),
        counter('write_hits', 'Writes done locally (the line was M or E).'),
        counter('write_misses', 'Writes that needed the home (from I, S or O).'),
        counter('invalidations_sent', 'Invalidations this node sent as a home.'),
        counter('invalidations_received', 'Invalidations this node received for its lines.'),
        counter('writebacks', 'Dirty values sent home (evictions of M/O lines, MESI downgrades).'),
        counter('evictions', 'Lines given up, by CACHE eviction or the byte bound.'),
        counter('timeouts', 'Operations that did not complete within request-timeout-ms.'),
        counter('epoch_changes', 'Ring changes; each one emptied the cache and the directory.'),
        counter(
          'resets_requested',
          'New cache epochs this node asked for because bus messages may have been lost.',
        ),
        counter('dirty_lost', 'Dirty lines lost to ring changes (their values are gone).'),
        gauge('hit_ratio', 'hit_ratio', 'Read hits over reads since the node started (0..1).'),
        gauge('bytes', 'bytes', "Bytes of keys and values in this node's local cache."),
        gauge('home_entries', 'home_entries', 'Directory entries this node keeps as a home.'),
        gauge(
          'home_memory_bytes',
          'home_memory_bytes',
          'Bytes of the memory copies this node keeps as a home.',
        ),
      ]),
      {
        name: 'lockstep_cache_lines',
        kind: 'gauge',
        help: 'Lines in the local cache by state (transient states included).',
        labelNames: ['state'],
        read: () =>
          Object.entries(service.cache.linesByState()).map(([state, n]) => ({
            labels: { state },
            value: n ?? 0,
          })),
      },
      {
        name: 'lockstep_cache_coherence_duration_seconds',
        kind: 'histogram',
        labelNames: [],
        help: 'Round trip of a miss or an upgrade, from the request to its completion.',
        read: () => [{ labels: {}, snapshot: service.latency.snapshot() }],
      },
    ],
    panel: () => Object.fromEntries(cacheFigures(service)),
  };
}
