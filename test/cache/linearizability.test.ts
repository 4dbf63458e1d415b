import fc from 'fast-check';
import t from 'tap';
import {
  checkLinearizable,
  HistoryRecorder,
  isLinearizableRegister,
  type Operation,
  type RegisterValue,
  valueKey,
} from '../../tools/chaos/linearizability.js';

/** `w('a', 0, 10)`: write "a" invoked at 0, returned at 10 (null: never returned). */
const w = (value: RegisterValue, invokeMs: number, returnMs: number | null, key = 'k'): Operation => ({
  key,
  kind: 'write',
  value,
  invokeMs,
  returnMs,
});
const r = (value: RegisterValue, invokeMs: number, returnMs: number | null, key = 'k'): Operation => ({
  key,
  kind: 'read',
  value,
  invokeMs,
  returnMs,
});

t.test('known linearizable histories are accepted', async (t) => {
  const cases: [string, Operation[]][] = [
    ['empty', []],
    ['a read of the initial nil', [r(null, 0, 1)]],
    ['sequential write then read', [w('a', 0, 1), r('a', 2, 3)]],
    ['a read concurrent with a write may see either', [w('a', 0, 10), r(null, 1, 2), r('a', 3, 4)]],
    // Porcupine's register example: a concurrent read sees the new value before a later one
    // sees it too; both reads overlap the write.
    ['overlapping reads, new then new', [w('100', 0, 100), r('100', 25, 75), r('100', 30, 60)]],
    ['two concurrent writes, any order', [w('a', 0, 10), w('b', 0, 10), r('a', 11, 12)]],
    ['two concurrent writes, the other order', [w('a', 0, 10), w('b', 0, 10), r('b', 11, 12)]],
    ['touching intervals are concurrent', [w('a', 0, 5), r(null, 5, 6)]],
    ['a write that never returned may have happened', [w('a', 0, null), r('a', 10, 11)]],
    ['... or not', [w('a', 0, null), r(null, 10, 11)]],
    ['a read that never returned says nothing', [w('a', 0, 1), r('zzz', 2, null)]],
    ['keys are independent', [w('a', 0, 1, 'x'), w('b', 0, 1, 'y'), r('a', 2, 3, 'x'), r('b', 2, 3, 'y')]],
    ['bytes compare by content', [w(new Uint8Array([1, 2]), 0, 1), r(Buffer.from([1, 2]), 2, 3)]],
  ];
  for (const [name, h] of cases) t.same(checkLinearizable(h), { ok: true }, name);
});

t.test('known non-linearizable histories are rejected', async (t) => {
  const cases: [string, Operation[], RegExp][] = [
    ['stale read after a completed write', [w('a', 0, 1), w('b', 2, 3), r('a', 4, 5)], /not linearizable/],
    ['a read of nil after a completed write', [w('a', 0, 1), r(null, 2, 3)], /not linearizable/],
    [
      'lost write: concurrent writes, then the value flips back',
      [w('a', 0, 10), w('b', 0, 10), r('b', 11, 12), r('a', 13, 14)],
      /not linearizable/,
    ],
    [
      'lost write: the later write is never seen though it completed',
      [w('a', 0, 1), w('b', 2, 3), r('b', 4, 5), w('c', 6, 7), r('b', 8, 9)],
      /not linearizable/,
    ],
    ['a read from the future', [r('a', 0, 1), w('a', 2, 3)], /not linearizable/],
    ['a read of a value nobody wrote', [w('a', 0, 1), r('q', 2, 3)], /"q", which no write wrote/],
    [
      'new-old inversion between two readers',
      [w('a', 0, 1), w('b', 2, 20), r('b', 3, 4), r('a', 5, 6)],
      /not linearizable/,
    ],
  ];
  for (const [name, h, expect] of cases) {
    const res = checkLinearizable(h);
    t.equal(res.ok, false, name);
    if (!res.ok) t.match(res.description, expect, name);
  }
});

