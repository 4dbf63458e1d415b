import t from 'tap';
import { encodeEnvelope } from '../../src/raft-runtime/envelope.js';
import type { ApplyContext, StateMachine } from '../../src/raft-runtime/machine.js';
import { SESSION_TTL_MS, SessionMachine } from '../../src/raft-runtime/sessions.js';
import { int, type Reply } from '../../src/resp/reply.js';

/** A counter: each command adds its byte; the reply is the new total. */
class Counter implements StateMachine {
  total = 0;
  times: number[] = [];
  apply(payload: Uint8Array, ctx: ApplyContext): Reply {
    this.total += payload[0] ?? 0;
    this.times.push(ctx.timeMs);
    return int(this.total);
  }
  snapshot(): Uint8Array {
    return Uint8Array.of(this.total);
  }
  restore(data: Uint8Array): void {
    this.total = data[0] ?? 0;
  }
}

const entry = (session: string, seq: number, ackedBelow: number, add: number, timeMs = 1000) =>
  encodeEnvelope({ timeMs, session, seq, ackedBelow, payload: Uint8Array.of(add) });

t.test('a retried request applies once and gets the first reply', (t) => {
  const counter = new Counter();
  const m = new SessionMachine(counter);
  t.same(m.apply(entry('a', 1, 1, 5), 0, 1, 1), int(5));
  t.same(m.apply(entry('a', 1, 1, 5), 0, 2, 1), int(5), 'the duplicate is answered from the session');
  t.equal(counter.total, 5);
  t.same(m.apply(entry('b', 1, 1, 5), 0, 3, 1), int(10), 'another session is independent');
  t.same(m.apply(entry('a', 2, 2, 1), 0, 4, 1), int(11));
  t.match(
    m.apply(entry('a', 1, 2, 5), 0, 5, 1),
    { t: 'error', v: /already answered/ },
    'below ackedBelow: refused',
  );
  t.equal(counter.total, 11);
  t.equal(m.duplicates, 2);
  t.end();
});

t.test('leader time is monotonic, the no-op applies nothing, garbage is an error reply', (t) => {
  const counter = new Counter();
  const m = new SessionMachine(counter);
  m.apply(entry('', 0, 0, 1, 5000), 0, 1, 1);
  m.apply(entry('', 0, 0, 1, 4000), 0, 2, 2);
  t.same(counter.times, [5000, 5000], 'a new leader with a slower clock does not move time back');
  t.equal(m.apply(new Uint8Array(0), 0, 3, 2), undefined);
  t.match(m.apply(Uint8Array.of(7, 7), 0, 4, 2), { t: 'error', v: /undecodable entry 4/ });
  t.end();
});

t.test('snapshots carry sessions and state; restore gives an identical machine', (t) => {
  const a = new SessionMachine(new Counter());
  a.apply(entry('s1', 1, 1, 3), 0, 1, 1);
  a.apply(entry('s2', 7, 5, 4), 0, 2, 1);
  const b = new SessionMachine(new Counter());
  b.restore(a.snapshot());
  t.same(b.snapshot(), a.snapshot());
  t.same(b.apply(entry('s2', 7, 5, 4), 0, 3, 1), int(7), 'a retry after restore is still deduplicated');
  const empty = new SessionMachine(new Counter());
  empty.restore(new Uint8Array(0));
  t.equal(empty.sessionCount, 0);
  t.end();
});

t.test('idle sessions expire by leader time', (t) => {
  const m = new SessionMachine(new Counter());
  m.apply(entry('old', 1, 1, 1, 0), 0, 1, 1);
  m.apply(entry('new', 1, 1, 1, SESSION_TTL_MS + 1), 0, 1024, 1);
  t.equal(m.sessionCount, 1, 'swept at a deterministic index');
  t.end();
});
