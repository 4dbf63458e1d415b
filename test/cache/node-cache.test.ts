import fc from 'fast-check';
import t from 'tap';
import { NodeCache } from '../../src/cache/node-cache.js';
import { PROTOCOLS, type Stored } from '../../src/cache/protocol.js';
import { checkLinearizable, type Operation } from '../../tools/chaos/linearizability.js';
import { Cluster } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];

t.test('the API the service drives', async (t) => {
  const c = new Cluster('mesi', NODES, () => 'n1');
  const miss = c.read('n2', 'k');
  t.equal(miss.hit, false);
  if (miss.hit) return;
  t.same(
    miss.send.map((m) => `${m.type} ${m.from}→${m.to} #${m.requestId}`),
    [`GetS n2→n1 #${miss.requestId}`],
  );
  const again = c.read('n2', 'k');
  t.equal(again.hit, false, 'a second read of a line being filled waits too');
  if (again.hit) return;
  t.same(again.send, [], 'without another request');
  const done = c.settle();
  t.same(
    done.map((d) => [d.requestId, d.op, d.value]),
    [
      [miss.requestId, 'read', null],
      [again.requestId, 'read', null],
    ],
  );
  const hit = c.read('n2', 'k');
  t.same(hit, { hit: true, value: null, send: [] }, 'then a hit');
  const n2 = c.cache('n2');
  t.same(n2.counters(), { ...n2.counters(), readHits: 2, readMisses: 1, queued: 1 });
  t.same(n2.linesByState(), { E: 1 });
  t.throws(
    () => n2.receive({ type: 'PutAck', key: 'k', from: 'n1', to: 'n3', requestId: 1 }),
    /addressed to n3/,
  );

  // Bytes count the line.
  c.writeNow('n2', 'k', 'abc');
  t.equal(n2.bytes, 64 + 1 + 3);

  // dropWhere: a ring change; the pending request is reported failed.
  const pending = c.write('n3', 'k', 'x');
  t.equal(pending.hit, false);
  const dropped = c.cache('n3').dropWhere((k) => k === 'k');
  t.same(dropped, { failed: [(pending as { requestId: number }).requestId], dirtyLost: 0 });
  t.equal(c.cache('n3').size, 0);
  t.same(
    c.cache('n2').dropWhere(() => true),
    { failed: [], dirtyLost: 1 },
    'n2 held k in M',
  );
});

t.test('a node cache alone: writes and reads of many keys under a tight byte bound', async (t) => {
  const c = new Cluster('moesi', NODES, (k) => NODES[k.length % 3]!, { maxBytes: 400 });
  for (let i = 0; i < 30; i++) c.writeNow(NODES[i % 3]!, `key-${i}`, `value-${i}`);
  for (let i = 0; i < 30; i++) t.equal(c.readNow(NODES[(i + 1) % 3]!, `key-${i}`), `value-${i}`, `key-${i}`);
  for (const n of NODES) {
    t.ok(c.cache(n).bytes <= 400, `${n} within bound`);
    t.ok(c.cache(n).counters().capacityEvictions > 0, `${n} evicted`);
  }
});

/**
 * Random runs of the real classes: three nodes, two keys, operations started at random
 * moments (several at once per node), messages delivered in random order, tight byte bounds
 * so lines are evicted on their own. The recorded history must be linearizable per key, and
 * every operation completes once messages stop.
 */
t.test('random runs are linearizable per key', async (t) => {
  type Step = { kind: 'op'; node: number; key: number; write: boolean } | { kind: 'deliver'; pick: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('op' as const), node: fc.nat(2), key: fc.nat(1), write: fc.boolean() }),
    fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }),
  );
  let ops = 0;
  for (const protocol of PROTOCOLS) {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }),
        fc.boolean(),
        (steps, tight) => {
          const c = new Cluster(protocol, NODES, (k) => (k === 'a' ? 'n1' : 'n3'), {
            maxBytes: tight ? 140 : undefined,
          });
          const open = new Map<string, { op: Omit<Operation, 'returnMs'> }>();
          const history: Operation[] = [];
          let now = 0;
          let writes = 0;
          const finish = (node: string, requestId: number, value: Stored): void => {
            const id = `${node}#${requestId}`;
            const o = open.get(id)!;
            open.delete(id);
            history.push({ ...o.op, value: o.op.kind === 'read' ? value : o.op.value, returnMs: now });
          };
          const deliver = (pick: number): void => {
            const m = c.inFlight[pick % c.inFlight.length]!;
            for (const d of c.deliver(pick % c.inFlight.length)) finish(m.to, d.requestId, d.value);
          };
          for (const s of steps) {
            now++;
            if (s.kind === 'deliver') {
              if (c.inFlight.length > 0) deliver(s.pick);
              continue;
            }
            const node = NODES[s.node]!;
            const key = s.key === 0 ? 'a' : 'b';
            const value = `w${++writes}`;
            const res = s.write ? c.write(node, key, value) : c.read(node, key);
            const op = {
              key,
              kind: s.write ? ('write' as const) : ('read' as const),
              value,
              invokeMs: now,
              client: node,
            };
            if (res.hit) history.push({ ...op, value: s.write ? value : res.value, returnMs: now });
            else open.set(`${node}#${res.requestId}`, { op });
          }
          while (c.inFlight.length > 0) {
            now++;
            deliver(now * 7919);
          }
          if (open.size > 0) throw new Error(`never completed: ${[...open.keys()]}`);
          ops += history.length;
          const res = checkLinearizable(history);
          if (!res.ok) throw new Error(res.description);
          return true;
        },
      ),
      { numRuns: 300 },
    );
  }
  t.ok(ops > 10_000, `${ops} operations checked`);
});

t.test('NodeCache rejects messages for another node', async (t) => {
  const n = new NodeCache({ node: 'n1', protocol: 'mesi', homeOf: () => 'n2' });
  t.same(n.evict('nothing'), { send: [] }, 'evicting an absent line does nothing');
  t.equal(n.peek('nothing').state, 'I');
});
