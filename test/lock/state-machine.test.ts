import t from 'tap';
import { LockTable } from '../../src/lock/state-machine.js';
import { Log } from './helpers.js';

const S = { mode: 'shared' as const };
const X = { mode: 'exclusive' as const };

t.test('seed walk-through: A holds resource1, B is refused, A releases, B gets it', async (t) => {
  const log = new Log();
  t.same(log.acquire('resource1', 'clientA', X), { kind: 'granted', token: 1 });
  t.same(log.acquire('resource1', 'clientB', X), { kind: 'refused' }, 'waitMs 0: nil at once');
  t.same(log.release('resource1', 'clientA'), { kind: 'released' });
  t.same(log.table.status('resource1'), undefined, 'a free lock is gone from the table');
  t.same(log.acquire('resource1', 'clientB', X), { kind: 'granted', token: 4 });
  t.same(log.brief('resource1'), { mode: 'exclusive', holders: ['clientB:4'], waiters: [] });
});

t.test('shared holders coexist; an exclusive waiter waits for all of them', async (t) => {
  const log = new Log();
  t.equal(log.grant('r', 'A', S), 1);
  t.equal(log.grant('r', 'B', S), 2);
  t.same(log.acquire('r', 'W', { ...X, waitMs: 5000 }), { kind: 'queued' });
  t.same(log.release('r', 'A'), { kind: 'released' });
  t.same(log.lastEvents, [], 'B still holds');
  log.release('r', 'B', undefined, 40);
  t.same(log.lastEvents, [
    { kind: 'granted', name: 'r', owner: 'W', mode: 'exclusive', token: 5, waitedMs: 40 },
  ]);
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['W:5'], waiters: [] });
});

t.test('FIFO: a shared request queues behind a waiting exclusive one (no writer starvation)', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  t.same(log.acquire('r', 'W', { ...X, waitMs: 5000 }), { kind: 'queued' });
  t.same(
    log.acquire('r', 'R1', { ...S, waitMs: 5000 }),
    { kind: 'queued' },
    'compatible with A, but W is first',
  );
  t.same(log.acquire('r', 'R2', { ...S, waitMs: 0 }), { kind: 'refused' });
  t.same(log.acquire('r', 'R2', { ...S, waitMs: 5000 }), { kind: 'queued' });
  t.same(log.brief('r')?.waiters, ['W:exclusive', 'R1:shared', 'R2:shared']);
  log.release('r', 'A');
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['W:6'], waiters: ['R1:shared', 'R2:shared'] });
  log.release('r', 'W');
  // Consecutive shared waiters are granted together, by the same entry.
  t.same(
    log.lastEvents.map((e) => [e.kind, e.owner, e.kind === 'granted' ? e.token : 0]),
    [
      ['granted', 'R1', 7],
      ['granted', 'R2', 7],
    ],
  );
  t.same(log.brief('r'), { mode: 'shared', holders: ['R1:7', 'R2:7'], waiters: [] });
});

t.test('a grant pass stops at the first waiter that does not fit', async (t) => {
  const log = new Log();
  log.grant('r', 'A', X);
  log.acquire('r', 'R1', { ...S, waitMs: 5000 });
  log.acquire('r', 'W', { ...X, waitMs: 5000 });
  log.acquire('r', 'R2', { ...S, waitMs: 5000 });
  log.release('r', 'A');
  t.same(log.brief('r'), { mode: 'shared', holders: ['R1:5'], waiters: ['W:exclusive', 'R2:shared'] });
});

t.test('re-acquire in the same mode renews and keeps the token; one release frees it', async (t) => {
  const log = new Log();
  t.equal(log.grant('r', 'A', { ...X, ttlMs: 1000 }), 1);
  t.equal(log.grant('r', 'A', { ...X, ttlMs: 5000 }, 500), 1);
  t.equal(log.table.status('r')?.holders[0]?.expiresAtMs, log.timeMs + 5000, 'lease = now + the new ttl');
  t.equal(log.table.counters().grants, 1, 'a renewal is not a grant');
  t.same(log.release('r', 'A'), { kind: 'released' });
  t.equal(log.table.status('r'), undefined, 'not counted: one release frees it');
  t.same(log.release('r', 'A'), { kind: 'notHeld' });

  t.equal(log.grant('s', 'A', S), 5);
  t.equal(log.grant('s', 'A', S), 5);
});

