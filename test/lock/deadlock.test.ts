import t from 'tap';
import { Log } from './helpers.js';

const S = { mode: 'shared' as const };
const X = { mode: 'exclusive' as const };
const WAIT = { waitMs: 10_000 };

t.test('two owners across two locks: the request that closes the cycle is refused', async (t) => {
  const log = new Log();
  log.grant('x', 'A', X);
  log.grant('y', 'B', X);
  t.same(log.acquire('y', 'A', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('x', 'B', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['B', 'A', 'B'] });
  t.same(log.lastEvents, []);
  t.same(log.brief('x')?.waiters, [], 'not queued');
  t.same(log.brief('y')?.waiters, ['A:exclusive'], 'the other keeps waiting');
  t.equal(log.table.counters().deadlocks, 1);
  t.equal(log.table.status('x')?.contended, 1);
  // Resolved the ordinary way: B releases y, A gets it.
  log.release('y', 'B');
  t.same(
    log.lastEvents.map((e) => e.kind),
    ['granted'],
  );
});

t.test('three owners across three locks', async (t) => {
  const log = new Log();
  log.grant('x', 'A', X);
  log.grant('y', 'B', X);
  log.grant('z', 'C', X);
  t.same(log.acquire('y', 'A', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('z', 'B', { ...S, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('x', 'C', { ...S, ...WAIT }), { kind: 'deadlock', cycle: ['C', 'A', 'B', 'C'] });
  t.same(log.brief('x')?.waiters, []);
  // Without waiting there is no cycle to close: a plain refusal.
  t.same(log.acquire('x', 'C', { ...S, waitMs: 0 }), { kind: 'refused' });
  t.equal(log.table.counters().deadlocks, 1);
});

t.test('shared holders do not wait for each other', async (t) => {
  const log = new Log();
  log.grant('x', 'A', S);
  log.grant('y', 'B', X);
  log.acquire('y', 'A', { ...S, ...WAIT });
  // B wants x shared too: compatible with A's shared hold, no edge B → A, granted.
  t.same(log.acquire('x', 'B', { ...S, ...WAIT }), { kind: 'granted', token: 4 });
});

t.test('two shared holders upgrading: the first waits, the second is the cycle', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.grant('r', 'B', S);
  t.same(log.acquire('r', 'A', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('r', 'B', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['B', 'A', 'B'] });
  t.same(
    log.brief('r'),
    { mode: 'shared', holders: ['A:1', 'B:2'], waiters: ['A:exclusive'] },
    'B keeps its shared hold',
  );
  log.release('r', 'B');
  t.same(log.lastEvents, [
    { kind: 'granted', name: 'r', owner: 'A', mode: 'exclusive', token: 5, waitedMs: 0 },
  ]);
});

t.test('three shared holders: every upgrade after the first is refused', async (t) => {
  const log = new Log();
  for (const o of ['A', 'B', 'C']) log.grant('r', o, S);
  t.same(log.acquire('r', 'B', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('r', 'C', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['C', 'B', 'C'] });
  t.same(log.acquire('r', 'A', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['A', 'B', 'A'] });
  log.release('r', 'A');
  log.release('r', 'C');
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['B:8'], waiters: [] });
});

t.test('an upgrade waits ahead of an earlier exclusive waiter, so that is no deadlock', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.grant('r', 'B', S);
  log.acquire('r', 'W', { ...X, ...WAIT });
  // Queued behind W it would wait for W, which waits for A's shared hold: a cycle for nothing.
  t.same(log.acquire('r', 'A', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.brief('r')?.waiters, ['A:exclusive', 'W:exclusive']);
});

t.test('FIFO order is a dependency: a cycle through a waiter ahead is found', async (t) => {
  // A holds x shared; B waits for x exclusive (for A); C, holding y, asks x shared: compatible
  // with A but behind B, so C waits for B. A asking for y closes A → C → B → A.
  const log = new Log();
  log.grant('x', 'A', S);
  log.grant('y', 'C', X);
  t.same(log.acquire('x', 'B', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('x', 'C', { ...S, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('y', 'A', { ...S, ...WAIT }), { kind: 'deadlock', cycle: ['A', 'C', 'B', 'A'] });
});

t.test('the reported cycle is the first in owner order, the same on every replica', async (t) => {
  // A waits for x, held shared by B and C, who both wait for y, held by A.
  const log = new Log();
  log.grant('y', 'A', S);
  log.grant('x', 'C', S);
  log.grant('x', 'B', S);
  log.acquire('y', 'C', { ...X, ...WAIT });
  t.same(log.acquire('y', 'B', { ...X, ...WAIT }), { kind: 'queued' });
  t.same(log.acquire('x', 'A', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['A', 'B', 'A'] });
});

t.test('waits that time out or are cancelled leave the graph', async (t) => {
  const log = new Log();
  log.grant('x', 'A', X);
  log.grant('y', 'B', X);
  log.acquire('y', 'A', { ...X, waitMs: 100 });
  t.same(log.acquire('x', 'B', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['B', 'A', 'B'] });
  log.tick(100);
  t.same(log.acquire('x', 'B', { ...X, ...WAIT }), { kind: 'queued' }, 'A gave up: B may wait for it');
  log.cancel('x', 'B');
  t.same(log.acquire('y', 'A', { ...X, ...WAIT }), { kind: 'queued' });
});

t.test('one owner waiting on several locks: all its waits are edges', async (t) => {
  const log = new Log();
  log.grant('x', 'B', X);
  log.grant('y', 'C', X);
  log.acquire('x', 'A', { ...X, ...WAIT });
  log.acquire('y', 'A', { ...X, ...WAIT });
  log.grant('z', 'A', X);
  t.same(log.acquire('z', 'C', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['C', 'A', 'C'] });
  t.same(log.acquire('z', 'B', { ...X, ...WAIT }), { kind: 'deadlock', cycle: ['B', 'A', 'B'] });
});
