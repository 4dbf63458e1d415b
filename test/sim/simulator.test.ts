import t from 'tap';
import { deriveOptions } from '../../tools/sim/options.js';
import { runSimulation } from '../../tools/sim/simulator.js';

t.test('a seed replays exactly: same options, same trace, same outcome', (t) => {
  const traceA: string[] = [];
  const traceB: string[] = [];
  const a = runSimulation(42, { trace: (l) => traceA.push(l) });
  const b = runSimulation(42, { trace: (l) => traceB.push(l) });
  t.same(a.stats, b.stats);
  t.equal(traceA.length, traceB.length);
  t.same(traceA, traceB);
  t.end();
});

t.test('tracing does not change the run', (t) => {
  t.same(runSimulation(7).stats, runSimulation(7, { trace: () => {} }).stats);
  t.end();
});

t.test('seeds cover the fault space: cluster sizes 1-7, lease reads, drift, loss', (t) => {
  const sizes = new Set<number>();
  let lease = 0;
  let drifting = 0;
  let lossy = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const o = deriveOptions(seed);
    sizes.add(o.nodeCount);
    if (o.readOnly === 'lease') lease++;
    if (new Set(o.tickPeriodsUs).size > 1) drifting++;
    if (o.dropRate > 0) lossy++;
  }
  t.same([...sizes].sort(), [1, 2, 3, 4, 5, 6, 7]);
  t.ok(lease > 30, `${lease} lease-read runs`);
  t.ok(drifting > 200, `${drifting} runs with clock drift`);
  t.ok(lossy > 150, `${lossy} lossy runs`);
  t.end();
});

t.test('the faults and features are exercised across a batch', (t) => {
  const totals = {
    crashes: 0,
    pauses: 0,
    partitions: 0,
    confChangesProposed: 0,
    transfersRequested: 0,
    snapshotsInstalled: 0,
    readsCompleted: 0,
  };
  for (let seed = 1; seed <= 50; seed++) {
    const s = runSimulation(seed).stats;
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += s[k];
  }
  for (const [k, v] of Object.entries(totals)) t.ok(v > 20, `${k}: ${v}`);
  t.end();
});