t.test('an exclusive holder asking for shared is already satisfied', async (t) => {
  const log = new Log();
  log.grant('r', 'A', { ...X, ttlMs: 1000 });
  t.same(log.acquire('r', 'A', { ...S, ttlMs: 9000 }), { kind: 'granted', token: 1 });
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['A:1'], waiters: [] });
  t.equal(log.table.status('r')?.holders[0]?.expiresAtMs, log.timeMs + 9000);
});

t.test('a sole shared holder upgrades at once, with a new token', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.acquire('r', 'W', { ...X, waitMs: 5000 });
  t.same(
    log.acquire('r', 'A', X),
    { kind: 'granted', token: 3 },
    'even with waiters: they wait for A anyway',
  );
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['A:3'], waiters: ['W:exclusive'] });
  t.equal(log.table.counters().grants, 2);
});

t.test('an upgrade beside other holders waits at the front and keeps its shared hold', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.grant('r', 'B', S);
  log.acquire('r', 'W', { ...X, waitMs: 5000 });
  t.same(log.acquire('r', 'A', { ...X, waitMs: 0 }), { kind: 'refused' });
  t.same(log.brief('r')?.holders, ['A:1', 'B:2'], 'a refused upgrade keeps the shared hold');
  t.same(log.acquire('r', 'A', { ...X, waitMs: 5000 }), { kind: 'queued' });
  t.same(log.brief('r'), {
    mode: 'shared',
    holders: ['A:1', 'B:2'],
    waiters: ['A:exclusive', 'W:exclusive'],
  });
  t.same(log.acquire('r', 'A', S), { kind: 'granted', token: 1 }, 'its shared hold still renews');
  log.release('r', 'B', undefined, 10);
  t.same(log.lastEvents, [
    { kind: 'granted', name: 'r', owner: 'A', mode: 'exclusive', token: 7, waitedMs: 10 },
  ]);
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['A:7'], waiters: ['W:exclusive'] });
  log.release('r', 'A');
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['W:8'], waiters: [] });
});

t.test('releasing the shared hold leaves a pending upgrade as a plain exclusive wait', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.grant('r', 'B', S);
  log.acquire('r', 'A', { ...X, waitMs: 5000 });
  log.release('r', 'A');
  t.same(log.brief('r'), { mode: 'shared', holders: ['B:2'], waiters: ['A:exclusive'] });
  log.release('r', 'B');
  t.same(log.brief('r'), { mode: 'exclusive', holders: ['A:5'], waiters: [] });
});

t.test('cancelling a pending upgrade keeps the shared hold', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.grant('r', 'B', S);
  log.acquire('r', 'A', { ...X, waitMs: 5000 });
  t.same(log.cancel('r', 'A'), { kind: 'cancelled' });
  t.same(log.brief('r'), { mode: 'shared', holders: ['A:1', 'B:2'], waiters: [] });
});

t.test('a lease ends at expiresAtMs: tick expires it and grants the waiters behind it', async (t) => {
  const log = new Log();
  log.grant('r', 'A', { ...X, ttlMs: 1000 });
  log.acquire('r', 'B', { ...X, waitMs: 10_000, ttlMs: 700 }, 100);
  t.equal(log.table.nextDeadlineMs(), 1_000_000 + 1000);
  t.same(log.tick(899), { kind: 'ticked' });
  t.same(log.lastEvents, [], 'not due yet');
  log.tick(1);
  t.same(log.lastEvents, [
    { kind: 'expired', name: 'r', owner: 'A', token: 1 },
    { kind: 'granted', name: 'r', owner: 'B', mode: 'exclusive', token: 4, waitedMs: 900 },
  ]);
  t.equal(log.table.nextDeadlineMs(), log.timeMs + 700);
  t.same(log.renew('r', 'A', 1000), { kind: 'notHeld' }, 'an expired lease cannot be renewed');
  t.same(log.table.counters().expirations, 1);
});

t.test('any entry expires what is due by its time, tick or not', async (t) => {
  const log = new Log();
  log.grant('r', 'A', { ...X, ttlMs: 1000 });
  t.same(log.acquire('r', 'B', X, 1000), { kind: 'granted', token: 2 });
  t.same(log.lastEvents, [{ kind: 'expired', name: 'r', owner: 'A', token: 1 }]);
  t.same(log.release('r', 'A', 1), { kind: 'notHeld' });
});

