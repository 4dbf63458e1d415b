import fc from 'fast-check';
import t from 'tap';
import { nextConfChange, type ReconcileInput } from '../../../src/cluster/meta/reconcile.js';
import type { DesiredConf } from '../../../src/cluster/meta/state.js';
import { applyConfChange } from '../../../src/raft/membership.js';
import type { ConfChange, ConfState } from '../../../src/raft/types.js';

const conf = (voters: string[], learners: string[] = []): ConfState => ({ voters, learners });

function next(
  desired: DesiredConf,
  current: ConfState,
  options: { leader?: string; dead?: string[]; lagging?: string[] } = {},
): ConfChange | null {
  const input: ReconcileInput = {
    desired,
    current,
    leaderId: options.leader ?? current.voters[0]!,
    isCaughtUp: (id) => !(options.lagging ?? []).includes(id),
    isLive: (id) => !(options.dead ?? []).includes(id),
  };
  return nextConfChange(input);
}

t.test('nothing to do when current matches desired', async (t) => {
  t.equal(next(conf(['a', 'b', 'c']), conf(['c', 'b', 'a'])), null);
  t.equal(next(conf(['a'], ['b']), conf(['a'], ['b'])), null);
});

t.test('1: missing replicas are added as learners first, desired voters before learners', async (t) => {
  t.same(next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'])), { type: 'addLearner', nodeId: 'd' });
  t.same(next(conf(['a'], ['x']), conf(['a'])), { type: 'addLearner', nodeId: 'x' });
  t.same(next(conf(['a', 'y'], ['x']), conf(['a'])), { type: 'addLearner', nodeId: 'y' });
  t.same(
    next(conf(['a', 'd']), conf(['a', 'b'], ['c']), { dead: ['d'] }),
    { type: 'addLearner', nodeId: 'd' },
    'a learner costs nothing, even a dead one',
  );
});

t.test('2: a desired voter that is a learner is promoted once live and caught up', async (t) => {
  t.same(next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d'])), { type: 'promote', nodeId: 'd' });
  t.equal(
    next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d']), { lagging: ['d'] }),
    null,
    'lagging: wait',
  );
  t.equal(next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d']), { dead: ['d'] }), null, 'silent: wait');
});

t.test('3: unwanted learners are removed', async (t) => {
  t.same(next(conf(['a']), conf(['a'], ['x'])), { type: 'remove', nodeId: 'x' });
  t.same(next(conf(['a']), conf(['a'], ['x']), { dead: ['x'] }), { type: 'remove', nodeId: 'x' });
  t.same(
    next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d', 'x']), { lagging: ['d'] }),
    { type: 'remove', nodeId: 'x' },
    'even while a promotion waits',
  );
});

t.test('3: unwanted voters are removed after promotions, non-leaders first, the leader last', async (t) => {
  t.same(next(conf(['c', 'd', 'e']), conf(['a', 'b', 'c', 'd', 'e']), { leader: 'a' }), {
    type: 'remove',
    nodeId: 'b',
  });
  t.same(next(conf(['c', 'd', 'e']), conf(['a', 'c', 'd', 'e']), { leader: 'a' }), {
    type: 'remove',
    nodeId: 'a',
  });
  t.same(
    next(conf(['b']), conf(['a', 'b']), { leader: 'a' }),
    { type: 'remove', nodeId: 'a' },
    'a leader of two removes itself',
  );
});

t.test('3: a live voter stays until its replacement votes', async (t) => {
  // Moving c to d: d lags, so c keeps serving.
  t.equal(next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d']), { lagging: ['d'] }), null);
  // A dead voter is no help meanwhile and only weighs on the majority: it may go first.
  t.same(next(conf(['a', 'b', 'd']), conf(['a', 'b', 'c'], ['d']), { lagging: ['d'], dead: ['c'] }), {
    type: 'remove',
    nodeId: 'c',
  });
});

t.test('3: a removal never leaves fewer live voters than a majority of those left', async (t) => {
  // Voters a..e, desired a b c; d and e unwanted; b and c dead. Removing d (live) would leave
  // a,b,c,e: 2 live of 4 < 3. Removing e likewise. Nothing is safe.
  t.equal(
    next(conf(['a', 'b', 'c']), conf(['a', 'b', 'c', 'd', 'e']), { leader: 'a', dead: ['b', 'c'] }),
    null,
  );
  // With only c dead, removing d leaves a,b,c,e: 3 live of 4, enough.
  t.same(next(conf(['a', 'b', 'c']), conf(['a', 'b', 'c', 'd', 'e']), { leader: 'a', dead: ['c'] }), {
    type: 'remove',
    nodeId: 'd',
  });
  // A dead unwanted voter goes even when live ones cannot: a,b,c,e with e dead, b dead; remove e
  // leaves a,b,c with 2 live of 3.
  t.same(next(conf(['a', 'b', 'c']), conf(['a', 'b', 'c', 'e']), { leader: 'a', dead: ['b', 'e'] }), {
    type: 'remove',
    nodeId: 'e',
  });
});

t.test('4: demotion is a removal, then the learner is added back', async (t) => {
  const desired = conf(['a', 'b'], ['c']);
  const first = next(desired, conf(['a', 'b', 'c']));
  t.same(first, { type: 'remove', nodeId: 'c' });
  t.same(next(desired, conf(['a', 'b'])), { type: 'addLearner', nodeId: 'c' });
});

t.test('the voter set is never emptied', async (t) => {
  t.equal(next(conf([]), conf(['a'])), null, 'a target without voters is none');
  t.equal(next(conf(['b']), conf(['a'], ['b']), { lagging: ['b'] }), null, 'the last voter stays');
  t.same(next(conf(['b']), conf(['a'], ['b'])), { type: 'promote', nodeId: 'b' });
  t.equal(next(conf(['b'], ['a']), conf(['a'], ['b']), { lagging: ['b'] }), null);
});

/** Applies `change` as the core would; the new leader after a self-removal is the first voter left. */
function step(current: ConfState, leader: string, change: ConfChange): { conf: ConfState; leader: string } {
  const after = applyConfChange(current, change);
  if (typeof after === 'string')
    throw new Error(`the core refuses ${change.type} ${change.nodeId}: ${after}`);
  return { conf: after, leader: after.voters.includes(leader) ? leader : after.voters[0]! };
}

const ids = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
/** A configuration over up to 7 nodes with at least one voter. */
const someConf = fc
  .tuple(fc.shuffledSubarray(ids, { minLength: 1 }), fc.nat())
  .map(([members, split]): ConfState => {
    const v = 1 + (split % members.length);
    return { voters: members.slice(0, v).sort(), learners: members.slice(v).sort() };
  });

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x) => b.includes(x));

t.test('with everyone live and caught up, any configuration reaches any other', async (t) => {
  fc.assert(
    fc.property(someConf, someConf, fc.nat(), (start, desired, leaderPick) => {
      let current = start;
      let leader = start.voters[leaderPick % start.voters.length]!;
      // Each node needs at most a removal, an addition and a promotion.
      const bound = 3 * ids.length;
      for (let i = 0; ; i++) {
        const change = nextConfChange({
          desired,
          current,
          leaderId: leader,
          isCaughtUp: () => true,
          isLive: () => true,
        });
        if (change === null) break;
        if (i >= bound) throw new Error(`no convergence after ${bound} steps`);
        const before = current.voters;
        ({ conf: current, leader } = step(current, leader, change));
        if (current.voters.length === 0) throw new Error('empty voter set');
        const gained = current.voters.filter((v) => !before.includes(v)).length;
        const lost = before.filter((v) => !current.voters.includes(v)).length;
        if (gained + lost > 1) throw new Error('more than one voter changed at once');
      }
      return sameSet(current.voters, desired.voters) && sameSet(current.learners, desired.learners);
    }),
    { numRuns: 1000 },
  );
  t.pass('property held');
});

t.test('with random liveness, every step is valid and keeps a live majority', async (t) => {
  fc.assert(
    fc.property(
      someConf,
      someConf,
      fc.nat(),
      fc.array(fc.tuple(fc.subarray(ids), fc.subarray(ids)), { minLength: 1, maxLength: 30 }),
      (start, desired, leaderPick, rounds) => {
        let current = start;
        let leader = start.voters[leaderPick % start.voters.length]!;
        for (const [dead, lagging] of rounds) {
          const roundLeader = leader;
          const isLive = (id: string) => id === roundLeader || !dead.includes(id);
          const change = nextConfChange({
            desired,
            current,
            leaderId: leader,
            isCaughtUp: (id) => !lagging.includes(id),
            isLive,
          });
          if (change === null) continue;
          if (change.type === 'promote' && (!isLive(change.nodeId) || lagging.includes(change.nodeId)))
            return false;
          const wasVoter = current.voters.includes(change.nodeId);
          const awaitingPromotion = desired.voters.some((v) => !current.voters.includes(v));
          ({ conf: current, leader } = step(current, leader, change));
          if (change.type === 'remove' && wasVoter) {
            // Live voters left are a majority of the voters left...
            if (current.voters.filter(isLive).length < Math.floor(current.voters.length / 2) + 1)
              return false;
            // ...and a live voter is not dropped before its replacements vote.
            if (awaitingPromotion && isLive(change.nodeId)) return false;
          }
          if (current.voters.length === 0) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass('property held');
});
