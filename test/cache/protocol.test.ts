import t from 'tap';
import {
  CACHE_EVENTS,
  CACHE_STATES,
  CACHE_TABLES,
  type CacheState,
  cacheStep,
  EMPTY_ENTRY,
  EMPTY_LINE,
  HOME_STATES,
  HOME_TABLES,
  homeStep,
  isHomeMessage,
  PROTOCOLS,
  READABLE_STATES,
  STABLE_CACHE_STATES,
} from '../../src/cache/protocol.js';
import { Cluster } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];

t.test('acceptance walk-through: write n1, read n3, write n2 (home n2)', async (t) => {
  for (const protocol of PROTOCOLS) {
    t.test(protocol, async (t) => {
      const c = new Cluster(protocol, NODES, () => 'n2');
      const home = c.home('n2');

      c.writeNow('n1', 'k', 'v1');
      t.equal(c.states('k'), 'n1:M n2:I n3:I', 'write on n1: n1 is M');
      t.equal(home.entry('k')?.state, 'EM');
      t.equal(home.entry('k')?.owner, 'n1');

      t.equal(c.readNow('n3', 'k'), 'v1', 'n3 reads what n1 wrote');
      if (protocol === 'mesi') {
        t.equal(c.states('k'), 'n1:S n2:I n3:S', 'read on n3: n1 wrote back and is S, n3 is S');
        t.equal(home.entry('k')?.state, 'S');
        t.equal(home.entry('k')?.memory, 'v1', 'the writeback reached memory');
        t.same(home.entry('k')?.sharers, ['n1', 'n3']);
        t.ok(c.trace.includes('WbData n1→n2'), 'MESI writes back on the forwarded read');
      } else {
        t.equal(c.states('k'), 'n1:O n2:I n3:S', 'read on n3: n1 keeps the dirty copy as O, n3 is S');
        t.equal(home.entry('k')?.state, 'O');
        t.equal(home.entry('k')?.owner, 'n1');
        t.equal(home.entry('k')?.memory, null, 'no writeback under MOESI: memory is stale');
        t.notOk(c.trace.includes('WbData n1→n2'));
      }
      t.equal(c.cache('n1').peek('k').value, 'v1');

      c.writeNow('n2', 'k', 'v2');
      t.equal(c.states('k'), 'n1:I n2:M n3:I', 'write on n2: n1 and n3 invalidated, n2 is M');
      t.equal(home.entry('k')?.owner, 'n2');
      t.same(home.entry('k')?.sharers, []);
      t.equal(c.readNow('n1', 'k'), 'v2');
      t.equal(c.readNow('n3', 'k'), 'v2');
      t.equal(
        c.cache('n1').counters().invalidationsReceived + c.cache('n3').counters().invalidationsReceived,
        protocol === 'mesi' ? 2 : 1,
        'MESI invalidates both sharers, MOESI the sharer (the owner gets a forward)',
      );
    });
  }
});

t.test('a read nobody else holds is granted E; a write in E is silent', async (t) => {
  const c = new Cluster('mesi', NODES, () => 'n3');
  t.equal(c.readNow('n1', 'k'), null, 'a never-written key reads nil');
  t.equal(c.states('k'), 'n1:E n2:I n3:I');
  const r = c.write('n1', 'k', 'x');
  t.ok(r.hit, 'write in E completes locally');
  t.same(r.send, [], 'without messages');
  t.equal(c.states('k'), 'n1:M n2:I n3:I');
  t.equal(c.readNow('n2', 'k'), 'x');
});

t.test('upgrade from S, eviction writebacks, stale puts', async (t) => {
  for (const protocol of PROTOCOLS) {
    t.test(protocol, async (t) => {
      const c = new Cluster(protocol, NODES, () => 'n1');
      c.writeNow('n2', 'k', 'a');
      c.readNow('n3', 'k');
      c.writeNow('n3', 'k', 'b');
      t.equal(c.states('k'), 'n1:I n2:I n3:M', 'S upgrades to M');
      c.evict('n3', 'k');
      t.equal(c.cache('n3').peek('k').state, 'MI_A');
      const r = c.read('n3', 'k');
      t.notOk(r.hit, 'a line waiting for its PutAck no longer serves reads');
      const done = c.settle();
      t.same(
        done.map((d) => [d.op, d.value]),
        [['read', 'b']],
        'the read waits for the PutAck, then misses',
      );
      t.equal(c.home('n1').entry('k')?.memory, 'b', 'PutM wrote back');
      t.equal(c.states('k'), 'n1:I n2:I n3:E', 'nobody else holds it: E');
      c.evict('n3', 'k');
      c.settle();
      t.equal(c.readNow('n2', 'k'), 'b');

      // A PutM that crosses a forward: the forward is answered, the Put is stale.
      c.writeNow('n2', 'k', 'c');
      c.evict('n2', 'k');
      c.write('n3', 'k', 'd');
      // Deliver n3's GetM before n2's PutM.
      c.deliver(c.inFlight.findIndex((m) => m.type === 'GetM'));
      c.settle();
      t.equal(c.states('k'), 'n1:I n2:I n3:M');
      t.equal(c.home('n1').counters().stalePuts, 1, 'the overtaken PutM was acked as stale');
      t.equal(c.readNow('n1', 'k'), 'd');
    });
  }
});

t.test('the home serialises a key: requests queue while it is busy', async (t) => {
  const c = new Cluster('moesi', NODES, () => 'n1');
  c.writeNow('n2', 'k', 'a');
  c.read('n3', 'k');
  c.write('n1', 'k', 'b');
  c.read('n1', 'k');
  // Both GetS and GetM reach the home before anything else moves.
  c.deliver(0);
  c.deliver(0);
  t.equal(c.home('n1').entry('k')?.queue.length, 1, 'the GetM waits behind the GetS');
  const done = c.settle();
  t.same(
    done.map((d) => `${d.op}:${d.value}`),
    ['read:a', 'write:b', 'read:b'],
    'the read behind the write on n1 sees it',
  );
  t.equal(c.home('n1').counters().queued, 1);
  t.equal(c.cache('n1').counters().queued, 1);
});

