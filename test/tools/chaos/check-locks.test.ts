import fc from 'fast-check';
import t from 'tap';
import { checkLocks } from '../../../tools/chaos/check-locks.js';
import { FIVE, History } from './builder.js';

const TTL = 3000;
const grant = (token: number) => ({ token, ttlMs: TTL });

/** An acquire by `owner` on `lock` from `at` to `done` returning `token`. */
const acquire = (
  h: History,
  process: number,
  at: number,
  done: number,
  token: number,
  node = 'n1',
  lock = 'L',
) =>
  h.op({
    process,
    f: 'acquire',
    key: lock,
    at,
    done,
    value: { owner: `o${process}` },
    result: grant(token),
    node,
  });
const release = (h: History, process: number, at: number, done: number, token: number, lock = 'L') =>
  h.op({ process, f: 'release', key: lock, at, done, value: { owner: `o${process}`, token } });

const kinds = (h: History) =>
  checkLocks(h.events(), { nodes: FIVE })
    .violations.map((v) => v.kind)
    .sort();

t.test('sequential holds with rising tokens pass', async (t) => {
  const h = new History();
  acquire(h, 1, 0, 10, 5);
  release(h, 1, 100, 110, 5);
  acquire(h, 2, 120, 130, 9);
  release(h, 2, 200, 210, 9);
  h.op({
    process: 3,
    f: 'acquire',
    key: 'L',
    at: 150,
    done: 160,
    outcome: 'fail',
    error: 'held by another owner',
  });
  acquire(h, 3, 300, 310, 12);
  const { stats, violations } = checkLocks(h.events());
  t.same(violations, []);
  t.match(stats, { locks: 1, holds: 3, acquires: { ok: 3, fail: 1, info: 0 }, releases: { ok: 2 } });
});

t.test('two holds certainly held at once are flagged', async (t) => {
  const h = new History();
  acquire(h, 1, 0, 10, 5);
  acquire(h, 2, 100, 110, 6);
  const { violations } = checkLocks(h.events());
  t.equal(violations.length, 1);
  t.equal(violations[0]!.kind, 'overlapping-holds');
  t.match(violations[0]!.description, /lock "L" held by two at once: o1 .*token 5.* and o2 .*token 6/);
  t.equal(violations[0]!.ops.length, 2);
});

t.test('a lease is only certain until invoke + ttl - margin', async (t) => {
  // o1's lease: certain until 0 + 3000 - (60 + 50) = 2890.
  const inside = new History();
  acquire(inside, 1, 0, 10, 5);
  acquire(inside, 2, 2800, 2880, 6);
  t.same(kinds(inside), ['overlapping-holds'], 'a grant before the margin overlaps');
  const after = new History();
  acquire(after, 1, 0, 10, 5);
  acquire(after, 2, 2800, 2895, 6);
  t.same(kinds(after), [], 'a grant within the clock margin of expiry does not');
  const released = new History();
  acquire(released, 1, 0, 10, 5);
  release(released, 1, 50, 5000, 5);
  acquire(released, 2, 60, 70, 6);
  t.same(kinds(released), [], 'a hold is not certain once its release is invoked');
});

t.test('a re-acquire by the holder renews the hold: same token, no overlap', async (t) => {
  const h = new History();
  acquire(h, 1, 0, 10, 5);
  acquire(h, 1, 2000, 2010, 5);
  release(h, 1, 4000, 4010, 5);
  acquire(h, 2, 4020, 4030, 8);
  const { stats, violations } = checkLocks(h.events());
  t.same(violations, []);
  t.equal(stats.holds, 2);
  const expired = new History();
  acquire(expired, 1, 0, 10, 5);
  acquire(expired, 1, 2000, 2010, 5);
  acquire(expired, 2, 4000, 4010, 8);
  t.same(kinds(expired), ['overlapping-holds'], 'the renewal extended the certain interval past 2890');
});

t.test('a fencing token going backwards is flagged', async (t) => {
  const h = new History();
  acquire(h, 1, 0, 10, 7);
  release(h, 1, 20, 30, 7);
  acquire(h, 2, 40, 50, 3);
  const { violations } = checkLocks(h.events());
  t.same(
    violations.map((v) => v.kind),
    ['token-regression'],
  );
  t.match(violations[0]!.description, /token went backwards: token 7 .* then token 3/);
  const concurrent = new History();
  acquire(concurrent, 1, 0, 50, 7);
  release(concurrent, 1, 60, 70, 7);
  acquire(concurrent, 2, 40, 80, 3);
  t.same(kinds(concurrent), [], 'concurrent acquires may take either order of tokens');
});

