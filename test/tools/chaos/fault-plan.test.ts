import t from 'tap';
import { SeededRandom } from '../../../src/lib/random.js';
import {
  blockedBy,
  bridgeGroups,
  FAULT_KINDS,
  FaultDealer,
  ringGroups,
} from '../../../tools/chaos/fault-plan.js';

const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
const sorted = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]));

t.test('a clean split blocks everything across it, symmetrically', async (t) => {
  t.same(
    sorted(
      blockedBy([
        ['n1', 'n2', 'n3'],
        ['n4', 'n5'],
      ]),
    ),
    {
      n1: ['n4', 'n5'],
      n2: ['n4', 'n5'],
      n3: ['n4', 'n5'],
      n4: ['n1', 'n2', 'n3'],
      n5: ['n1', 'n2', 'n3'],
    },
  );
});

t.test('a bridge: the middle node sees both halves, the halves never see each other', async (t) => {
  const groups = bridgeGroups(nodes);
  t.same(groups, [
    ['n1', 'n2', 'n3'],
    ['n3', 'n4', 'n5'],
  ]);
  t.same(sorted(blockedBy(groups)), {
    n1: ['n4', 'n5'],
    n2: ['n4', 'n5'],
    n3: [],
    n4: ['n1', 'n2'],
    n5: ['n1', 'n2'],
  });
});

t.test('a ring: each node talks to its two neighbours only', async (t) => {
  const blocked = blockedBy(ringGroups(nodes));
  t.same(sorted(blocked), {
    n1: ['n3', 'n4'],
    n2: ['n4', 'n5'],
    n3: ['n1', 'n5'],
    n4: ['n1', 'n2'],
    n5: ['n2', 'n3'],
  });
  for (const [n, peers] of blocked)
    for (const p of peers) t.ok(blocked.get(p)!.includes(n), `${p} blocks ${n} too`);
});

t.test('the dealer deals every fault kind once before repeating, and replays from its seed', async (t) => {
  const deal = (seed: number) => {
    const dealer = new FaultDealer(new SeededRandom(seed), nodes);
    return Array.from({ length: 2 * FAULT_KINDS.length }, () => dealer.next('n1'));
  };
  const plans = deal(7);
  const kindOf = (p: (typeof plans)[number]) => (p.kind === 'partition' ? p.shape : p.kind);
  t.same(new Set(plans.slice(0, FAULT_KINDS.length).map(kindOf)), new Set(FAULT_KINDS));
  t.same(new Set(plans.slice(FAULT_KINDS.length).map(kindOf)), new Set(FAULT_KINDS));
  t.same(
    JSON.stringify(deal(7), (_k, v) => (v instanceof Map ? [...v] : v)),
    JSON.stringify(plans, (_k, v) => (v instanceof Map ? [...v] : v)),
  );
  const isolate = plans.find((p) => p.kind === 'partition' && p.shape === 'isolate-leader');
  t.match(isolate, { components: [['n1'], ['n2', 'n3', 'n4', 'n5']] }, 'isolate-leader cuts the leader off');
});
