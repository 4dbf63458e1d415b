/**
 * Cluster benchmarks (issue 5):
 *
 *   node dist/bench/cluster.js [--suite write|failover|locks|queues|cache|all] [--rounds N] [--trials N]
 *                              [--requests N] [--seconds N] [--quick] [--node-arg=--flag=value ...]
 *                              [--json FILE]
 *
 * `write`: RAFT.NOOP through Raft group 0 on a local 3-node cluster (fsync always, 50 clients,
 * via the leader and via a follower) against puts on a local 3-member etcd, alternating rounds.
 * `failover`: kill -9 the group-0 leader, time until a write through a survivor succeeds.
 * `locks`: LOCK.ACQUIRE+LOCK.RELEASE pairs per second, 50 clients on distinct locks and on 10 hot
 * locks, against a lease-less etcd txn lock, alternating rounds (issue 6).
 * `queues`: Q.PUSH per second (50 producers, 100-byte payloads, via the partition leader and via
 * any node) and Q.POP+Q.ACK per second (COUNT 1 and 10), against redis-server streams with
 * `appendfsync always` (XADD; XREADGROUP+XACK), alternating rounds (issue 7).
 * `cache`: CACHE.GET local hits under redis-benchmark -c 50 (and -P 16) against redis-server GET,
 * and a 90/10 CACHE.GET/CACHE.SET load from 50 clients over the 3 nodes against GET/SET on
 * redis-server, with each node's hit ratio, invalidations and writebacks (issue 8).
 *
 * Progress goes to stderr; stdout carries only the Markdown result, also written to
 * bench/results/cluster-latest.md (and everything, per round and per trial, to
 * cluster-latest.json). Exit status: 0 when everything was measured or skipped for a missing
 * tool (a result below target is informational), 1 when a server failed or a run errored,
 * 2 on bad arguments, 130 on Ctrl-C.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCacheSuite } from './lib/cluster-cache.js';
import { runFailoverSuite } from './lib/cluster-failover.js';
import { ETCD_RETRY_MS, runLocksSuite } from './lib/cluster-locks.js';
import type { BenchCluster, ClusterSuiteOptions } from './lib/cluster-lockstep.js';
import { runQueuesSuite } from './lib/cluster-queues.js';
import { type ClusterRunSummary, clusterMarkdown } from './lib/cluster-report.js';
import { runWriteSuite } from './lib/cluster-write.js';
import { etcdVersion } from './lib/etcd.js';
import { REPO_ROOT } from './lib/paths.js';
import { killAllNow } from './lib/processes.js';
import { machineInfo } from './lib/report.js';

const DEFAULT_ROUNDS = 3;
const MAX_ROUNDS = 15;
const DEFAULT_REQUESTS = 20_000;
const QUICK_REQUESTS = 2_000;
const DEFAULT_TRIALS = 20;
const QUICK_TRIALS = 5;
const MAX_TRIALS = 200;
const DEFAULT_SECONDS = 10;
const QUICK_SECONDS = 3;
const MAX_SECONDS = 300;
const LOCK_CLIENTS = 50;
const HOT_LOCKS = 10;
const QUEUE_CLIENTS = 50;
const CACHE_CLIENTS = 50;
/** Keys of the cache suite's mixed load. */
const CACHE_KEYS = 1_000;
/** The cache suite's unpipelined GET runs; -P 16 runs ten times as many. */
const DEFAULT_CACHE_REQUESTS = 100_000;
const QUICK_CACHE_REQUESTS = 10_000;
const SUITE_NAMES = ['write', 'failover', 'locks', 'queues', 'cache'] as const;
type SuiteName = (typeof SUITE_NAMES)[number];
/** Longest single load run: 20k requests at a slow 200 rps. */
const RUN_TIMEOUT_MS = 120_000;
const ATTEMPT_TIMEOUT_MS = 250;
const RETRY_PAUSE_MS = 5;
const TRIAL_TIMEOUT_MS = 10_000;
/** Every node gets these unless the caller's --node-arg sets the same flag. */
const BASE_NODE_ARGS = [
  ['--bind', '127.0.0.1'],
  ['--fsync', 'always'],
] as const;
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