t.test('two holds with one token are flagged', async (t) => {
  const h = new History();
  acquire(h, 1, 0, 10, 7);
  release(h, 1, 20, 30, 7);
  acquire(h, 2, 40, 50, 7);
  t.same(kinds(h), ['duplicate-token']);
});

t.test('a grant from a node cut off in a minority is flagged', async (t) => {
  const partition = (h: History) =>
    h
      .nemesis('partition', 100, FIVE, {
        components: [
          ['n1', 'n2'],
          ['n3', 'n4', 'n5'],
        ],
      })
      .nemesis('heal', 1000);
  const minority = partition(new History());
  acquire(minority, 1, 200, 300, 5, 'n1');
  const { violations, stats } = checkLocks(minority.events());
  t.same(
    violations.map((v) => v.kind),
    ['minority-grant'],
  );
  t.equal(stats.minorityGrants, 1);
  t.match(
    violations[0]!.description,
    /granted \(token 5\) by n1 while it could reach only a minority of 5 nodes/,
  );

  const majority = partition(new History());
  acquire(majority, 1, 200, 300, 5, 'n3');
  t.same(kinds(majority), [], 'the majority side may grant');
  const straddling = partition(new History());
  acquire(straddling, 1, 50, 300, 5, 'n1');
  acquire(straddling, 2, 900, 1100, 6, 'n2', 'M');
  t.same(kinds(straddling), [], 'an acquire not wholly inside the partition may have committed');
  const ring = new History().nemesis('partition', 100, FIVE, {
    components: [
      ['n1', 'n2', 'n3'],
      ['n2', 'n3', 'n4'],
      ['n3', 'n4', 'n5'],
      ['n4', 'n5', 'n1'],
      ['n5', 'n1', 'n2'],
    ],
  });
  acquire(ring, 1, 200, 300, 5, 'n1');
  t.same(kinds(ring), [], 'a node of a ring reaching a majority may grant');
});

t.test('generated sequential lock histories never flag', async (t) => {
  const step = fc.record({
    process: fc.integer({ min: 1, max: 4 }),
    lock: fc.constantFrom('a', 'b'),
    node: fc.constantFrom(...FIVE),
    latency: fc.integer({ min: 1, max: 50 }),
    holdMs: fc.integer({ min: 0, max: 4000 }),
    gap: fc.integer({ min: 0, max: 100 }),
    refused: fc.boolean(),
    releaseOutcome: fc.constantFrom('ok', 'fail', 'info' as const),
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const h = new History();
        let now = 0;
        let token = 1;
        for (const s of steps) {
          const owner = { owner: `o${s.process}-${now}` };
          if (s.refused) {
            h.op({
              process: s.process,
              f: 'acquire',
              key: s.lock,
              at: now,
              done: now + s.latency,
              outcome: 'fail',
            });
            now += s.latency + s.gap;
            continue;
          }
          token += 1 + (now % 3);
          const at = now;
          now += s.latency;
          h.op({
            process: s.process,
            f: 'acquire',
            key: s.lock,
            at,
            done: now,
            value: owner,
            result: grant(token),
            node: s.node,
          });
          now += s.holdMs;
          const done = s.releaseOutcome === 'info' ? undefined : now + s.latency;
          h.op({
            process: s.process,
            f: 'release',
            key: s.lock,
            at: now,
            value: { ...owner, token },
            outcome: s.releaseOutcome,
            ...(done !== undefined ? { done } : {}),
          });
          // The next acquire comes after the release returned, or after the lease ran out.
          now = Math.max(now + s.latency, at + TTL) + s.gap;
        }
        return checkLocks(h.events()).violations.length === 0;
      }),
    ),
  );
});

t.test('a second grant inside any certain hold is flagged', async (t) => {
  const plan = fc.record({
    holds: fc.array(fc.record({ holdMs: fc.integer({ min: 200, max: 2000 }), gap: fc.nat(100) }), {
      minLength: 1,
      maxLength: 10,
    }),
    victim: fc.nat(),
    offset: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(plan, ({ holds, victim, offset }) => {
        const h = new History();
        const certain: [number, number][] = [];
        let now = 0;
        holds.forEach((s, i) => {
          acquire(h, 1, now, now + 10, 10 + i);
          release(h, 1, now + 10 + s.holdMs, now + 20 + s.holdMs, 10 + i);
          certain.push([now + 10, now + 10 + s.holdMs]);
          now += 20 + s.holdMs + s.gap;
        });
        const [start, end] = certain[victim % certain.length]!;
        const at = start + offset * (end - start);
        acquire(h, 2, at - 5, at, 1000);
        return kinds(h).includes('overlapping-holds');
      }),
    ),
  );
});
