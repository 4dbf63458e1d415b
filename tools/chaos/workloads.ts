/**
 * The clients of a chaos run: lock holders, queue producers and consumers, cache readers and
 * writers. Each process is one connection to one node and does one operation at a time, as a
 * Jepsen client does, so its history is sequential; many processes on different nodes make the
 * concurrency. Every value written is unique in the run, so a read names the write it saw.
 */
import type { Random } from '../../src/lib/random.js';
import { ChaosClient } from './client.js';
import { type Completion, complete, type Recorder } from './recorder.js';

export const LOCKS = ['lock-a', 'lock-b', 'lock-c'] as const;
export const QUEUES = ['queue-a', 'queue-b', 'queue-c', 'queue-d'] as const;
export const CACHE_KEYS = ['key-a', 'key-b', 'key-c', 'key-d'] as const;

/** A lock's lease: long enough to outlive a slow round, short enough to expire within a fault. */
export const LOCK_TTL_MS = 3000;
const OP_TIMEOUT_MS = 5000;
/** After an error, wait before the next operation instead of spinning on a dead node. */
const BACKOFF_MS = 100;

export interface Process {
  readonly id: number;
  readonly node: string;
  readonly client: ChaosClient;
}

export interface WorkloadContext {
  readonly recorder: Recorder;
  readonly random: Random;
  /** Checked between operations: stop when it says so. */
  readonly running: () => boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pick = <T>(random: Random, xs: readonly T[]): T => xs[random.int(0, xs.length - 1)]!;

export function openProcess(id: number, node: string, port: number): Process {
  return { id, node, client: new ChaosClient(port) };
}

async function pause(done: Completion, random: Random): Promise<void> {
  await sleep(done.type === 'ok' ? random.int(0, 10) : BACKOFF_MS);
}

/**
 * Takes a random lock exclusively without waiting, holds it a moment, releases it. Every
 * attempt uses a fresh owner name, so an acquire whose outcome is unknown can never make a
 * later grant to the same process look like a second hold of one grant.
 */
export async function lockWorker(p: Process, ctx: WorkloadContext): Promise<void> {
  let attempt = 0;
  while (ctx.running()) {
    const name = pick(ctx.random, LOCKS);
    const owner = `p${p.id}-${attempt++}`;
    const base = { process: p.id, node: p.node, workload: 'lock' as const, key: name };
    const acquired = await ctx.recorder.op({ ...base, f: 'acquire', value: { owner } }, async () =>
      complete(
        await p.client.call(
          ['LOCK.ACQUIRE', name, 'EXCLUSIVE', 'OWNER', owner, 'TTL', LOCK_TTL_MS],
          OP_TIMEOUT_MS,
        ),
        (v) =>
          v === null
            ? { type: 'fail', error: 'held by another owner' }
            : { type: 'ok', value: { token: Number(v), ttlMs: LOCK_TTL_MS, owner } },
      ),
    );
    if (acquired.type !== 'ok') {
      await pause(acquired, ctx.random);
      continue;
    }
    await sleep(ctx.random.int(10, 150));
    const token = (acquired.value as { token: number }).token;
    const released = await ctx.recorder.op({ ...base, f: 'release', value: { token, owner } }, async () =>
      complete(
        await p.client.call(['LOCK.RELEASE', name, 'OWNER', owner, 'TOKEN', token], OP_TIMEOUT_MS),
        (v) => (v === 1 ? { type: 'ok' } : { type: 'fail', error: 'not held (lease expired)' }),
      ),
    );
    await pause(released, ctx.random);
  }
}

/** Pushes unique bodies to random queues. */
export async function producer(p: Process, ctx: WorkloadContext): Promise<void> {
  let seq = 0;
  while (ctx.running()) {
    const queue = pick(ctx.random, QUEUES);
    const body = `m-${p.id}-${seq++}`;
    const done = await ctx.recorder.op(
      { process: p.id, node: p.node, workload: 'queue', f: 'push', key: queue, value: body },
      async () =>
        complete(await p.client.call(['Q.PUSH', queue, body], OP_TIMEOUT_MS), (v) => ({
          type: 'ok',
          value: String(v),
        })),
    );
    // A consumer needs two round trips per message (pop, ack): pushing slower keeps the backlog,
    // and the drain at the end, short.
    await sleep(done.type === 'ok' ? ctx.random.int(5, 25) : BACKOFF_MS);
  }
}

/** Pops from random queues (a short lease, so lost pops come back soon) and acks what it got. */
export async function consumer(p: Process, ctx: WorkloadContext, visibilityMs: number): Promise<number> {
  let emptyPops = 0;
  while (ctx.running()) {
    const queue = pick(ctx.random, QUEUES);
    const base = { process: p.id, node: p.node, workload: 'queue' as const, key: queue };
    const popped = await ctx.recorder.op({ ...base, f: 'pop' }, async () =>
      complete(await p.client.call(['Q.POP', queue, 'VISIBILITY', visibilityMs], OP_TIMEOUT_MS), (v) => {
        if (v === null) return { type: 'ok', value: null };
        const [id, body] = v as [string, string];
        return { type: 'ok', value: { id: String(id), body: String(body) } };
      }),
    );
    if (popped.type !== 'ok' || popped.value === null) {
      if (popped.type === 'ok') emptyPops++;
      await pause(popped.type === 'ok' ? { type: 'fail' } : popped, ctx.random);
      continue;
    }
    const { id } = popped.value as { id: string };
    const acked = await ctx.recorder.op({ ...base, f: 'ack', value: id }, async () =>
      complete(await p.client.call(['Q.ACK', queue, id], OP_TIMEOUT_MS), (v) =>
        Number(v) === 1 ? { type: 'ok' } : { type: 'fail', error: 'not acked (lease lost)' },
      ),
    );
    await pause(acked, ctx.random);
  }
  return emptyPops;
}

/** Reads and writes a few hot keys; writes carry unique values. */
export async function cacheWorker(p: Process, ctx: WorkloadContext): Promise<void> {
  let seq = 0;
  while (ctx.running()) {
    const key = pick(ctx.random, CACHE_KEYS);
    const base = { process: p.id, node: p.node, workload: 'cache' as const, key };
    let done: Completion;
    if (ctx.random.next() < 0.4) {
      const value = `v-${p.id}-${seq++}`;
      done = await ctx.recorder.op({ ...base, f: 'write', value }, async () =>
        complete(await p.client.call(['CACHE.SET', key, value], OP_TIMEOUT_MS), () => ({ type: 'ok' })),
      );
    } else {
      done = await ctx.recorder.op({ ...base, f: 'read' }, async () =>
        complete(await p.client.call(['CACHE.GET', key], OP_TIMEOUT_MS), (v) => ({
          type: 'ok',
          value: v === null ? null : String(v),
        })),
      );
    }
    await pause(done, ctx.random);
  }
}