const USAGE = `usage: node dist/bench/cluster.js [--suite write|failover|locks|queues|cache|all] [--rounds N]
                                  [--trials N] [--requests N] [--seconds N] [--quick]
                                  [--node-arg=FLAG ...] [--json FILE]
  --suite     write: RAFT.NOOP on 3 nodes vs etcd puts; failover: kill -9 the leader;
              locks: LOCK.ACQUIRE+RELEASE pairs vs an etcd txn lock;
              queues: Q.PUSH and Q.POP+Q.ACK vs redis-server XADD and XREADGROUP+XACK (appendfsync always);
              cache: CACHE.GET local hits (-c 50, -P 16) vs redis-server GET, and a 90/10 GET/SET mix;
              all (default), or a list: write,locks
  --rounds    write, locks, queues, cache: alternating rounds, medians reported (default ${DEFAULT_ROUNDS}, max ${MAX_ROUNDS})
  --requests  write: requests per run and side (default ${DEFAULT_REQUESTS}, --quick ${QUICK_REQUESTS});
              cache: requests per GET run, ten times that with -P 16 (default ${DEFAULT_CACHE_REQUESTS}, --quick ${QUICK_CACHE_REQUESTS})
  --seconds   locks, queues, cache (mixed): seconds per run and lane (default ${DEFAULT_SECONDS}, --quick ${QUICK_SECONDS}; warm-up a fifth, at least 1 s)
  --etcd-retry-ms MIN-MAX
              locks: etcd's pause before retrying a lock txn that failed, uniform in [MIN, MAX) ms
              (default ${ETCD_RETRY_MS.join('-')})
  --trials    failover: trials (default ${DEFAULT_TRIALS}, --quick ${QUICK_TRIALS})
  --quick     fewer requests, seconds and trials: a smoke run, not an acceptance run
  --node-arg  an extra flag for every lockstep node, e.g. --node-arg=--election-timeout-ms=300
              (repeatable; default flags: ${BASE_NODE_ARGS.map((a) => a.join(' ')).join(' ')})
  --json      also write the results to FILE (always to bench/results/cluster-latest.json)`;

class UsageError extends Error {}

interface Cli {
  write: boolean;
  failover: boolean;
  locks: boolean;
  queues: boolean;
  cache: boolean;
  rounds: number;
  requests: number;
  cacheRequests: number;
  seconds: number;
  etcdRetryMs: readonly [number, number];
  trials: number;
  quick: boolean;
  nodeArgs: string[];
  jsonPath?: string;
}

