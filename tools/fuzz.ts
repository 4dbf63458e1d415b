/**
 * The fuzzing soak's command line (docs/testing.md#fuzzing).
 *
 *   npm run fuzz -- [--runs N] [--seed S] [--only SURFACE|PROPERTY[,...]] [--path P]
 *
 * `--runs` is the total number of generated inputs (default 100000): split equally between the
 * selected surfaces (resp, bus, codec, commands), then equally between each surface's
 * properties. Every property prints its runs, time and figures; a failure prints the command
 * that replays it (same seed, `--only` that property, fast-check's `--path`) and exits 1.
 */
import { type PropertyReport, runProperty } from './fuzz/property.js';
import { SURFACES } from './fuzz/registry.js';

interface Args {
  runs: number;
  seed: number;
  only: string[];
  path?: string;
}

const USAGE =
  'usage: npm run fuzz -- [--runs N] [--seed S] [--only resp|bus|codec|commands|<property>[,...]] [--path P]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { runs: 100_000, seed: Date.now() % 2 ** 31, only: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) fail(`${flag} needs a value\n${USAGE}`);
    if (flag === '--runs' || flag === '--seed') {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) fail(`${flag} needs a non-negative integer\n${USAGE}`);
      if (flag === '--runs') args.runs = n;
      else args.seed = n;
    } else if (flag === '--only') {
      args.only.push(...value.split(',').filter((s) => s !== ''));
    } else if (flag === '--path') {
      args.path = value;
    } else {
      fail(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  return args;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** The selected properties by surface, with the runs each gets. */
function plan(args: Args): { name: string; runs: number; property: (typeof SURFACES)[string][number] }[] {
  const selected = Object.entries(SURFACES)
    .map(([surface, props]) => {
      const all = args.only.length === 0 || args.only.includes(surface);
      return [surface, all ? props : props.filter((p) => args.only.includes(p.name))] as const;
    })
    .filter(([, props]) => props.length > 0);
  if (selected.length === 0) fail(`nothing matches --only ${args.only.join(',')}\n${USAGE}`);
  const perSurface = Math.ceil(args.runs / selected.length);
  return selected.flatMap(([, props]) =>
    props.map((property) => ({ name: property.name, runs: Math.ceil(perSurface / props.length), property })),
  );
}

function line(r: PropertyReport): string {
  const figures = Object.entries(r.figures)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const rate = Math.round(r.runs / (r.ms / 1000));
  return `${r.failed ? 'FAIL' : 'ok  '} ${r.name.padEnd(28)} ${String(r.runs).padStart(9)} runs ${(r.ms / 1000).toFixed(1).padStart(7)} s ${String(rate).padStart(7)}/s ${figures}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const steps = plan(args);
  console.log(
    `fuzz: seed ${args.seed}, ${steps.reduce((n, s) => n + s.runs, 0)} runs over ${steps.length} properties`,
  );
  const started = performance.now();
  const reports: PropertyReport[] = [];
  for (const step of steps) {
    const report = await runProperty(step.property, {
      runs: step.runs,
      seed: args.seed,
      ...(args.path === undefined ? {} : { path: args.path }),
    });
    reports.push(report);
    console.log(line(report));
    if (report.failed) {
      console.log(`     ${report.error?.replace(/\n/g, '\n     ')}`);
      console.log(`     counterexample: ${report.counterexample}`);
      console.log(
        `     replay: npm run fuzz -- --seed ${report.seed} --only ${report.name} --runs ${step.runs} --path ${report.path}`,
      );
    }
  }
  const failed = reports.filter((r) => r.failed).length;
  const total = reports.reduce((n, r) => n + r.runs, 0);
  console.log(
    `fuzz: ${total} runs in ${((performance.now() - started) / 1000).toFixed(1)} s, ${failed} failed`,
  );
  process.exit(failed > 0 ? 1 : 0);
}

await main();