t.test('the counterexample is minimal and names the key', async (t) => {
  const noise = Array.from({ length: 20 }, (_, i) => w(`n${i}`, 100 + 10 * i, 105 + 10 * i, 'other'));
  const h = [
    ...noise,
    w('a', 0, 1),
    r('a', 2, 3),
    w('b', 4, 5),
    r('b', 6, 7),
    r('a', 8, 9), // stale: only this, w(a) and w(b) are needed
    w('c', 10, 11),
    r('c', 12, 13),
  ];
  const res = checkLinearizable(h);
  t.equal(res.ok, false);
  if (res.ok) return;
  t.equal(res.key, 'k');
  t.same(
    res.ops.map((op) => `${op.kind}:${op.value}`).sort(),
    ['read:a', 'write:a', 'write:b'],
    'only w(a), w(b) and the stale read remain',
  );
  t.comment(res.description);
  for (const op of res.ops) {
    // Without any one read, or any write with the reads of its value, it passes.
    const rest = res.ops.filter(
      (x) => x !== op && (op.kind === 'read' || valueKey(x.value) !== valueKey(op.value)),
    );
    t.ok(isLinearizableRegister(rest), `${op.kind}(${op.value}) is needed`);
  }
});

t.test('the recorder keeps open operations as unknown', async (t) => {
  let now = 0;
  const rec = new HistoryRecorder(() => now++);
  const a = rec.invoke('c1', 'k', 'write', 'x');
  const b = rec.invoke('c2', 'k', 'read');
  rec.ok(a);
  rec.ok(b, 'x');
  const c = rec.invoke('c1', 'k', 'write', 'y');
  rec.unknown(c);
  rec.invoke('c2', 'k', 'read');
  const h = rec.history();
  t.equal(h.length, 4);
  t.same(h[1], { client: 'c2', key: 'k', kind: 'read', value: 'x', invokeMs: 1, returnMs: 3 });
  t.equal(h[2]?.returnMs, null);
  t.ok(checkLinearizable(h).ok);
});

// ---------------------------------------------------------------------------------------------
// Generated histories.

interface Planned {
  key: string;
  kind: 'read' | 'write';
  /** Slack before and after the linearization point. */
  before: number;
  after: number;
  /** A write that never returns (it may or may not take effect). */
  pending: boolean;
  /** A pending write that took effect. */
  happened: boolean;
}

const planned: fc.Arbitrary<Planned> = fc.record({
  key: fc.constantFrom('x', 'y'),
  kind: fc.constantFrom<'read' | 'write'>('read', 'write'),
  before: fc.nat(40),
  after: fc.nat(40),
  pending: fc.nat(5).map((n) => n === 0),
  happened: fc.boolean(),
});

/**
 * A sequential execution: operation i takes effect at time 10·i, atomically, and its interval
 * is stretched around that point; reads return the register's value then. Linearizable by
 * construction. Pending writes that did not happen are invoked but never take effect.
 */
function execute(plan: readonly Planned[]): Operation[] {
  const reg = new Map<string, RegisterValue>();
  return plan.map((p, i) => {
    const at = 10 * i + 5;
    const invokeMs = at - p.before;
    const returnMs = at + p.after;
    if (p.kind === 'write') {
      const value = `v${i}`;
      if (!p.pending || p.happened) reg.set(p.key, value);
      return { key: p.key, kind: 'write', value, invokeMs, returnMs: p.pending ? null : returnMs };
    }
    return { key: p.key, kind: 'read', value: reg.get(p.key) ?? null, invokeMs, returnMs };
  });
}

t.test('histories of sequential executions pass', async (t) => {
  fc.assert(
    fc.property(fc.array(planned, { maxLength: 40 }), (plan) => checkLinearizable(execute(plan)).ok),
    { numRuns: 400 },
  );
  // Big ones stay fast thanks to the memoization.
  const big = fc.sample(fc.array(planned, { minLength: 300, maxLength: 300 }), { numRuns: 3, seed: 7 });
  for (const plan of big) t.ok(checkLinearizable(execute(plan)).ok, '300 operations');
});

