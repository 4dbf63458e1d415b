import fc from 'fast-check';
import type { MemberAddress, MetaCommand } from '../../../src/cluster/meta/commands.js';
import { type MetaResult, MetaState } from '../../../src/cluster/meta/state.js';

/** A member address whose ports derive from the id's number (n3 -> 7003, 17003, 8003). */
export function addr(id: string, port?: number): MemberAddress {
  const n = port ?? 7000 + Number(id.replace(/\D/g, '') || 0);
  return { id, host: '127.0.0.1', port: n, busPort: n + 10_000, httpPort: n + 1000 };
}

/** Applies commands at successive log indexes, 100 ms of leader time apart. */
export class Log {
  state = MetaState.empty();
  index = 0;
  timeMs = 1_000_000;

  apply(cmd: MetaCommand, elapsedMs = 100): MetaResult {
    this.index += 1;
    this.timeMs += elapsedMs;
    return this.state.apply(cmd, { index: this.index, timeMs: this.timeMs });
  }

  /** Applies and throws unless it succeeded. */
  ok(cmd: MetaCommand, elapsedMs?: number): void {
    const r = this.apply(cmd, elapsedMs);
    if (!r.ok) throw new Error(`${JSON.stringify(cmd)} failed: ${r.error}`);
  }

  /** A cluster of n1..n`count`, joined in order. */
  static cluster(count: number, shape = { partitions: 8, replicas: 3, metaVotersMax: 5 }): Log {
    const log = new Log();
    log.ok({ op: 'init', ...shape, founder: addr('n1') });
    for (let i = 2; i <= count; i++) log.ok({ op: 'join', member: addr(`n${i}`) });
    return log;
  }
}

/** Plain objects only: fast-check may otherwise build prototype-less ones. */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

export const nodeIds = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];

const poolId = fc.constantFrom(...nodeIds);
const smallAddress: fc.Arbitrary<MemberAddress> = record({
  id: poolId,
  host: fc.constantFrom('127.0.0.1', '10.0.0.2'),
  port: fc.constantFrom(7001, 7002),
  busPort: fc.constantFrom(17001, 17002),
  httpPort: fc.constantFrom(0, 8001),
});

/**
 * Commands over a small pool of ids and groups 0..5, so that random sequences hit the
 * interesting cases (rejoins, transitions, removal checks) often, errors included.
 */
export const plausibleCommand: fc.Arbitrary<MetaCommand> = fc.oneof(
  {
    weight: 1,
    arbitrary: record({
      op: fc.constant('init' as const),
      partitions: fc.integer({ min: 1, max: 8 }),
      replicas: fc.integer({ min: 1, max: 4 }),
      metaVotersMax: fc.integer({ min: 1, max: 5 }),
      founder: smallAddress,
    }),
  },
  { weight: 4, arbitrary: record({ op: fc.constant('join' as const), member: smallAddress }) },
  { weight: 3, arbitrary: record({ op: fc.constant('down' as const), id: poolId }) },
  { weight: 3, arbitrary: record({ op: fc.constant('evict' as const), id: poolId }) },
  { weight: 1, arbitrary: record({ op: fc.constant('up' as const), id: poolId }) },
  { weight: 2, arbitrary: record({ op: fc.constant('leave' as const), id: poolId }) },
  { weight: 3, arbitrary: record({ op: fc.constant('remove' as const), id: poolId }) },
  {
    weight: 1,
    arbitrary: record({ op: fc.constant('cache-reset' as const), epoch: fc.integer({ min: 1, max: 12 }) }),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 5 }), fc.shuffledSubarray(nodeIds, { minLength: 1 }), fc.nat())
      .map(([group, ids, split]): MetaCommand => {
        const v = 1 + (split % ids.length);
        return { op: 'conf', group, voters: ids.slice(0, v), learners: ids.slice(v) };
      }),
  },
);

/** A command, or a pair that walks one member through two transitions (rare by chance alone). */
const step: fc.Arbitrary<MetaCommand[]> = fc.oneof(
  { weight: 4, arbitrary: plausibleCommand.map((c) => [c]) },
  {
    weight: 1,
    arbitrary: poolId.map((id): MetaCommand[] => [
      { op: 'down', id },
      { op: 'evict', id },
    ]),
  },
  {
    weight: 1,
    arbitrary: poolId.map((id): MetaCommand[] => [
      { op: 'leave', id },
      { op: 'remove', id },
    ]),
  },
);

/**
 * Mostly: init, joins of several members, then random commands. Without the up-front joins
 * most commands would name unknown members and random runs would stay shallow.
 */
export const plausibleSequence: fc.Arbitrary<MetaCommand[]> = fc
  .tuple(
    fc.nat({ max: 9 }),
    record({
      partitions: fc.integer({ min: 1, max: 4 }),
      replicas: fc.integer({ min: 1, max: 4 }),
      metaVotersMax: fc.integer({ min: 1, max: 5 }),
    }),
    fc.integer({ min: 0, max: nodeIds.length - 1 }),
    fc.array(step, { maxLength: 40 }).map((steps) => steps.flat()),
  )
  .map(([init, shape, joins, rest]): MetaCommand[] => {
    if (init === 0) return rest;
    const founder: MetaCommand = { op: 'init', ...shape, founder: addr('n1') };
    const joined = nodeIds.slice(1, 1 + joins).map((id): MetaCommand => ({ op: 'join', member: addr(id) }));
    return [founder, ...joined, ...rest];
  });
