import t from 'tap';
import {
  CACHE_TABLES,
  type CacheRow,
  type CacheTable,
  HOME_TABLES,
  type HomeRow,
  type HomeTable,
  PROTOCOLS,
} from '../../src/cache/protocol.js';
import { allRows, explore, type ModelConfig, ModelViolation } from './model.js';

/**
 * Explicit-state model check of both protocols (model.ts says what is explored and checked).
 * Three nodes and a separate home, one key, messages delivered in any order, and every
 * interleaving of up to 3 operations per node, 5 in all (reads, writes of fresh values,
 * evictions), plus one drop of the home's idle memory copy. `CACHE_MODEL_OPS=6` runs the
 * deeper bound (about 1.8 million states, under a minute), where every table row fires.
 */
const totalOps = Number(process.env['CACHE_MODEL_OPS'] ?? 5);

/** Rows that need more than 5 operations: an upgrade in S with two other sharers under MOESI. */
const NEED_SIX_OPS = new Set(['moesi cache:SM_A:InvAck']);

for (const protocol of PROTOCOLS) {
  t.test(`${protocol}: every reachable state is coherent and every run completes`, async (t) => {
    const config: ModelConfig = { protocol, nodes: 3, opsPerNode: 3, totalOps, homeDrops: 1 };
    const started = performance.now();
    const r = explore(config);
    const ms = Math.round(performance.now() - started);
    t.comment(
      `${protocol} 3 nodes, ≤3 ops each, ${totalOps} in all, 1 home drop, unordered delivery: ` +
        `${r.states} states, ${r.transitions} transitions, ${r.terminal} final states, ` +
        `longest run ${r.maxDepth - 1} steps, ${ms} ms`,
    );
    t.ok(r.states > 10_000, 'the search is not trivially small');
    const missed = allRows(protocol).filter(
      (row) => !r.covered.has(row) && !(totalOps < 6 && NEED_SIX_OPS.has(`${protocol} ${row}`)),
    );
    t.same(missed, [], 'every row of both tables fires somewhere');
  });
}

/** The checker has teeth: each of these broken tables is caught. */
t.test('broken protocols are caught', async (t) => {
  const small: ModelConfig = { protocol: 'mesi', nodes: 3, opsPerNode: 3, totalOps: 4, homeDrops: 0 };
  type Mutable<T> = { -readonly [K in keyof T]: T[K] };
  const cache = (protocol: 'mesi' | 'moesi'): Mutable<CacheTable> =>
    CACHE_TABLES[protocol] as Mutable<CacheTable>;
  const home = (protocol: 'mesi' | 'moesi'): Mutable<HomeTable> =>
    HOME_TABLES[protocol] as Mutable<HomeTable>;
  const cases: { name: string; protocol: 'mesi' | 'moesi'; patch: () => () => void; expect: RegExp }[] = [
    {
      name: 'an evicted M line still serves reads until its PutAck',
      protocol: 'mesi',
      patch: () => {
        const old = cache('mesi').MI_A!;
        cache('mesi').MI_A = { ...old, Load: { next: 'MI_A', actions: ['hit'] } as CacheRow };
        return () => {
          cache('mesi').MI_A = old;
        };
      },
      expect: /read #\d+ returned|data value/,
    },
    {
      name: 'a sharer acks an Inv but keeps its copy',
      protocol: 'mesi',
      patch: () => {
        const old = cache('mesi').S!;
        cache('mesi').S = { ...old, Inv: { next: 'S', actions: ['sendInvAck'] } as CacheRow };
        return () => {
          cache('mesi').S = old;
        };
      },
      expect: /SWMR|data value/,
    },
    {
      name: 'the home grants M without invalidating the sharers',
      protocol: 'mesi',
      patch: () => {
        const old = home('mesi').S!;
        home('mesi').S = {
          ...old,
          GetM: { next: 'EM_U', actions: ['sendDataM', 'clearSharers', 'setOwner', 'busy'] } as HomeRow,
        };
        return () => {
          home('mesi').S = old;
        };
      },
      expect: /deadlock/,
    },
    {
      name: 'an M owner demoted by a forwarded read forgets to write back (MESI)',
      protocol: 'mesi',
      patch: () => {
        const old = cache('mesi').M!;
        cache('mesi').M = { ...old, FwdGetS: { next: 'S', actions: ['sendDataS'] } as CacheRow };
        return () => {
          cache('mesi').M = old;
        };
      },
      expect: /deadlock/,
    },
    {
      name: 'the home does not wait for the Unblock',
      protocol: 'moesi',
      patch: () => {
        const old = home('moesi').I!;
        home('moesi').I = { ...old, GetS: { next: 'EM', actions: ['sendDataE', 'setOwner'] } as HomeRow };
        return () => {
          home('moesi').I = old;
        };
      },
      expect: /no transition|SWMR|data value/,
    },
    {
      name: 'a Put from a former owner is taken as current',
      protocol: 'moesi',
      patch: () => {
        const old = home('moesi').EM!;
        home('moesi').EM = {
          ...old,
          PutStale: { next: 'I', actions: ['takeWriteback', 'clearOwner', 'sendPutAck'] } as HomeRow,
        };
        return () => {
          home('moesi').EM = old;
        };
      },
      expect: /SWMR|data value|directory|sharers|owner/,
    },
  ];
  for (const c of cases) {
    const restore = c.patch();
    try {
      explore({ ...small, protocol: c.protocol });
      t.fail(`not caught: ${c.name}`);
    } catch (err) {
      t.ok(err instanceof ModelViolation, c.name);
      t.match((err as Error).message, c.expect, c.name);
      if (c === cases[0]) t.comment((err as Error).message);
    } finally {
      restore();
    }
  }
  // And the real tables pass the same small bound.
  t.doesNotThrow(() => explore(small));
});