/**
 * A read made to return what it cannot: a value nobody wrote, a value whose write starts after
 * the read returned (the future), or a value overwritten before the read began (stale: its
 * write returned before another completed write to the key began, which returned before the
 * read began). Each is non-linearizable whatever else happens, since written values are unique.
 */
function mutate(h: Operation[], pick: number, how: number): Operation[] | null {
  const reads = h.filter((op) => op.kind === 'read');
  if (reads.length === 0) return null;
  const read = reads[pick % reads.length]!;
  const rr = read.returnMs!;
  const writes = h.filter((op) => op.kind === 'write' && op.key === read.key);
  const done = writes.filter((op) => op.returnMs !== null);
  const future = writes.filter((op) => op.invokeMs > rr);
  const stale = done.filter((w1) =>
    done.some((w2) => w2 !== w1 && w1.returnMs! < w2.invokeMs && w2.returnMs! < read.invokeMs),
  );
  const staleNil = done.some((w2) => w2.returnMs! < read.invokeMs);
  const options: RegisterValue[] = ['never-written'];
  if (future.length > 0) options.push(future[how % future.length]!.value);
  if (stale.length > 0) options.push(stale[how % stale.length]!.value);
  if (staleNil) options.push(null);
  const value = options[how % options.length]!;
  if (valueKey(value) === valueKey(read.value)) return null;
  return h.map((op) => (op === read ? { ...op, value } : op));
}

t.test('mutated histories fail', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(fc.array(planned, { minLength: 1, maxLength: 30 }), fc.nat(), fc.nat(), (plan, pick, how) => {
      const bad = mutate(execute(plan), pick, how);
      fc.pre(bad !== null);
      checked++;
      return !checkLinearizable(bad!).ok;
    }),
    { numRuns: 400 },
  );
  t.ok(checked >= 200, `${checked} mutated histories rejected`);
});

/** Brute force for tiny histories: some order of all completed ops (and any subset of the pending writes). */
function bruteForce(ops: readonly Operation[], initial: RegisterValue = null): boolean {
  const done = ops.filter((op) => op.returnMs !== null);
  const pending = ops.filter((op) => op.returnMs === null);
  for (let mask = 0; mask < 1 << pending.length; mask++) {
    const use = [...done, ...pending.filter((_, i) => mask & (1 << i))];
    const ret = (op: Operation): number => op.returnMs ?? Number.POSITIVE_INFINITY;
    const search = (placed: Operation[], value: string): boolean => {
      if (placed.length === use.length) return true;
      for (const op of use) {
        if (placed.includes(op)) continue;
        // Every op that must precede it (returned strictly before it began) is placed.
        if (use.some((o) => o !== op && !placed.includes(o) && ret(o) < op.invokeMs)) continue;
        if (op.kind === 'read' && valueKey(op.value) !== value) continue;
        if (search([...placed, op], op.kind === 'write' ? valueKey(op.value) : value)) return true;
      }
      return false;
    };
    if (search([], valueKey(initial))) return true;
  }
  return false;
}

t.test('agrees with brute force on small arbitrary histories', async (t) => {
  const op: fc.Arbitrary<Operation> = fc
    .record({
      kind: fc.constantFrom<'read' | 'write'>('read', 'write'),
      value: fc.constantFrom<RegisterValue>(null, 'a', 'b', 'c'),
      invokeMs: fc.nat(12),
      length: fc.nat(8),
      pending: fc.nat(9),
    })
    .map((o) => ({
      key: 'k',
      kind: o.kind,
      value: o.kind === 'write' && o.value === null ? 'a' : o.value,
      invokeMs: o.invokeMs,
      returnMs: o.kind === 'write' && o.pending === 0 ? null : o.invokeMs + o.length,
    }));
  let yes = 0;
  let no = 0;
  fc.assert(
    fc.property(fc.array(op, { maxLength: 6 }), (h) => {
      const expected = bruteForce(h);
      if (expected) yes++;
      else no++;
      return isLinearizableRegister(h) === expected;
    }),
    { numRuns: 2000 },
  );
  t.ok(yes > 200 && no > 200, `both answers exercised: ${yes} linearizable, ${no} not`);
});
