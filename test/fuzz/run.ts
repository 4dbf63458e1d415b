import type { Test } from 'tap';
import { type FuzzProperty, runProperty } from '../../tools/fuzz/property.js';

/**
 * The CI batch of the fuzzing properties (tools/fuzz): a fixed seed and few runs, so a
 * regression fails the same way every time. LOCKSTEP_FUZZ_RUNS raises the runs per property;
 * the soak is `npm run fuzz` (docs/testing.md).
 */
export const SEED = 20240501;

export function runsPerProperty(ciRuns: number): number {
  const raised = Number(process.env['LOCKSTEP_FUZZ_RUNS']);
  return Number.isSafeInteger(raised) && raised > 0 ? raised : ciRuns;
}

export function fuzzTest(t: Test, property: FuzzProperty, ciRuns: number): void {
  t.test(property.name, async (t) => {
    const report = await runProperty(property, { runs: runsPerProperty(ciRuns), seed: SEED });
    if (report.failed) {
      t.fail(
        `${report.error}\ncounterexample: ${report.counterexample}\n` +
          `replay: npm run fuzz -- --seed ${report.seed} --only ${report.name} --path ${report.path}`,
      );
    } else {
      t.pass(`${report.runs} runs in ${Math.round(report.ms)} ms ${JSON.stringify(report.figures)}`);
    }
  });
}
