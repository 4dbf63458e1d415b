/**
 * The Raft simulator's command line.
 *
 *   npm run sim -- --seed N              replay one seed, printing every event and transition
 *   npm run sim -- --seeds N [--from S]  soak seeds S..S+N-1 (default S=1), stop at the first
 *                 [--jobs J]             violation, exit 1 and print the seed that replays it
 *   --steps K                            events in the safety phase (default 4000)
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runSimulation, type SimResult } from './sim/simulator.js';

interface Args {
  seed?: number;
  seeds?: number;
  from: number;
  steps?: number;
  jobs: number;
}

const USAGE = 'usage: npm run sim -- --seed N | --seeds N [--from S] [--jobs J] [--steps K]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { from: 1, jobs: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (!Number.isSafeInteger(value) || value < 0) fail(`${flag} needs a non-negative integer\n${USAGE}`);
    switch (flag) {
      case '--seed':
        args.seed = value;
        break;
      case '--seeds':
        args.seeds = value;
        break;
      case '--from':
        args.from = value;
        break;
      case '--steps':
        args.steps = value;
        break;
      case '--jobs':
        args.jobs = Math.max(1, Math.min(value, availableParallelism()));
        break;
      default:
        fail(`unknown flag ${flag}\n${USAGE}`);
    }
  }
  if ((args.seed === undefined) === (args.seeds === undefined)) fail(USAGE);
  return args;
}

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function replayCommand(seed: number, steps: number | undefined): string {
  return `npm run sim -- --seed ${seed}${steps === undefined ? '' : ` --steps ${steps}`}`;
}

function describeViolation(r: SimResult, steps: number | undefined): string {
  const v = r.violation!;
  return `VIOLATION seed ${r.seed} at step ${v.step}: ${v.message}\nreplay: ${replayCommand(r.seed, steps)}`;
}

function replay(seed: number, steps: number | undefined): void {
  const result = runSimulation(seed, {
    ...(steps === undefined ? {} : { safetySteps: steps }),
    trace: console.log,
  });
  console.log(`stats ${JSON.stringify(result.stats)}`);
  if (result.ok) {
    console.log(`seed ${seed}: no violation`);
  } else {
    console.log(describeViolation(result, steps));
    process.exitCode = 1;
  }
}

type WorkerMessage = { kind: 'done'; seed: number } | { kind: 'violation'; text: string };

function soak(args: Args): void {
  const total = args.seeds!;
  const startMs = performance.now();
  let done = 0;
  let lastReportMs = startMs;
  let stopped = false;
  const workers: Worker[] = [];
  const report = (final: boolean): void => {
    const elapsedMin = (performance.now() - startMs) / 60_000;
    const rate = elapsedMin > 0 ? Math.round(done / elapsedMin) : 0;
    console.log(
      `${final ? 'finished' : 'progress'}: ${done}/${total} seeds, 0 violations, ${rate} seeds/min`,
    );
  };
  const onMessage = (m: WorkerMessage): void => {
    if (stopped) return;
    if (m.kind === 'violation') {
      stopped = true;
      console.log(m.text);
      console.log(`stopped after ${done} seeds`);
      for (const w of workers) void w.terminate();
      process.exitCode = 1;
      return;
    }
    done++;
    const now = performance.now();
    if (now - lastReportMs > 5000) {
      lastReportMs = now;
      report(false);
    }
    if (done === total) report(true);
  };
  for (let j = 0; j < args.jobs; j++) {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { from: args.from + j, to: args.from + total, stride: args.jobs, steps: args.steps },
    });
    worker.on('message', onMessage);
    worker.on('error', (e) => {
      console.error(e);
      process.exitCode = 1;
    });
    workers.push(worker);
  }
}

function soakWorker(job: { from: number; to: number; stride: number; steps: number | undefined }): void {
  for (let seed = job.from; seed < job.to; seed += job.stride) {
    const result = runSimulation(seed, job.steps === undefined ? {} : { safetySteps: job.steps });
    const message: WorkerMessage = result.ok
      ? { kind: 'done', seed }
      : { kind: 'violation', text: describeViolation(result, job.steps) };
    parentPort!.postMessage(message);
    if (!result.ok) return;
  }
}

if (isMainThread) {
  const args = parseArgs(process.argv.slice(2));
  if (args.seed !== undefined) replay(args.seed, args.steps);
  else soak(args);
} else {
  soakWorker(workerData);
}
