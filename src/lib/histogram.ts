/**
 * A latency histogram on fixed upper bounds, in seconds: what a Prometheus histogram exposes
 * (per-bucket counts, sum, count) and what `INFO latencystats` reads its percentiles from.
 * Recording is a short scan and two additions, cheap enough for every command.
 */

/**
 * Upper bounds for command latency: 10 µs (a PING) to 10 s (a long lock wait), roughly 1-2.5-5
 * per decade, so a percentile read from the buckets is within a factor of about 2.5.
 */
export const COMMAND_BUCKETS_SECONDS: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1, 2.5, 5, 10,
];

/** What a histogram holds at one instant; `counts[i]` is per bucket (not cumulative), the last is +Inf. */
export interface HistogramSnapshot {
  readonly upperBoundsSeconds: readonly number[];
  readonly counts: readonly number[];
  readonly sumSeconds: number;
  readonly count: number;
}

export class Histogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sumSeconds = 0;
  #count = 0;

  constructor(upperBoundsSeconds: readonly number[] = COMMAND_BUCKETS_SECONDS) {
    for (let i = 1; i < upperBoundsSeconds.length; i++) {
      if (!(upperBoundsSeconds[i]! > upperBoundsSeconds[i - 1]!)) {
        throw new Error(`histogram bounds must ascend: ${upperBoundsSeconds.join(', ')}`);
      }
    }
    this.#bounds = upperBoundsSeconds;
    this.#counts = new Array<number>(upperBoundsSeconds.length + 1).fill(0);
  }

  record(seconds: number): void {
    // The first bound >= seconds (Prometheus buckets are `le`). A linear scan from the bottom:
    // most commands land in the first bucket or two, where it beats a binary search.
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && bounds[i]! < seconds) i++;
    this.#counts[i]!++;
    this.#sumSeconds += seconds;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  snapshot(): HistogramSnapshot {
    return {
      upperBoundsSeconds: this.#bounds,
      counts: [...this.#counts],
      sumSeconds: this.#sumSeconds,
      count: this.#count,
    };
  }
}

/**
 * The `q` quantile (0..1) of a snapshot, interpolated linearly inside its bucket as
 * Prometheus's `histogram_quantile` does (the first bucket starts at 0). A quantile in the +Inf
 * bucket is the highest finite bound; NaN with no samples.
 */
export function quantileSeconds(s: HistogramSnapshot, q: number): number {
  if (s.count === 0) return Number.NaN;
  const rank = q * s.count;
  let below = 0;
  for (let i = 0; i < s.counts.length; i++) {
    const inBucket = s.counts[i]!;
    if (below + inBucket >= rank && inBucket > 0) {
      const upper = s.upperBoundsSeconds[i];
      if (upper === undefined) return s.upperBoundsSeconds[s.upperBoundsSeconds.length - 1] ?? Number.NaN;
      const lower = i === 0 ? 0 : s.upperBoundsSeconds[i - 1]!;
      return lower + (upper - lower) * ((rank - below) / inBucket);
    }
    below += inBucket;
  }
  return s.upperBoundsSeconds[s.upperBoundsSeconds.length - 1] ?? Number.NaN;
}
