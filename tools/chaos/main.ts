/**
 * `npm run chaos -- --minutes N --seed S [--out DIR] [--keep-data]`: a chaos run (run.ts), then
 * the checks (check.ts) on its history. Writes history.jsonl, summary.txt, report.json,
 * timeline.html and the nodes' logs into DIR (default chaos-results/<time>-seed<S>), prints the
 * summary and exits 1 on any violation, 2 on bad arguments, 3 if the run itself broke down.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory } from './check.js';
import { runChaos } from './run.js';

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run chaos -- [--minutes N | --seconds N] [--seed S] [--out DIR] [--keep-data]\n`,
  );
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'keep-data': { type: 'boolean', default: false },
  },
  strict: true,
});
const number = (name: string, v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) usage(`--${name} must be a non-negative number, not '${v}'`);
  return n;
};
const faultMs =
  values.seconds !== undefined
    ? number('seconds', values.seconds, 0) * 1000
    : number('minutes', values.minutes, 1) * 60_000;
const seed = Math.floor(number('seed', values.seed, Date.now() % 2 ** 31));
const outDir =
  values.out ?? join('chaos-results', `${new Date().toISOString().replace(/[:.]/g, '-')}-seed${seed}`);

const t0 = performance.now();
const log = (line: string) =>
  process.stdout.write(`[chaos ${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);
log(`seed ${seed}, faults for ${faultMs / 1000} s, results in ${outDir}`);
let run: Awaited<ReturnType<typeof runChaos>>;
try {
  run = await runChaos({ faultMs, seed, outDir, keepData: values['keep-data'], log });
} catch (e) {
  log(`the run broke down: ${(e as Error).stack ?? e}`);
  process.exit(3);
}
log(`${run.faults} faults; checking ${run.recorder.events.length} events`);
const { summary, ok } = checkHistory(run.recorder.events, {
  htmlPath: join(outDir, 'timeline.html'),
  jsonPath: join(outDir, 'report.json'),
});
const text = `seed ${seed}; ${run.faults} faults; queues drained: ${run.drained ? 'yes' : 'NO'}\n${summary}\n`;
writeFileSync(join(outDir, 'summary.txt'), text);
process.stdout.write(text);
process.exit(ok && run.drained ? 0 : 1);