t.test('renew extends the lease from now; only the holder may renew', async (t) => {
  const log = new Log();
  log.grant('r', 'A', { ...X, ttlMs: 1000 });
  t.same(log.renew('r', 'A', 5000, 900), { kind: 'renewed' });
  t.equal(log.table.nextDeadlineMs(), log.timeMs + 5000, 'the replaced deadline is skipped');
  t.same(log.renew('r', 'B', 5000), { kind: 'notHeld' });
  t.same(log.renew('nope', 'A', 5000), { kind: 'notHeld' });
  log.tick(4999);
  t.same(log.lastEvents, []);
  log.tick(1);
  t.same(log.lastEvents, [{ kind: 'expired', name: 'r', owner: 'A', token: 1 }]);
  t.equal(log.table.nextDeadlineMs(), null);
});

t.test('a wait ends at its deadline; whoever waited behind it may go', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.acquire('r', 'W', { ...X, waitMs: 500 });
  log.acquire('r', 'R', { ...S, waitMs: 2000 });
  t.equal(log.table.nextDeadlineMs(), log.timeMs + 500);
  log.tick(500);
  t.same(log.lastEvents, [
    { kind: 'waitTimedOut', name: 'r', owner: 'W' },
    { kind: 'granted', name: 'r', owner: 'R', mode: 'shared', token: 4, waitedMs: 500 },
  ]);
  t.same(log.brief('r'), { mode: 'shared', holders: ['A:1', 'R:4'], waiters: [] });
  t.same(log.table.counters().waitTimeouts, 1);
});

t.test('cancel removes a waiter, is a no-op otherwise, and emits no event for it', async (t) => {
  const log = new Log();
  log.grant('r', 'A', S);
  log.acquire('r', 'W', { ...X, waitMs: 5000 });
  log.acquire('r', 'R', { ...S, waitMs: 5000 });
  t.same(log.cancel('r', 'W'), { kind: 'cancelled' });
  t.same(log.lastEvents, [{ kind: 'granted', name: 'r', owner: 'R', mode: 'shared', token: 4, waitedMs: 0 }]);
  t.same(log.cancel('r', 'W'), { kind: 'notHeld' }, 'not waiting any more');
  t.same(log.cancel('r', 'A'), { kind: 'notHeld' }, 'a holder is not a waiter');
  t.same(log.cancel('other', 'A'), { kind: 'notHeld' });
  t.equal(log.table.counters().cancels, 1);
});

