import t from 'tap';
import type { MetaState } from '../../../src/cluster/meta/state.js';
import { Ring } from '../../../src/cluster/ring.js';
import { addr, Log } from './helpers.js';

const P = 8;
const R = 3;

function partitionVoters(s: MetaState): string[][] {
  return Array.from({ length: s.partitions }, (_, i) => [...s.desired(i + 1).voters]);
}

/** The partitions (never group 0) whose desired configuration names `id`. */
function placedOn(s: MetaState, id: string): number[] {
  return s.groupsOf(id).filter((g) => g !== 0);
}

t.test(
  'growing 1 -> 7 nodes: group 0 voters capped, partitions get min(R, n) distinct members',
  async (t) => {
    const log = Log.cluster(1, { partitions: P, replicas: R, metaVotersMax: 5 });
    for (let n = 1; n <= 7; n++) {
      if (n > 1) log.ok({ op: 'join', member: addr(`n${n}`) });
      const s = log.state;
      const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      const g0 = s.desired(0);
      t.same(g0.voters, ids.slice(0, Math.min(5, n)), `n=${n}: the first members fill the voter seats`);
      t.same(g0.learners, ids.slice(5), `n=${n}: the others are learners`);
      for (const [i, voters] of partitionVoters(s).entries()) {
        t.equal(voters.length, Math.min(R, n), `n=${n} p=${i + 1} replica count`);
        t.equal(new Set(voters).size, voters.length, `n=${n} p=${i + 1} distinct`);
        t.ok(
          voters.every((id) => ids.includes(id)),
          `n=${n} p=${i + 1} members only`,
        );
        t.same(s.desired(i + 1).learners, []);
      }
      t.same(
        partitionVoters(s),
        [...Array(P).keys()].map((i) => new Ring({ epoch: 1, nodeIds: ids }).placeReplicas(i + 1, R)),
      );
      for (const id of ids) t.ok(s.groupsOf(id).includes(0), `${id} hosts group 0`);
    }
  },
);

t.test('metaVotersMax bounds group 0 voters from the first join on', async (t) => {
  const log = Log.cluster(1, { partitions: 2, replicas: 2, metaVotersMax: 3 });
  for (let n = 2; n <= 5; n++) {
    log.ok({ op: 'join', member: addr(`n${n}`) });
    t.ok(log.state.desired(0).voters.length <= 3, `n=${n}`);
    t.equal(log.state.desired(0).voters.length + log.state.desired(0).learners.length, n);
  }
});

t.test('a down member keeps its replicas; an evicted one loses them; up brings it back', async (t) => {
  const log = Log.cluster(5, { partitions: P, replicas: R, metaVotersMax: 3 });
  const s = log.state;
  const placement = partitionVoters(s);
  const mine = placedOn(s, 'n2');
  t.ok(mine.length > 0, 'n2 holds some partitions');

  log.ok({ op: 'down', id: 'n2' });
  t.same(partitionVoters(s), placement, 'nothing moves while n2 is merely down');
  t.same(s.desired(0).voters, ['n1', 'n2', 'n3'], 'a down meta voter keeps its seat');
  t.same(s.ringNodeIds(), ['n1', 'n2', 'n3', 'n4', 'n5']);

  log.ok({ op: 'evict', id: 'n2' });
  t.same(placedOn(s, 'n2'), [], 'no partition places the evicted member');
  t.same(s.groupsOf('n2'), [0], 'it stays in group 0');
  t.same(s.desired(0), { voters: ['n1', 'n3', 'n4'], learners: ['n2', 'n5'] }, 'its meta seat goes to n4');
  t.same(s.ringNodeIds(), ['n1', 'n3', 'n4', 'n5']);
  for (const voters of partitionVoters(s)) t.equal(voters.length, R, 'replaced elsewhere');
  for (const [i, voters] of partitionVoters(s).entries()) {
    const before = placement[i]!;
    if (!before.includes('n2')) t.same(voters, before, `p=${i + 1} without n2 does not move`);
    else
      t.same(
        voters.filter((id) => id !== 'n2' && !before.includes(id)).length,
        1,
        `p=${i + 1} gains one node`,
      );
  }

  // While observed configurations still list n2, it must keep hosting those replicas.
  const p = mine[0]!;
  log.ok({ op: 'conf', group: p, voters: placement[p - 1]!, learners: [] });
  t.same(s.groupsOf('n2'), [0, p]);

  log.ok({ op: 'up', id: 'n2' });
  t.same(partitionVoters(s), placement, 'placement is a function of the ring: it returns');
  t.same(s.desired(0).voters, ['n1', 'n3', 'n4'], 'but the meta seats are sticky: n2 does not take one back');
});

t.test('a leaving member is placed nowhere and gives up its meta seat', async (t) => {
  const log = Log.cluster(4, { partitions: P, replicas: R, metaVotersMax: 3 });
  const s = log.state;
  t.same(s.desired(0).voters, ['n1', 'n2', 'n3']);
  log.ok({ op: 'leave', id: 'n2' });
  t.same(placedOn(s, 'n2'), []);
  t.same(s.desired(0), { voters: ['n1', 'n3', 'n4'], learners: ['n2'] });
  for (const voters of partitionVoters(s)) t.same(voters.length, 3, 'three replicas on the three others');
});

t.test('with an empty ring the desired configuration is the observed one', async (t) => {
  const log = Log.cluster(2, { partitions: 2, replicas: 3, metaVotersMax: 3 });
  const s = log.state;
  log.ok({ op: 'conf', group: 1, voters: ['n1', 'n2'], learners: [] });
  for (const id of ['n1', 'n2']) {
    log.ok({ op: 'down', id });
    log.ok({ op: 'evict', id });
  }
  t.same(s.ringNodeIds(), []);
  t.equal(s.ring(), undefined);
  t.same(s.desired(1), { voters: ['n1', 'n2'], learners: [] }, 'nothing moves');
  t.same(s.desired(2), { voters: [], learners: [] }, 'never reported: nothing to keep');
  t.same(s.desired(0), { voters: [], learners: ['n1', 'n2'] });
  log.ok({ op: 'up', id: 'n2' });
  t.same(s.desired(0).voters, ['n2']);
  t.same(s.desired(1).voters, ['n2']);
});

t.test('the ring carries the current epoch', async (t) => {
  const log = Log.cluster(3);
  t.equal(log.state.ring()?.epoch, log.state.epoch);
  log.ok({ op: 'down', id: 'n3' });
  t.equal(log.state.ring()?.epoch, log.state.epoch);
});