function integer(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got '${text}'`);
  }
  return value;
}

function parseCli(argv: string[]): Cli | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      suite: { type: 'string', default: 'all' },
      rounds: { type: 'string' },
      requests: { type: 'string' },
      seconds: { type: 'string' },
      'etcd-retry-ms': { type: 'string' },
      trials: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const suites = new Set<string>(values.suite === 'all' ? SUITE_NAMES : values.suite.split(','));
  for (const name of suites) {
    if (!(SUITE_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(
        `--suite must be write, failover, locks, queues, cache, all or a comma list, got '${values.suite}'`,
      );
    }
  }
  const wants = (name: SuiteName): boolean => suites.has(name);
  let etcdRetryMs = ETCD_RETRY_MS;
  if (values['etcd-retry-ms'] !== undefined) {
    const match = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(values['etcd-retry-ms']);
    const range = match === null ? undefined : ([Number(match[1]), Number(match[2])] as const);
    if (range === undefined || range[0] > range[1] || range[1] > 1000) {
      throw new UsageError(
        `--etcd-retry-ms must be MIN-MAX in ms (MIN ≤ MAX ≤ 1000), got '${values['etcd-retry-ms']}'`,
      );
    }
    etcdRetryMs = range;
  }
  const quick = values.quick;
  // `--node-arg=--flag=value` and `--node-arg=--flag --node-arg=value` both work.
  const extra = (values['node-arg'] ?? []).flatMap((a) => (a.startsWith('--') ? a.split(/=(.*)/s, 2) : [a]));
  const given = new Set(extra.filter((a) => a.startsWith('--')));
  const base = BASE_NODE_ARGS.filter(([flag]) => !given.has(flag)).flat();
  return {
    write: wants('write'),
    failover: wants('failover'),
    locks: wants('locks'),
    queues: wants('queues'),
    cache: wants('cache'),
    rounds: integer('rounds', values.rounds, DEFAULT_ROUNDS, MAX_ROUNDS),
    requests: integer('requests', values.requests, quick ? QUICK_REQUESTS : DEFAULT_REQUESTS, 10_000_000),
    cacheRequests: integer(
      'requests',
      values.requests,
      quick ? QUICK_CACHE_REQUESTS : DEFAULT_CACHE_REQUESTS,
      10_000_000,
    ),
    seconds: integer('seconds', values.seconds, quick ? QUICK_SECONDS : DEFAULT_SECONDS, MAX_SECONDS),
    etcdRetryMs,
    trials: integer('trials', values.trials, quick ? QUICK_TRIALS : DEFAULT_TRIALS, MAX_TRIALS),
    quick,
    nodeArgs: [...base, ...extra],
    ...(values.json === undefined ? {} : { jsonPath: path.resolve(values.json) }),
  };
}

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`bench/cluster: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (cli === 'help') {
    console.log(USAGE);
    return 0;
  }

  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    console.error('bench/cluster: interrupted, stopping servers (Ctrl-C again to kill them now)');
    interrupt.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => interrupt.abort(new Error('terminated')));

  // The nodes inherit this process's environment and working directory (tools/local-cluster.ts):
  // only the flags may configure them, so no LOCKSTEP_* variable and no stray .env file.
  for (const name of Object.keys(process.env)) if (name.startsWith('LOCKSTEP_')) delete process.env[name];
  const startDir = process.cwd();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'lockstep-cluster-bench-'));
  process.chdir(workDir);

  let active: BenchCluster | undefined;
  process.on('exit', () => {
    active?.killAllNow();
    killAllNow();
  });
  const log = (line: string): void => console.error(line);
  const machine = { ...machineInfo(), etcd: etcdVersion() ?? 'not installed' };
  const startedAtMs = Date.now();
  const summary: ClusterRunSummary = {
    generatedAt: new Date(startedAtMs).toISOString(),
    machine,
    quick: cli.quick,
    durationMs: 0,
  };
  const suite = (name: string): ClusterSuiteOptions => ({
    nodeArgs: cli.nodeArgs,
    workDir: path.join(workDir, name),
    signal: interrupt.signal,
    log,
    onCluster: (c) => {
      active = c;
    },
  });
  let keepWorkDir = false;
  try {
    if (cli.write) {
      log(`bench/cluster: write suite, ${cli.rounds} rounds of ${cli.requests} requests per side`);
      summary.write = await runWriteSuite({
        ...suite('write'),
        rounds: cli.rounds,
        requests: cli.requests,
        clients: 50,
        runTimeoutMs: RUN_TIMEOUT_MS,
      });
    }
    if (cli.failover) {
      log(`bench/cluster: failover suite, ${cli.trials} trials`);
      summary.failover = await runFailoverSuite({
        ...suite('failover'),
        trials: cli.trials,
        attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
        retryPauseMs: RETRY_PAUSE_MS,
        trialTimeoutMs: TRIAL_TIMEOUT_MS,
      });
    }
    if (cli.locks) {
      log(`bench/cluster: locks suite, ${cli.rounds} rounds of ${cli.seconds} s per lane`);
      summary.locks = await runLocksSuite({
        ...suite('locks'),
        rounds: cli.rounds,
        runMs: cli.seconds * 1000,
        warmupMs: Math.max(1000, Math.round((cli.seconds * 1000) / 5)),
        clients: LOCK_CLIENTS,
        hotLocks: HOT_LOCKS,
        etcdRetryMs: cli.etcdRetryMs,
      });
    }
    if (cli.queues) {
      log(`bench/cluster: queues suite, ${cli.rounds} rounds of ${cli.seconds} s per lane`);
      summary.queues = await runQueuesSuite({
        ...suite('queues'),
        rounds: cli.rounds,
        runMs: cli.seconds * 1000,
        warmupMs: Math.max(1000, Math.round((cli.seconds * 1000) / 5)),
        clients: QUEUE_CLIENTS,
      });
    }
    if (cli.cache) {
      log(
        `bench/cluster: cache suite, ${cli.rounds} rounds of ${cli.cacheRequests} GETs per run and ${cli.seconds} s mixed`,
      );
      summary.cache = await runCacheSuite({
        ...suite('cache'),
        rounds: cli.rounds,
        requests: cli.cacheRequests,
        runTimeoutMs: RUN_TIMEOUT_MS,
        runMs: cli.seconds * 1000,
        warmupMs: Math.max(1000, Math.round((cli.seconds * 1000) / 5)),
        clients: CACHE_CLIENTS,
        keys: CACHE_KEYS,
      });
    }
  } catch (error) {
    if (interrupt.signal.aborted) return 130;
    throw error;
  } finally {
    process.chdir(startDir);
    const failed =
      summary.write?.lanes.some((l) => l.status === 'error') === true ||
      summary.failover?.status === 'error' ||
      summary.locks?.lanes.some((l) => l.status === 'error') === true ||
      summary.queues?.lanes.some((l) => l.status === 'error') === true ||
      summary.cache?.lanes.some((l) => l.status === 'error') === true;
    keepWorkDir = failed;
    if (keepWorkDir) log(`bench/cluster: something failed; node logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }

  summary.durationMs = Date.now() - startedAtMs;
  const markdown = clusterMarkdown(summary);
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(path.join(RESULTS_DIR, 'cluster-latest.json'), json);
  writeFileSync(path.join(RESULTS_DIR, 'cluster-latest.md'), `${markdown}\n`);
  if (cli.jsonPath !== undefined) writeFileSync(cli.jsonPath, json);
  console.log(markdown);
  log(
    `bench/cluster: results in bench/results/cluster-latest.{json,md} (${Math.round(summary.durationMs / 1000)} s)`,
  );
  return keepWorkDir ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('bench/cluster: crashed:', error);
    process.exitCode = 1;
  },
);
