import t from 'tap';
import {
  availability,
  errorCounts,
  errorPrefix,
  median,
  recovery,
} from '../../../tools/chaos/availability.js';
import { History } from './builder.js';

/**
 * n1 is killed from 1000 to 3000 (the nemesis fault window); the faults phase runs 1000–5000.
 * Lock ops: L1 ok before, L2 fail / L3 info / L4 info during the kill, L5 ok after the restart.
 * Cache ops: C1 ok before, C2 fail across the phase heal, C3 ok after. Q1 never returns.
 */
function history(): History {
  const h = new History().phase('start', 0).phase('faults', 1000).nemesis('kill', 1000, ['n1']);
  h.nemesis('restart', 3000, ['n1']).phase('heal', 5000);
  h.nemesis('pause', 6100, ['n2']).nemesis('resume', 6500, ['n2']).phase('end', 8000);
  const lock = (at: number, done: number, outcome: 'ok' | 'fail' | 'info', error?: string) =>
    h.op({
      process: 1,
      f: 'acquire',
      key: 'L',
      at,
      done,
      outcome,
      node: 'n2',
      ...(outcome === 'ok' ? { result: { token: at, ttlMs: 50 } } : {}),
      ...(error !== undefined ? { error } : {}),
    });
  lock(0, 100, 'ok');
  lock(1100, 1200, 'fail', 'held by another owner');
  lock(2000, 2500, 'info', 'timeout after 5000 ms');
  lock(2900, 3050, 'info', 'timeout after 5000 ms');
  lock(3100, 3200, 'ok');
  h.op({ process: 2, f: 'read', key: 'k', at: 500, done: 900, result: null });
  h.op({
    process: 2,
    f: 'read',
    key: 'k',
    at: 4900,
    done: 5100,
    outcome: 'fail',
    error: 'TRYAGAIN no leader for group 3',
  });
  h.op({ process: 2, f: 'read', key: 'k', at: 5200, done: 5600, result: null });
  h.op({ process: 3, f: 'push', key: 'q', at: 6000, value: 'm1' });
  return h;
}

t.test('availability splits completed ops by the nemesis fault windows', async (t) => {
  const a = availability(history().events());
  t.equal(a.windowSource, 'nemesis');
  t.same(a.windows, [
    { startMs: 1000, endMs: 3000 },
    { startMs: 6100, endMs: 6500 },
  ]);
  // L2's "held by another owner" is an answer: the cluster served it.
  t.same(a.overall, { ok: 5, completed: 8, fraction: 0.625 });
  t.same(a.duringFaults, { ok: 1, completed: 3, fraction: 1 / 3 });
  t.same(a.outsideFaults, { ok: 4, completed: 5, fraction: 0.8 });
  t.same(a.byWorkload.lock, {
    overall: { ok: 3, completed: 5, fraction: 0.6 },
    duringFaults: { ok: 1, completed: 3, fraction: 1 / 3 },
    outsideFaults: { ok: 2, completed: 2, fraction: 1 },
  });
  t.same(a.byWorkload.cache?.duringFaults, { ok: 0, completed: 0, fraction: null });
  t.equal(a.byWorkload.queue, undefined, 'an op that never returned is not completed');
});

t.test('availability by the faults phase', async (t) => {
  const a = availability(history().events(), { faultWindows: 'phase' });
  t.same(a.windows, [{ startMs: 1000, endMs: 5000 }]);
  t.same(a.duringFaults, { ok: 2, completed: 5, fraction: 0.4 });
  t.same(a.outsideFaults, { ok: 3, completed: 3, fraction: 1 });
});

t.test('recovery: until every workload in flight has an ok of an op invoked after the event', async (t) => {
  const r = recovery(history().events());
  t.same(
    r.events.map((e) => [e.cause, e.timeMs, e.byWorkload, e.recoveryMs]),
    [
      ['restart n1', 3000, { lock: 200 }, 200],
      ['phase heal', 5000, { cache: 600 }, 600],
      ['resume n2', 6500, { queue: null }, null],
    ],
  );
  t.equal(r.maxMs, 600);
  t.equal(r.medianMs, 400);
  t.equal(r.unrecovered, 1);
});

t.test('error counts by prefix, most frequent first', async (t) => {
  t.same(errorCounts(history().events()), [
    { prefix: 'timeout after', count: 2 },
    { prefix: '(never returned)', count: 1 },
    { prefix: 'held by', count: 1 },
    { prefix: 'TRYAGAIN no', count: 1 },
  ]);
  t.equal(errorCounts(history().events(), 1).length, 1);
  t.equal(errorPrefix('MOVED 3 127.0.0.1:7003'), 'MOVED #');
  t.equal(errorPrefix('connect ECONNREFUSED 127.0.0.1:7001'), 'connect ECONNREFUSED');
  t.equal(errorPrefix('NOQUORUM: cut off\nstack'), 'NOQUORUM: cut');
  t.equal(errorPrefix(''), '(empty)');
});

t.test('median', async (t) => {
  t.equal(median([]), null);
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([4, 1, 3, 2]), 2.5);
});
