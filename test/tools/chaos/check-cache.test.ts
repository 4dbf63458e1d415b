import fc from 'fast-check';
import t from 'tap';
import { checkCache } from '../../../tools/chaos/check-cache.js';
import type { Outcome } from '../../../tools/chaos/history.js';
import { History } from './builder.js';

const write = (h: History, key: string, value: string, at: number, done?: number, outcome: Outcome = 'ok') =>
  h.op({ process: 1, f: 'write', key, at, value, outcome, ...(done !== undefined ? { done } : {}) });
const read = (
  h: History,
  key: string,
  value: string | null,
  at: number,
  done: number,
  outcome: Outcome = 'ok',
) => h.op({ process: 2, f: 'read', key, at, done, outcome, result: value });

t.test('reads of the latest or a concurrent write pass', async (t) => {
  const h = new History();
  read(h, 'k', null, 0, 5);
  write(h, 'k', 'a', 10, 20);
  read(h, 'k', 'a', 25, 30);
  write(h, 'k', 'b', 40, 60);
  read(h, 'k', 'a', 45, 50);
  read(h, 'k', 'b', 55, 58);
  write(h, 'k', 'c', 70, 80, 'info');
  read(h, 'k', 'c', 500, 510);
  read(h, 'k', 'zzz', 600, 610, 'info');
  write(h, 'j', 'x', 0, 10, 'fail');
  read(h, 'j', null, 20, 30);
  const { stats, violations } = checkCache(h.events());
  t.same(violations, []);
  t.same(stats.opsChecked, { j: 1, k: 8 });
  t.match(stats, { reads: 6, writes: 2, unknownWrites: 1, dropped: 2, nonLinearizableKeys: [] });
});

t.test('a stale read is flagged with a minimal failing sub-history', async (t) => {
  const h = new History();
  for (let i = 0; i < 10; i++) read(h, 'k', null, i, i + 1);
  write(h, 'k', 'a', 20, 30);
  write(h, 'k', 'b', 40, 50);
  read(h, 'k', 'a', 60, 70);
  const { stats, violations } = checkCache(h.events());
  t.same(stats.nonLinearizableKeys, ['k']);
  t.equal(violations.length, 1);
  const v = violations[0]!;
  t.equal(v.kind, 'non-linearizable');
  t.match(v.description, /key "k" is not linearizable \(3 of its 13 operations\)/);
  t.same(
    v.ops.map((op) => `${op.invoke.f}@${op.invoke.timeMs}`),
    ['write@20', 'write@40', 'read@60'],
  );
});

t.test('a read of a failed write is flagged: fail means it never happened', async (t) => {
  const h = new History();
  write(h, 'k', 'a', 0, 10, 'fail');
  read(h, 'k', 'a', 20, 30);
  t.same(checkCache(h.events()).stats.nonLinearizableKeys, ['k']);
});

t.test('sequential histories where each read sees the last write pass', async (t) => {
  const step = fc.record({ key: fc.constantFrom('x', 'y'), isWrite: fc.boolean(), latency: fc.nat(20) });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const h = new History();
        const last = new Map<string, string>();
        let now = 0;
        steps.forEach((s, i) => {
          if (s.isWrite) {
            write(h, s.key, `v${i}`, now, now + s.latency);
            last.set(s.key, `v${i}`);
          } else {
            read(h, s.key, last.get(s.key) ?? null, now, now + s.latency);
          }
          now += s.latency + 1;
        });
        return checkCache(h.events()).violations.length === 0;
      }),
    ),
  );
});

t.test('a ring change inside a fault window may empty the cache, and only there', async (t) => {
  // n3 is killed at 1000 and restarted at 2000; with settleMs 500 the window is 1000–2500.
  const faulted = () => {
    const h = new History();
    write(h, 'k', 'a', 0, 10);
    read(h, 'k', 'a', 20, 30);
    h.nemesis('kill', 1000, ['n3']).nemesis('restart', 2000, ['n3']);
    return h;
  };
  const inside = faulted();
  read(inside, 'k', null, 1500, 1510);
  read(inside, 'k', null, 3000, 3010);
  write(inside, 'k', 'b', 3100, 3110);
  read(inside, 'k', 'b', 3200, 3210);
  const ok = checkCache(inside.events(), { settleMs: 500 });
  t.same(ok.violations, [], 'nil inside the window, and after it until the next write');
  t.match(ok.stats, { flushedReads: 1, flushWindows: 1 });

  const resurrected = faulted();
  read(resurrected, 'k', null, 2600, 2610);
  read(resurrected, 'k', 'a', 2700, 2710);
  t.equal(
    checkCache(resurrected.events(), { settleMs: 500 }).violations.length,
    1,
    'a flushed value read back after the window is a violation',
  );

  const quiet = new History();
  write(quiet, 'k', 'a', 0, 10);
  read(quiet, 'k', null, 20, 30);
  t.equal(
    checkCache(quiet.events()).violations.length,
    1,
    'a nil read with no fault anywhere is a violation',
  );
});
