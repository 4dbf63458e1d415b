/**
 * HTTP load with autocannon's programmatic API, reported like a redis-benchmark run (rps, p50,
 * p99 in ms), for the etcd side of the replicated-write comparison.
 *
 * autocannon's own summary is not used for the figures: with `amount` it notices the end only
 * at its next 1 s sample tick (which inflates the duration) and its latency histogram keeps
 * whole milliseconds. Instead every response is timed from autocannon's per-request duration
 * (hrtime, fractional ms) and the run lasts from the call until the last response.
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { LoadResult } from './redis-benchmark.js';

/** The part of autocannon 8's API used here (the package ships no types). */
interface AutocannonOptions {
  url: string;
  method: 'POST' | 'GET';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  pipelining: number;
  amount: number;
  /** Seconds without a response before a request counts as a timeout. */
  timeout: number;
  sampleInt?: number;
}
interface AutocannonSummary {
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonTracker {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void,
  ): void;
  stop(): void;
}
type Autocannon = (
  options: AutocannonOptions,
  done: (error: Error | null, result: AutocannonSummary) => void,
) => AutocannonTracker;

const require = createRequire(import.meta.url);

export interface HttpLoadSpec {
  url: string;
  body: string;
  connections: number;
  requests: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The `q`-quantile (0..1) of sorted values, by linear interpolation between closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

/** POSTs `body` to `url` `requests` times over `connections` keep-alive connections. */
export function runHttpLoad(spec: HttpLoadSpec): Promise<LoadResult> {
  const autocannon = require('autocannon') as Autocannon;
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let failure: Error | undefined;
    let lastResponseAt = 0;
    const startedAt = performance.now();
    const tracker = autocannon(
      {
        url: spec.url,
        method: 'POST',
        body: spec.body,
        headers: { 'content-type': 'application/json' },
        connections: spec.connections,
        pipelining: 1,
        amount: spec.requests,
        timeout: 10,
        // Only affects autocannon's own summary and how soon it notices the end.
        sampleInt: 100,
      },
      (error, summary) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        if (failure !== undefined) return reject(failure);
        if (error !== null) return reject(error);
        const bad = summary.errors + summary.timeouts + summary.non2xx;
        if (bad > 0) {
          const codes = Object.entries(summary.statusCodeStats)
            .map(([code, { count }]) => `${code}×${count}`)
            .join(' ');
          return reject(
            new Error(
              `autocannon: ${summary.errors} errors, ${summary.timeouts} timeouts, ${summary.non2xx} non-2xx (status ${codes})`,
            ),
          );
        }
        if (latencies.length < spec.requests) {
          return reject(new Error(`autocannon: ${latencies.length} of ${spec.requests} responses`));
        }
        latencies.sort((a, b) => a - b);
        const seconds = (lastResponseAt - startedAt) / 1000;
        resolve({
          test: `POST ${new URL(spec.url).pathname}`,
          rps: latencies.length / seconds,
          avgLatencyMs: latencies.reduce((sum, v) => sum + v, 0) / latencies.length,
          minLatencyMs: latencies[0]!,
          p50LatencyMs: quantile(latencies, 0.5),
          p95LatencyMs: quantile(latencies, 0.95),
          p99LatencyMs: quantile(latencies, 0.99),
          maxLatencyMs: latencies[latencies.length - 1]!,
        });
      },
    );
    tracker.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
      lastResponseAt = performance.now();
    });
    const fail = (error: Error): void => {
      failure ??= error;
      tracker.stop();
    };
    const timer = setTimeout(
      () => fail(new Error(`autocannon timed out after ${spec.timeoutMs} ms`)),
      spec.timeoutMs,
    );
    const onAbort = (): void => fail(new Error(`autocannon aborted: ${String(spec.signal?.reason)}`));
    if (spec.signal?.aborted) onAbort();
    spec.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