t.test('a token must match the hold it names', async (t) => {
  const log = new Log();
  const token = log.grant('r', 'A', X);
  const r = log.release('r', 'A', token + 1);
  t.equal(r.kind, 'error');
  t.match(r.kind === 'error' ? r.message : '', /^ERR token 2 does not match the hold's token 1$/);
  t.same(log.brief('r')?.holders, ['A:1'], 'nothing changed');
  t.same(log.release('r', 'B', token), { kind: 'notHeld' });
  t.same(log.release('r', 'A', token), { kind: 'released' });
});

t.test('asking again while waiting restates the wait; another mode is an error', async (t) => {
  const log = new Log();
  log.grant('r', 'A', X);
  log.acquire('r', 'B', { ...S, waitMs: 1000 });
  log.acquire('r', 'C', { ...S, waitMs: 1000 });
  t.same(log.acquire('r', 'B', { ...S, waitMs: 9000 }, 10), { kind: 'queued' });
  t.same(log.table.status('r')?.waiters[0], { owner: 'B', mode: 'shared', deadlineMs: log.timeMs + 9000 });
  t.same(log.brief('r')?.waiters, ['B:shared', 'C:shared'], 'it keeps its place');
  t.same(log.acquire('r', 'B', { ...S, waitMs: 0 }), { kind: 'refused' });
  const r = log.acquire('r', 'B', { ...X, waitMs: 100 });
  t.same(r, { kind: 'error', message: 'ERR owner is already waiting for this lock in shared mode' });
  t.equal(log.table.counters().waits, 2);
  log.tick(1000);
  t.same(log.lastEvents, [{ kind: 'waitTimedOut', name: 'r', owner: 'C' }]);
});

t.test('counters and per-lock contention; an idle lock is forgotten', async (t) => {
  const log = new Log();
  log.grant('hot', 'A', X);
  log.acquire('hot', 'B', X);
  log.acquire('hot', 'C', { ...X, waitMs: 100 });
  log.grant('cold', 'A', X);
  log.acquire('cold', 'B', X);
  t.same(log.table.topContended(5), [
    { name: 'hot', contended: 2 },
    { name: 'cold', contended: 1 },
  ]);
  t.equal(log.table.status('hot')?.contended, 2);
  log.release('cold', 'A');
  t.same(log.table.topContended(5), [{ name: 'hot', contended: 2 }]);
  log.release('hot', 'A', undefined, 30);
  t.same(log.table.counters(), {
    grants: 3,
    releases: 2,
    expirations: 0,
    waits: 1,
    waitedMs: 30,
    waitTimeouts: 0,
    cancels: 0,
    deadlocks: 0,
  });
  t.equal(log.table.status('hot')?.contended, 2, 'kept while the lock lives');
  log.release('hot', 'C');
  t.equal(log.table.size, 0);
  log.grant('hot', 'A', X);
  t.equal(log.table.status('hot')?.contended, 0, 'bounded: gone with the idle lock');
});

t.test('status, list and holdsOf', async (t) => {
  const log = new Log();
  for (const name of ['b:1', 'a:2', 'a:1', 'c']) log.grant(name, 'A', { ...S, ttlMs: 100 });
  log.grant('a:1', 'B', S);
  log.acquire('a:1', 'C', { ...X, waitMs: 50 });
  t.same(log.table.status('a:1'), {
    mode: 'shared',
    holders: [
      { owner: 'A', token: 3, expiresAtMs: log.timeMs + 100 },
      { owner: 'B', token: 5, expiresAtMs: log.timeMs + 30_000 },
    ],
    waiters: [{ owner: 'C', mode: 'exclusive', deadlineMs: log.timeMs + 50 }],
    contended: 1,
  });
  t.equal(log.table.status('zzz'), undefined);
  t.same(log.table.list(), ['a:1', 'a:2', 'b:1', 'c']);
  t.same(log.table.list('a:*'), ['a:1', 'a:2']);
  t.same(log.table.list('*:?', 2), ['a:1', 'a:2']);
  t.same(log.table.list('*', 0), []);
  t.same(
    log.table.holdsOf('A').map((h) => [h.name, h.token]),
    [
      ['a:1', 3],
      ['a:2', 2],
      ['b:1', 1],
      ['c', 4],
    ],
  );
  t.same(log.table.holdsOf('C'), []);
});

t.test('invalid commands are errors that change nothing', async (t) => {
  const log = new Log();
  log.grant('r', 'A', X);
  const before = log.table.snapshot();
  const r = log.acquire('r', 'B', { ttlMs: 0 });
  t.match(r, { kind: 'error', message: /^ERR invalid lock command: ttlMs 0 outside/ });
  t.same(log.acquire('', 'B'), {
    kind: 'error',
    message: 'ERR invalid lock command: lock name must be 1..512 UTF-8 bytes, got 0',
  });
  t.match(log.acquire('r', 'a b'), { kind: 'error', message: /whitespace/ });
  t.equal(log.table.status('r')?.holders.length, 1);
  t.same(log.table.snapshot().subarray(2), before.subarray(2), 'only the last index moved');
});

t.test('indexes must increase; time never goes back', async (t) => {
  const table = LockTable.empty();
  table.apply(
    { op: 'acquire', name: 'r', owner: 'A', mode: 'exclusive', ttlMs: 100, waitMs: 0 },
    { index: 5, timeMs: 1000 },
  );
  t.throws(() => table.apply({ op: 'tick' }, { index: 5, timeMs: 2000 }), /index 5 after 5/);
  // A slower clock on a new leader: the lease still ends at 1100, not later.
  table.apply({ op: 'tick' }, { index: 6, timeMs: 900 });
  t.equal(table.status('r')?.holders[0]?.expiresAtMs, 1100);
  const out = table.apply(
    { op: 'acquire', name: 'r', owner: 'B', mode: 'exclusive', ttlMs: 100, waitMs: 0 },
    { index: 7, timeMs: 1050 },
  );
  t.same(out.result, { kind: 'refused' });
  t.same(table.apply({ op: 'tick' }, { index: 8, timeMs: 1100 }).events, [
    { kind: 'expired', name: 'r', owner: 'A', token: 5 },
  ]);
});

t.test('stale deadlines do not pile up', async (t) => {
  const log = new Log();
  log.grant('r', 'A', { ...X, ttlMs: 10_000 });
  for (let i = 0; i < 10_000; i++) log.renew('r', 'A', 10_000, 1);
  t.equal(log.table.nextDeadlineMs(), log.timeMs + 10_000);
  for (let i = 0; i < 10_000; i++) {
    log.grant(`k${i % 7}`, 'B', X);
    log.release(`k${i % 7}`, 'B');
  }
  log.tick(10_000);
  t.equal(log.table.nextDeadlineMs(), null);
  t.equal(log.table.size, 0);
});