t.test('bounded node cache evicts LRU lines and writes dirty ones back', async (t) => {
  const c = new Cluster('mesi', NODES, () => 'n3', { maxBytes: 3 * 80 });
  for (const k of ['a', 'b', 'c', 'd', 'e']) c.writeNow('n1', k, `value-${k}`);
  c.settle();
  const n1 = c.cache('n1');
  t.ok(n1.bytes <= 3 * 80, `within bound: ${n1.bytes}`);
  t.ok(n1.counters().capacityEvictions >= 2, `${n1.counters().capacityEvictions} evicted`);
  t.equal(n1.peek('e').state, 'M', 'the latest write stays');
  t.equal(n1.peek('a').state, 'I', 'the oldest went');
  t.equal(c.home('n3').entry('a')?.memory, 'value-a', 'and was written back');
  t.equal(c.readNow('n2', 'a'), 'value-a');
});

t.test('home memory bound: only idle entries drop, and then read as nil', async (t) => {
  const c = new Cluster('mesi', NODES, () => 'n3', { maxMemoryBytes: 2 * 110 });
  for (const k of ['a', 'b', 'c']) {
    c.writeNow('n1', k, `v-${k}`);
    c.evict('n1', k);
    c.settle();
  }
  const home = c.home('n3');
  t.equal(home.counters().memoryDrops, 1, 'one idle entry dropped');
  t.equal(home.entry('a'), undefined, 'the least recently used one');
  t.equal(c.readNow('n2', 'a'), null, 'its value is gone: nil');
  t.equal(c.readNow('n2', 'c'), 'v-c');
  // Entries with copies out are never dropped, even over the bound.
  c.writeNow('n1', 'x', 'long-value-'.repeat(20));
  c.writeNow('n2', 'y', 'long-value-'.repeat(20));
  c.readNow('n3', 'x');
  t.ok(home.memoryBytes > 2 * 110, 'over the bound with cached keys');
  t.equal(home.entry('x')?.state, 'S', 'kept: x has sharers');
});

t.test('tables are well formed', async (t) => {
  for (const protocol of PROTOCOLS) {
    const table = CACHE_TABLES[protocol];
    for (const s of STABLE_CACHE_STATES) {
      if (protocol === 'mesi' && s === 'O') {
        t.equal(table.O, undefined, 'MESI has no O');
        continue;
      }
      for (const e of ['Load', 'Store', 'Evict'] as const)
        t.ok(table[s]?.[e], `${protocol} ${s} handles ${e}`);
    }
    for (const [s, rows] of Object.entries(table)) {
      t.ok(CACHE_STATES.includes(s as CacheState), s);
      for (const [e, row] of Object.entries(rows ?? {})) {
        t.ok((CACHE_EVENTS as readonly string[]).includes(e), `${s}:${e}`);
        if (row === 'stall') {
          t.ok(e === 'Load' || e === 'Store', `only local operations stall (${s}:${e})`);
          continue;
        }
        t.ok(table[row.next] !== undefined, `${protocol} ${s}:${e} → ${row.next} has rows`);
        if (e === 'Load' && row.actions.includes('hit'))
          t.ok(READABLE_STATES.has(s as CacheState), `${s} readable`);
      }
    }
    for (const [s, rows] of Object.entries(HOME_TABLES[protocol])) {
      t.ok((HOME_STATES as readonly string[]).includes(s), s);
      for (const row of Object.values(rows ?? {}))
        t.ok(HOME_TABLES[protocol][row.next], `${s} → ${row.next}`);
    }
  }
});

t.test('impossible inputs throw instead of being ignored', async (t) => {
  const ctx = { node: 'n1', home: 'n2', key: 'k' };
  t.throws(
    () =>
      cacheStep(
        'mesi',
        EMPTY_LINE,
        { type: 'Inv', key: 'k', from: 'n2', to: 'n1', requestId: 1, requester: 'n3' },
        ctx,
      ),
    /no transition for I:Inv/,
  );
  t.throws(
    () =>
      homeStep(
        'mesi',
        EMPTY_ENTRY,
        { type: 'Unblock', key: 'k', from: 'n1', to: 'n2', requestId: 1 },
        { node: 'n2' },
      ),
    /no transition for I:Unblock/,
  );
  t.ok(isHomeMessage({ type: 'PutO', key: 'k', from: 'n1', to: 'n2', requestId: 1, value: null }));
  t.notOk(isHomeMessage({ type: 'PutAck', key: 'k', from: 'n1', to: 'n2', requestId: 1 }));
});

t.test("NodeCache's read fast path is the tables' Load-hit row", async (t) => {
  // node-cache.ts answers a Load on a stable S/E/O/M line without the table; the table must
  // agree that such a Load is a hit that changes nothing and sends nothing.
  const { CACHE_TABLES } = await import('../../src/cache/protocol.js');
  for (const protocol of ['mesi', 'moesi'] as const) {
    for (const state of ['S', 'E', 'O', 'M'] as const) {
      const row = (CACHE_TABLES[protocol] as Record<string, Record<string, unknown> | undefined>)[state]
        ?.Load;
      if (row === undefined) {
        t.equal(protocol === 'mesi' && state === 'O', true, `${protocol} has no ${state} state`);
        continue;
      }
      t.same(row, { next: state, actions: ['hit'] }, `${protocol} ${state}: Load hits and stays ${state}`);
    }
  }
});
