import { quantileSeconds } from '../lib/histogram.js';
import type { InfoRegistry } from '../server/info.js';
import type { CommandLatency } from './command-latency.js';

/** Redis 7's percentiles, in its field format. */
const PERCENTILES = [
  ['p50', 0.5],
  ['p99', 0.99],
  ['p99.9', 0.999],
] as const;

/**
 * `INFO latencystats`, as Redis 7 shows it (`latency_percentiles_usec_<command>:p50=...`), read
 * from the same histograms as `lockstep_command_duration_seconds`: the percentiles are
 * interpolated inside fixed buckets (Prometheus's `histogram_quantile`), not exact.
 */
export function addLatencyInfo(info: InfoRegistry, latency: CommandLatency): void {
  info.add(
    'latencystats',
    'Latencystats',
    () =>
      // A command is listed from its first completed call, as in Redis.
      latency
        .snapshots()
        .filter(([, snapshot]) => snapshot.count > 0)
        .map(([command, snapshot]) => {
          const text = PERCENTILES.map(
            ([label, q]) => `${label}=${(quantileSeconds(snapshot, q) * 1e6).toFixed(3)}`,
          );
          return [`latency_percentiles_usec_${command}`, text.join(',')] as const;
        }),
    false,
  );
}
