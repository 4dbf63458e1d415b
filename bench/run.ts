/**
 * `npm run bench [-- --suite resp] [--quick] [--rounds N] [--json out.json] [--list]`
 *
 * Progress goes to stderr; stdout carries only the Markdown result, so it can be redirected.
 * Exit status: 0 when every scenario was measured or skipped for a missing tool (ratios below
 * target are informational), 1 when a server or a run failed, 2 on bad arguments, 130 on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite, type ScenarioResult } from './lib/compare.js';
import { REPO_ROOT } from './lib/paths.js';
import { killAllNow, stopAll } from './lib/processes.js';
import { machineInfo, type RunSummary, readmeSnippet } from './lib/report.js';
import { FAKE_TARGET, LOCKSTEP_LABEL } from './lib/targets.js';
import { findSuite, SUITES } from './suites/index.js';
import type { Suite } from './suites/types.js';

const DEFAULT_ROUNDS = 3;
const MAX_ROUNDS = 15;
/** Longest a single redis-benchmark run may take: 1M pipelined requests at a slow 10k rps. */
const RUN_TIMEOUT_MS = 120_000;
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

const USAGE = `usage: npm run bench -- [--suite NAME[,NAME]] [--quick] [--rounds N] [--json FILE] [--list]
  --suite   run only these suites (default: all): ${SUITES.map((s) => s.name).join(', ')}
  --quick   a tenth of the requests per round, for a fast check
  --rounds  interleaved rounds per scenario, median reported (default ${DEFAULT_ROUNDS}, max ${MAX_ROUNDS})
  --json    also write the results to FILE (always written to bench/results/latest.json)
  --list    list the suites and exit`;

interface CliOptions {
  suites: Suite[];
  quick: boolean;
  rounds: number;
  jsonPath?: string;
}

class UsageError extends Error {}

function parseCli(argv: string[]): CliOptions | 'help' | 'list' {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string', multiple: true },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      json: { type: 'string' },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  if (values.list) return 'list';
  const names = (values.suite ?? []).flatMap((s) => s.split(',')).filter((s) => s !== '');
  const suites =
    names.length === 0
      ? [...SUITES]
      : names.map((name) => {
          const suite = findSuite(name);
          if (suite === undefined)
            throw new UsageError(`unknown suite '${name}' (known: ${SUITES.map((s) => s.name).join(', ')})`);
          return suite;
        });
  const rounds = values.rounds === undefined ? DEFAULT_ROUNDS : Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MAX_ROUNDS) {
    throw new UsageError(`--rounds must be an integer from 1 to ${MAX_ROUNDS}, got '${values.rounds}'`);
  }
  return {
    suites,
    quick: values.quick,
    rounds,
    ...(values.json === undefined ? {} : { jsonPath: values.json }),
  };
}

function writeResults(summary: RunSummary, snippet: string, jsonPath: string | undefined): void {
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
  writeFileSync(path.join(RESULTS_DIR, 'latest.md'), `${snippet}\n`);
  if (jsonPath !== undefined) writeFileSync(path.resolve(jsonPath), json);
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (cli === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (cli === 'list') {
    for (const suite of SUITES) console.log(`${suite.name}\t${suite.summary}`);
    return 0;
  }

  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    console.error('bench: interrupted, stopping servers (Ctrl-C again to kill them now)');
    interrupt.abort(new Error('interrupted'));
    process.once('SIGINT', () => {
      killAllNow();
      process.exit(130);
    });
  });
  process.once('SIGTERM', () => interrupt.abort(new Error('terminated')));

  if (FAKE_TARGET) {
    console.error(`bench: SELF-TEST, the lockstep column is ${LOCKSTEP_LABEL} (LOCKSTEP_BENCH_FAKE_TARGET)`);
  }
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-'));
  const machine = machineInfo();
  const startedAtMs = Date.now();
  const results: ScenarioResult[] = [];
  try {
    for (const suite of cli.suites) {
      console.error(`bench: suite ${suite.name}: ${suite.summary}`);
      const options = {
        rounds: cli.rounds,
        quick: cli.quick,
        runTimeoutMs: RUN_TIMEOUT_MS,
        workDir: path.join(workDir, suite.name),
        signal: interrupt.signal,
        log: (line: string) => console.error(line),
      };
      results.push(...(await runSuite(suite, options)));
    }
  } catch (error) {
    if (interrupt.signal.aborted) return 130;
    throw error;
  } finally {
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  const summary: RunSummary = {
    generatedAt: new Date(startedAtMs).toISOString(),
    selfTest: FAKE_TARGET,
    lockstepLabel: LOCKSTEP_LABEL,
    machine,
    rounds: cli.rounds,
    quick: cli.quick,
    durationMs: Date.now() - startedAtMs,
    results,
  };
  const snippet = readmeSnippet(summary);
  writeResults(summary, snippet, cli.jsonPath);
  console.log(snippet);
  console.error(`bench: results in ${path.relative(process.cwd(), RESULTS_DIR) || '.'}/latest.{json,md}`);
  const failed = results.some((r) => r.lockstep.status === 'error' || r.peerSide.status === 'error');
  return failed ? 1 : 0;
}

// Whatever happens, no server started here outlives the harness.
process.on('exit', killAllNow);
main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    console.error('bench: crashed:', error);
    await stopAll();
    process.exitCode = 1;
  },
);
