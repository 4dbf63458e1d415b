import fc from 'fast-check';
import t from 'tap';
import { LockCodecError } from '../../src/lock/commands.js';
import type { LockRecord } from '../../src/lock/record.js';
import { decodeLockSnapshot, encodeLockSnapshot, type LockData } from '../../src/lock/snapshot.js';
import { LockTable } from '../../src/lock/state-machine.js';
import { type Hold, type Wait, zeroCounters } from '../../src/lock/types.js';
import { hex, Log, NAMES, OWNERS, plausibleSequence, resolve } from './helpers.js';

/** Everything the table answers, as one comparable value. */
function view(table: LockTable): unknown {
  return {
    locks: table.list().map((name) => [name, table.status(name)]),
    holds: OWNERS.map((o) => table.holdsOf(o)),
    counters: table.counters(),
    next: table.nextDeadlineMs(),
    top: table.topContended(10),
  };
}

function busyLog(): Log {
  const log = new Log();
  log.grant('x', 'A', { mode: 'shared', ttlMs: 500 });
  log.grant('x', 'B', { mode: 'shared' });
  log.acquire('x', 'A', { mode: 'exclusive', waitMs: 900 });
  log.acquire('x', 'W', { mode: 'exclusive', waitMs: 800, ttlMs: 77 });
  log.acquire('x', 'R', { mode: 'shared', waitMs: 700 });
  log.grant('ÿ/ünïcødé', 'C', { mode: 'exclusive' });
  log.acquire('ÿ/ünïcødé', 'D', { waitMs: 0 });
  log.renew('x', 'B', 30_000, 100);
  return log;
}

t.test('the empty table round-trips', async (t) => {
  const empty = LockTable.empty();
  t.equal(hex(empty.snapshot()), `01${'00'.repeat(2 + 8 + 1)}`, 'version 1, zeros');
  t.equal(hex(LockTable.restore(empty.snapshot()).snapshot()), hex(empty.snapshot()));
  t.throws(() => LockTable.restore(new Uint8Array(0)), LockCodecError);
});

t.test('a restored table is equal to the original, byte for byte, and behaves the same', async (t) => {
  const log = busyLog();
  const restored = LockTable.restore(log.table.snapshot());
  t.same(view(restored), view(log.table));
  t.equal(hex(restored.snapshot()), hex(log.table.snapshot()));
  t.same(
    decodeLockSnapshot(log.table.snapshot())
      .locks.get('x')
      ?.queue.map((w) => w.owner),
    ['A', 'W', 'R'],
  );
  for (let i = 1; i <= 12; i++) {
    const ctx = { index: log.index + i, timeMs: log.timeMs + 3000 * i };
    const cmd = i % 3 === 0 ? ({ op: 'release', name: 'x', owner: 'W' } as const) : ({ op: 'tick' } as const);
    t.same(restored.apply(cmd, ctx), log.table.apply(cmd, ctx), `step ${i}`);
  }
  t.equal(hex(restored.snapshot()), hex(log.table.snapshot()));
  t.equal(log.table.size, 0, 'everything expired in the end');
});

t.test('snapshots of equal tables are equal whatever the order things happened in', async (t) => {
  // Same holders granted by the same entry, in a different queue order: same state, same bytes.
  const one = new Log();
  const two = new Log();
  for (const log of [one, two]) log.grant('r', 'X', { mode: 'exclusive' });
  for (const [log, order] of [
    [one, ['P', 'Q']],
    [two, ['Q', 'P']],
  ] as const) {
    for (const o of order) log.acquire('r', o, { mode: 'shared', waitMs: 100 });
    log.release('r', 'X');
  }
  t.same(view(one.table), view(two.table));
  t.equal(hex(one.table.snapshot()), hex(two.table.snapshot()));
});

function data(
  locks: Record<string, { holders?: Hold[]; queue?: Wait[] }>,
  lastIndex = 100,
  lastTimeMs = 1000,
): LockData {
  const map = new Map<string, LockRecord>();
  for (const [name, l] of Object.entries(locks)) {
    map.set(name, {
      holders: new Map((l.holders ?? []).map((h) => [h.owner, h])),
      queue: l.queue ?? [],
      contended: 0,
    });
  }
  return { lastIndex, lastTimeMs, counters: zeroCounters(), locks: map };
}

const hold = (owner: string, mode: Hold['mode'], token = 5, expiresAtMs = 2000): Hold => ({
  owner,
  mode,
  token,
  expiresAtMs,
});
const wait = (owner: string, mode: Wait['mode'], deadlineMs = 1500): Wait => ({
  owner,
  mode,
  ttlMs: 100,
  queuedAtMs: 900,
  deadlineMs,
});

