import fc from 'fast-check';
import t from 'tap';
import { checkQueues } from '../../../tools/chaos/check-queues.js';
import type { Outcome } from '../../../tools/chaos/history.js';
import { History } from './builder.js';

const push = (h: History, body: string, at: number, outcome: Outcome = 'ok', queue = 'q') =>
  h.op({ process: 1, f: 'push', key: queue, at, done: at + 5, outcome, value: body, result: `${at}-0` });
const pop = (h: History, body: string | null, at: number, queue = 'q') =>
  h.op({
    process: 2,
    f: 'pop',
    key: queue,
    at,
    done: at + 5,
    result: body === null ? null : { id: 'x', body },
  });

t.test('every ok push popped, nothing else: clean', async (t) => {
  const h = new History();
  push(h, 'a', 0);
  push(h, 'b', 10);
  push(h, 'c', 20, 'info');
  push(h, 'd', 30, 'info');
  pop(h, 'a', 40);
  h.op({ process: 2, f: 'ack', key: 'q', at: 46, done: 48, value: 'x' });
  pop(h, 'b', 50);
  pop(h, 'c', 60);
  pop(h, null, 70);
  h.op({ process: 2, f: 'pop', key: 'q', at: 80, done: 90, outcome: 'info', error: 'timeout' });
  const { stats, violations } = checkQueues(h.events());
  t.same(violations, []);
  t.same(stats, {
    pushes: { ok: 2, fail: 0, info: 2 },
    pops: { delivered: 3, empty: 1, fail: 0, info: 1 },
    acks: { ok: 1, fail: 0, info: 0 },
    distinctDelivered: 3,
    lost: 0,
    phantoms: 0,
    duplicates: 0,
    duplicateRate: 0,
  });
});

t.test('an ok push never popped is lost', async (t) => {
  const h = new History();
  push(h, 'a', 0);
  push(h, 'b', 10);
  pop(h, 'a', 40);
  const { stats, violations } = checkQueues(h.events());
  t.equal(stats.lost, 1);
  t.same(
    violations.map((v) => v.kind),
    ['lost-push'],
  );
  t.match(violations[0]!.description, /queue "q" lost "b": pushed ok, never popped/);
});

t.test('a body never pushed, or whose push failed, popped is a phantom', async (t) => {
  const h = new History();
  push(h, 'a', 0, 'fail');
  pop(h, 'a', 40);
  pop(h, 'ghost', 50);
  const { stats, violations } = checkQueues(h.events());
  t.equal(stats.phantoms, 2);
  t.same(
    violations.map((v) => v.kind),
    ['phantom-pop', 'phantom-pop'],
  );
  t.match(violations[0]!.description, /popped "a", whose push failed/);
  t.match(violations[1]!.description, /popped "ghost", which was never pushed/);
});

t.test('a body popped from another queue, or before its push, is flagged', async (t) => {
  const h = new History();
  push(h, 'a', 0, 'ok', 'q1');
  pop(h, 'a', 40, 'q2');
  push(h, 'b', 100);
  pop(h, 'b', 80);
  t.same(
    checkQueues(h.events())
      .violations.map((v) => v.kind)
      .sort(),
    ['misrouted', 'pop-before-push'],
  );
});

t.test('redeliveries are counted, not flagged', async (t) => {
  const h = new History();
  push(h, 'a', 0);
  push(h, 'b', 10);
  pop(h, 'a', 20);
  pop(h, 'a', 30);
  pop(h, 'b', 40);
  pop(h, 'a', 50);
  const { stats, violations } = checkQueues(h.events());
  t.same(violations, []);
  t.equal(stats.distinctDelivered, 2);
  t.equal(stats.duplicates, 2);
  t.equal(stats.duplicateRate, 0.5);
});

t.test('any delivery order with redeliveries of what was pushed passes', async (t) => {
  const plan = fc.array(fc.record({ redeliveries: fc.nat(2), order: fc.nat() }), { maxLength: 30 });
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(plan, (messages) => {
        const h = new History();
        for (let i = 0; i < messages.length; i++) push(h, `m${i}`, i);
        const deliveries = messages
          .flatMap((m, i) => Array.from({ length: 1 + m.redeliveries }, (_, k) => ({ i, rank: m.order + k })))
          .sort((a, b) => a.rank - b.rank);
        for (const [k, d] of deliveries.entries()) pop(h, `m${d.i}`, 1000 + 10 * k);
        const { stats, violations } = checkQueues(h.events());
        return (
          violations.length === 0 &&
          stats.distinctDelivered === messages.length &&
          stats.duplicates === deliveries.length - messages.length
        );
      }),
    ),
  );
});
