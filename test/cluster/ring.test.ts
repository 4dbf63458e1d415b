import fc from 'fast-check';
import t from 'tap';
import { diffPlacement, partitionOf, Ring } from '../../src/cluster/ring.js';

const P = 16;
const R = 3;
const named = (count: number): string[] => Array.from({ length: count }, (_, i) => `n${i + 1}`);
const ring = (nodeIds: readonly string[], epoch = 1): Ring => new Ring({ epoch, nodeIds });
const placements = (r: Ring): string[][] => Array.from({ length: P }, (_, i) => r.placeReplicas(i + 1, R));

const nodeIdSet = (maxLength: number) =>
  fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength });

t.test('the ring depends on the member set, not the order members were given in', async (t) => {
  const idsAndPermutation = nodeIdSet(10).chain((ids) =>
    fc.tuple(fc.constant(ids), fc.shuffledSubarray(ids, { minLength: ids.length, maxLength: ids.length })),
  );
  fc.assert(
    fc.property(idsAndPermutation, fc.array(fc.string(), { maxLength: 20 }), ([ids, shuffled], keys) => {
      const a = ring(ids);
      const b = ring(shuffled);
      const view = (r: Ring) => JSON.stringify([placements(r), keys.map((k) => r.homeOf(k))]);
      return view(a) === view(b);
    }),
    { numRuns: 50 },
  );
  t.pass('property held');
});

t.test('replicas are min(R, N) distinct members', async (t) => {
  fc.assert(
    fc.property(
      nodeIdSet(10),
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 1, max: 12 }),
      (ids, p, r) => {
        const replicas = ring(ids).placeReplicas(p, r);
        return (
          replicas.length === Math.min(r, ids.length) &&
          new Set(replicas).size === replicas.length &&
          replicas.every((id) => ids.includes(id))
        );
      },
    ),
    { numRuns: 200 },
  );
  t.pass('property held');
});

t.test('without node X, only the keys X was home to move', async (t) => {
  fc.assert(
    fc.property(
      nodeIdSet(8).filter((ids) => ids.length >= 2),
      fc.array(fc.string(), { maxLength: 50 }),
      (ids, keys) => {
        const [gone, ...rest] = ids as [string, ...string[]];
        const withX = ring(ids);
        const withoutX = ring(rest);
        return keys.every((k) => withX.homeOf(k) === gone || withX.homeOf(k) === withoutX.homeOf(k));
      },
    ),
    { numRuns: 50 },
  );
  t.pass('property held');
});

t.test('partitionOf is 1..P, follows tags and spreads names evenly', async (t) => {
  t.equal(partitionOf('{orders}.high', P), partitionOf('{orders}.low', P));
  const counts = new Array<number>(P + 1).fill(0);
  for (let i = 0; i < 16000; i++) counts[partitionOf(`queue:${i}`, P)]!++;
  t.equal(counts[0], 0, 'no partition 0');
  t.equal(counts.length, P + 1, 'no partition above P');
  const used = counts.slice(1);
  t.ok(Math.min(...used) > 850 && Math.max(...used) < 1150, `per-partition counts ${used.join(' ')}`);
});

t.test('key-space balance on 3..10 nodes', async (t) => {
  const keys = Array.from({ length: 100_000 }, (_, i) => `key:${i}`);
  for (let n = 3; n <= 10; n++) {
    const r = ring(named(n));
    const keysPerNode = new Map(r.nodeIds.map((id) => [id, 0]));
    for (const k of keys) keysPerNode.set(r.homeOf(k), keysPerNode.get(r.homeOf(k))! + 1);
    const replicasPerNode = new Map(r.nodeIds.map((id) => [id, 0]));
    for (const replicas of placements(r))
      for (const id of replicas) replicasPerNode.set(id, replicasPerNode.get(id)! + 1);
    const k = [...keysPerNode.values()];
    const p = [...replicasPerNode.values()];
    const ratio = Math.max(...k) / Math.min(...k);
    t.comment(
      `${n} nodes: keys max/min ${ratio.toFixed(2)}; P=${P} R=${R} replicas per node ${Math.min(...p)}..${Math.max(...p)} (ideal ${((P * Math.min(R, n)) / n).toFixed(1)})`,
    );
    t.ok(ratio < 1.35, `${n} nodes: key max/min ${ratio.toFixed(2)} < 1.35`);
  }
});

/** Slots moved by a join, after checking each change adds exactly `joined` and drops one old replica. */
function joinMoves(before: Ring, after: Ring, joined: string): number {
  const changes = diffPlacement(before, after, P, R);
  const bad = changes.filter((c) => c.add.length !== 1 || c.add[0] !== joined || c.remove.length !== 1);
  if (bad.length > 0) throw new Error(`join of ${joined} moved other replicas: ${JSON.stringify(bad)}`);
  return changes.length;
}

t.test('growing 3 -> 4 -> 5 nodes moves only replicas onto the new node', async (t) => {
  const r3 = ring(named(3), 1);
  const r4 = ring(named(4), 2);
  const r5 = ring(named(5), 3);
  const moved34 = joinMoves(r3, r4, 'n4');
  const moved45 = joinMoves(r4, r5, 'n5');
  t.comment(`3->4: ${moved34}/${P * R} replica slots moved (ideal ${(P * R) / 4})`);
  t.comment(`4->5: ${moved45}/${P * R} replica slots moved (ideal ${(P * R) / 5})`);

  // Averaged over many member sets, a join moves 1/N of the slots: what the new node must own.
  let total34 = 0;
  let total45 = 0;
  const trials = 200;
  for (let trial = 0; trial < trials; trial++) {
    const ids = Array.from({ length: 5 }, (_, i) => `node-${trial}-${i}`);
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    total34 += joinMoves(ring([a, b, c]), ring([a, b, c, d]), d);
    total45 += joinMoves(ring([a, b, c, d]), ring(ids), e);
  }
  t.comment(
    `mean over ${trials} member sets: 3->4 ${(total34 / trials).toFixed(2)}, 4->5 ${(total45 / trials).toFixed(2)} slots`,
  );
  t.ok(Math.abs(total34 / trials - (P * R) / 4) < 1, '3->4 moves about 1/4 of the slots');
  t.ok(Math.abs(total45 / trials - (P * R) / 5) < 1, '4->5 moves about 1/5 of the slots');
});

t.test('a join or a leave only moves replicas to or from that node', async (t) => {
  fc.assert(
    fc.property(
      nodeIdSet(9).filter((ids) => ids.length >= 2),
      (ids) => {
        const [changed, ...rest] = ids as [string, ...string[]];
        const small = ring(rest, 1);
        const big = ring(ids, 2);
        const joins = diffPlacement(small, big, P, R);
        const leaves = diffPlacement(big, small, P, R);
        const joinOk = joins.every((c) => c.add.length === 1 && c.add[0] === changed && c.remove.length <= 1);
        const leaveOk = leaves.every(
          (c) => c.remove.length === 1 && c.remove[0] === changed && c.add.length <= 1,
        );
        const untouchedOk = placements(big).every(
          (replicas, i) => replicas.includes(changed) || !leaves.some((c) => c.partition === i + 1),
        );
        return joinOk && leaveOk && untouchedOk;
      },
    ),
    { numRuns: 100 },
  );
  t.pass('property held');
});