t.test('a snapshot that breaks an invariant is refused', async (t) => {
  t.doesNotThrow(() =>
    decodeLockSnapshot(
      encodeLockSnapshot(data({ r: { holders: [hold('A', 'shared')], queue: [wait('B', 'exclusive')] } })),
    ),
  );
  const bad: [LockData, RegExp][] = [
    [data({ r: {} }), /no holders and no waiters/],
    [data({ r: { holders: [hold('A', 'exclusive'), hold('B', 'shared', 6)] } }), /incompatible holders/],
    [data({ r: { holders: [hold('A', 'shared', 101)] } }), /token 101 outside 1..100/],
    [data({ r: { holders: [hold('A', 'shared', 5, 1000)] } }), /lease that ended at 1000/],
    [
      data({ r: { holders: [hold('A', 'shared')], queue: [wait('B', 'shared')] } }),
      /head of a queue is grantable/,
    ],
    [data({ r: { queue: [wait('B', 'shared')] } }), /head of a queue is grantable/],
    [
      data({ r: { holders: [hold('A', 'exclusive')], queue: [wait('B', 'shared'), wait('B', 'shared')] } }),
      /waits twice/,
    ],
    [
      data({ r: { holders: [hold('A', 'exclusive')], queue: [wait('A', 'shared')] } }),
      /upgrade at the front/,
    ],
    [
      data({
        r: {
          holders: [hold('A', 'shared'), hold('B', 'shared')],
          queue: [wait('C', 'exclusive'), wait('A', 'exclusive')],
        },
      }),
      /upgrade at the front/,
    ],
    [
      data({ r: { holders: [hold('A', 'exclusive')], queue: [wait('B', 'shared', 1000)] } }),
      /a wait from 900 to 1000/,
    ],
    [data({ r: { holders: [hold('a b', 'exclusive')] } }), /whitespace/],
  ];
  for (const [d, pattern] of bad) {
    t.throws(() => decodeLockSnapshot(encodeLockSnapshot(d)), pattern, pattern.source);
    t.throws(() => LockTable.restore(encodeLockSnapshot(d)), LockCodecError);
  }
  // Names or holders out of order are only reachable by editing bytes: rename 'a' to 'c'.
  const two = encodeLockSnapshot(
    data({ a: { holders: [hold('A', 'shared')] }, b: { holders: [hold('A', 'shared')] } }),
  );
  t.match(hex(two), /01610001/, "'a', contended 0, one holder");
  t.throws(
    () => decodeLockSnapshot(Buffer.from(hex(two).replace('01610001', '01630001'), 'hex')),
    /ascending name order/,
  );
  const holders = encodeLockSnapshot(data({ a: { holders: [hold('A', 'shared'), hold('B', 'shared')] } }));
  t.match(hex(holders), /01410005.*01420005/, 'A then B, both token 5');
  const swapped = hex(holders).replace('01410005', '01430005');
  t.throws(() => decodeLockSnapshot(Buffer.from(swapped, 'hex')), /holders not in \(token, owner\) order/);
  t.throws(() => decodeLockSnapshot(Uint8Array.of(2)), /lock snapshot: unknown version 2/);
  t.throws(() => decodeLockSnapshot(Uint8Array.of(1, 0)), /lock snapshot: truncated/);
});

t.test('corrupted snapshots restore to a valid table or throw LockCodecError', async (t) => {
  const snapshots = fc
    .tuple(plausibleSequence, fc.nat(), fc.integer({ min: 0, max: 255 }))
    .map(([steps, at, b]) => {
      const table = LockTable.empty();
      for (const [i, s] of steps.entries())
        table.apply(resolve(s.cmd, table), { index: i + 1, timeMs: 1000 + 3 * i });
      const bytes = table.snapshot().slice();
      bytes[at % bytes.length] = b;
      return bytes;
    });
  fc.assert(
    fc.property(snapshots, (bytes) => {
      let table: LockTable;
      try {
        table = LockTable.restore(bytes);
      } catch (e) {
        return e instanceof LockCodecError;
      }
      // Canonical: what restores snapshots to the same bytes, and still applies.
      const same = hex(table.snapshot()) === hex(bytes);
      for (const name of NAMES)
        table.apply({ op: 'tick' }, { index: 2 ** 50 + NAMES.indexOf(name), timeMs: 2 ** 51 });
      return same && table.size === 0;
    }),
    { numRuns: 500 },
  );
  t.pass('property held');
});
