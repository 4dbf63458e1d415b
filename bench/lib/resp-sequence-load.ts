/**
 * The RESP counterpart of http-sequence-load.ts for the `http` suite: N connections of
 * bench/lib/resp-client.ts (JavaScript in the harness process, like autocannon, so the two
 * lanes pay for the same kind of load generator), each looping a sequence of commands, one
 * at a time, until `requests` commands have been answered.
 */
import { performance } from 'node:perf_hooks';
import { loadResult } from './http-sequence-load.js';
import type { LoadResult } from './redis-benchmark.js';
import { RespConnection, RespError } from './resp-client.js';

export interface RespSequenceSpec {
  port: number;
  /** The commands of one loop of client `client` (0-based). */
  sequence: (client: number) => readonly (readonly string[])[];
  connections: number;
  requests: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export async function runRespSequence(spec: RespSequenceSpec): Promise<LoadResult> {
  const connections = await Promise.all(
    Array.from({ length: spec.connections }, () => RespConnection.connect(spec.port)),
  );
  const latencies: number[] = [];
  let started = 0;
  const deadline = Date.now() + spec.timeoutMs;
  const startedAt = performance.now();
  try {
    await Promise.all(
      connections.map(async (connection, client) => {
        const sequence = spec.sequence(client);
        for (let step = 0; started < spec.requests; step = (step + 1) % sequence.length) {
          if (spec.signal?.aborted) throw new Error(`aborted: ${String(spec.signal.reason)}`);
          if (Date.now() > deadline) throw new Error(`RESP load timed out after ${spec.timeoutMs} ms`);
          started++;
          const args = sequence[step]!;
          const sentAt = performance.now();
          const reply = await connection.command(args, 10_000);
          latencies.push(performance.now() - sentAt);
          if (reply instanceof RespError) throw new Error(`${args.join(' ')}: -${reply.message}`);
        }
      }),
    );
  } finally {
    for (const connection of connections) connection.close();
  }
  const durationMs = performance.now() - startedAt;
  latencies.sort((a, b) => a - b);
  return loadResult('RESP', latencies, durationMs);
}
