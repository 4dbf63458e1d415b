/**
 * HTTP load for the `http` suite: autocannon's programmatic API, each connection looping a
 * sequence of requests (acquire then release, say) that may carry per-connection state, timed
 * per response as in autocannon-load.ts (autocannon's own summary rounds latencies to whole
 * milliseconds and notices the end late).
 */
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { quantile } from './autocannon-load.js';
import type { LoadResult } from './redis-benchmark.js';

/** One request of a sequence; `body` may use the connection's context (reset every loop). */
export interface SequenceStep {
  method: 'GET' | 'POST';
  path: string;
  body?: (context: Record<string, unknown>) => string;
}

export interface SequenceLoadSpec {
  baseUrl: string;
  steps: readonly SequenceStep[];
  connections: number;
  /** Requests in all (each step counts one). */
  requests: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Checks each response body; a thrown error fails the run (a lock that was not granted, say). */
  check?: (stepIndex: number, status: number, body: string) => void;
}

interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  setupRequest?: (
    request: AutocannonRequest & { body?: string },
    context: Record<string, unknown>,
  ) => unknown;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface AutocannonSummary {
  errors: number;
  timeouts: number;
  non2xx: number;
}
interface Tracker {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  stop(): void;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    pipelining: number;
    amount: number;
    timeout: number;
    sampleInt: number;
    requests: AutocannonRequest[];
  },
  done: (error: Error | null, summary: AutocannonSummary) => void,
) => Tracker;

const require = createRequire(import.meta.url);

export function runHttpSequence(spec: SequenceLoadSpec): Promise<LoadResult> {
  const autocannon = require('autocannon') as Autocannon;
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let failure: Error | undefined;
    let lastResponseAt = 0;
    const startedAt = performance.now();
    const requests: AutocannonRequest[] = spec.steps.map((step, index) => ({
      method: step.method,
      path: step.path,
      headers: { 'content-type': 'application/json' },
      setupRequest: (request, context) =>
        step.body === undefined ? request : { ...request, body: step.body(context) },
      onResponse: (status, body) => {
        if (spec.check === undefined || failure !== undefined) return;
        try {
          spec.check(index, status, body);
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      },
    }));
    const tracker = autocannon(
      {
        url: spec.baseUrl,
        connections: spec.connections,
        pipelining: 1,
        amount: spec.requests,
        timeout: 10,
        sampleInt: 100,
        requests,
      },
      (error, summary) => {
        clearTimeout(timer);
        spec.signal?.removeEventListener('abort', onAbort);
        if (failure !== undefined) return reject(failure);
        if (error !== null) return reject(error);
        const bad = summary.errors + summary.timeouts + summary.non2xx;
        if (bad > 0) {
          return reject(
            new Error(
              `autocannon: ${summary.errors} errors, ${summary.timeouts} timeouts, ${summary.non2xx} non-2xx`,
            ),
          );
        }
        if (latencies.length < spec.requests) {
          return reject(new Error(`autocannon: ${latencies.length} of ${spec.requests} responses`));
        }
        latencies.sort((a, b) => a - b);
        resolve(
          loadResult(
            `HTTP ${spec.steps.map((s) => `${s.method} ${s.path}`).join(' + ')}`,
            latencies,
            lastResponseAt - startedAt,
          ),
        );
      },
    );
    tracker.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
      lastResponseAt = performance.now();
    });
    function fail(error: Error): void {
      failure ??= error;
      tracker.stop();
    }
    const timer = setTimeout(
      () => fail(new Error(`autocannon timed out after ${spec.timeoutMs} ms`)),
      spec.timeoutMs,
    );
    const onAbort = (): void => fail(new Error(`aborted: ${String(spec.signal?.reason)}`));
    if (spec.signal?.aborted) onAbort();
    spec.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Figures of a run from its sorted per-request latencies (ms) and its duration. */
export function loadResult(
  test: string,
  sortedLatenciesMs: readonly number[],
  durationMs: number,
): LoadResult {
  const n = sortedLatenciesMs.length;
  return {
    test,
    rps: n / (durationMs / 1000),
    avgLatencyMs: sortedLatenciesMs.reduce((sum, v) => sum + v, 0) / n,
    minLatencyMs: sortedLatenciesMs[0]!,
    p50LatencyMs: quantile(sortedLatenciesMs, 0.5),
    p95LatencyMs: quantile(sortedLatenciesMs, 0.95),
    p99LatencyMs: quantile(sortedLatenciesMs, 0.99),
    maxLatencyMs: sortedLatenciesMs[n - 1]!,
  };
}
