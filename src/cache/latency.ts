/**
 * Coherence round-trip latency (a miss or an upgrade, from the local request to its
 * completion): a histogram on fixed log-spaced buckets, cheap enough for every operation.
 * Percentiles are read at the upper bound of their bucket (at most ~19% high).
 */
const BUCKET_UPPER_MS: readonly number[] = Array.from({ length: 48 }, (_, i) => 0.05 * 1.2 ** i);

export class LatencyHistogram {
  readonly #counts = new Array<number>(BUCKET_UPPER_MS.length + 1).fill(0);
  #count = 0;
  #sumMs = 0;

  record(ms: number): void {
    let i = 0;
    while (i < BUCKET_UPPER_MS.length && ms > BUCKET_UPPER_MS[i]!) i++;
    this.#counts[i]!++;
    this.#count++;
    this.#sumMs += ms;
  }

  get count(): number {
    return this.#count;
  }

  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sumMs / this.#count;
  }

  /** The upper bound of the bucket holding quantile `q` (0..1); 0 with no samples. */
  quantileMs(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.ceil(q * this.#count);
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return BUCKET_UPPER_MS[i] ?? Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }
}
