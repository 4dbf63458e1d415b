import type { Test } from 'tap';
import { runSimulation } from '../../tools/sim/simulator.js';

/**
 * Runs a slice of the CI batch of simulator seeds. The batch is split over several test files
 * so that tap runs them in parallel; together they cover seeds 1..SEEDS_PER_FILE × files.
 */
export const SEEDS_PER_FILE = 2000;

export function runSeedBatch(t: Test, slice: number): void {
  const from = 1 + slice * SEEDS_PER_FILE;
  const failures: string[] = [];
  let steps = 0;
  for (let seed = from; seed < from + SEEDS_PER_FILE; seed++) {
    const r = runSimulation(seed);
    steps += r.stats.steps;
    if (!r.ok) {
      failures.push(`seed ${seed}: ${r.violation!.message} (replay: npm run sim -- --seed ${seed})`);
    }
  }
  t.same(failures, [], `seeds ${from}..${from + SEEDS_PER_FILE - 1} (${steps} steps) keep every invariant`);
}
