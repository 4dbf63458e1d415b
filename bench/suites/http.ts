/**
 * The HTTP JSON API against lockstep's own RESP path (issue 9, acceptance 4): the same
 * operations on the same node, once through fastify (autocannon) and once over RESP (a
 * JavaScript client in the same harness process), interleaved round by round like every
 * suite. The "peer" column is lockstep over RESP; the ratio is HTTP / RESP.
 *
 * - lock acquire+release: each connection loops `POST /lock/acquire` then `POST
 *   /lock/release` of a fresh lock (RESP: `LOCK.ACQUIRE k<i> OWNER c<i> TTL 10000` and
 *   `LOCK.RELEASE`): every request is a Raft write through group 0.
 * - cache read: `GET /cache/read?key=...` (CACHE.GET plus CACHE.STATE behind it) against
 *   `CACHE.GET` of a key this node holds: no Raft, no bus, the API's own cost.
 *
 * Figures are requests per second and per-request latency on each side.
 */
import path from 'node:path';
import { median, type RunOptions, type ScenarioResult, type SideResult } from '../lib/compare.js';
import { runHttpSequence, type SequenceStep } from '../lib/http-sequence-load.js';
import {
  freePorts,
  lockstepMissingReason,
  type ManagedProcess,
  startLockstep,
  stop,
} from '../lib/processes.js';
import type { LoadResult } from '../lib/redis-benchmark.js';
import { commandOnce, RespError } from '../lib/resp-client.js';
import { runRespSequence } from '../lib/resp-sequence-load.js';
import { LOCKSTEP_LABEL } from '../lib/targets.js';
import type { Suite } from './types.js';

const CLIENTS = 50;
const QUICK_DIVISOR = 10;
const WARMUP_DIVISOR = 5;
const MIN_REQUESTS = 1_000;
const PEER_LABEL = 'lockstep RESP';
const LOCK_TTL_MS = 10_000;
const CACHE_KEY = 'bench:http:key';
/** Informational: HTTP (JSON parsing, fastify, a session per request) is not expected to match RESP. */
const TARGET_RATIO = 0.5;

interface HttpScenario {
  name: string;
  httpCommand: string;
  respCommand: string;
  requests: number;
  /** Why the scenario cannot run on this build, or undefined. */
  unavailable?: (respPort: number) => Promise<string | undefined>;
  setup?: (respPort: number) => Promise<void>;
  http: (httpPort: number, requests: number, opts: RunOptions) => Promise<LoadResult>;
  resp: (respPort: number, requests: number, opts: RunOptions) => Promise<LoadResult>;
}

let lockCounter = 0;
const lockSteps: SequenceStep[] = [
  {
    method: 'POST',
    path: '/lock/acquire',
    body: (context) => {
      context['name'] ??= `h${lockCounter++}`;
      return JSON.stringify({ name: context['name'], owner: 'bench', ttl_ms: LOCK_TTL_MS });
    },
  },
  {
    method: 'POST',
    path: '/lock/release',
    body: (context) => JSON.stringify({ name: context['name'], owner: 'bench' }),
  },
];

const scenarios: HttpScenario[] = [
  {
    name: `lock acquire+release -c ${CLIENTS}`,
    httpCommand: 'POST /lock/acquire + POST /lock/release',
    respCommand: 'LOCK.ACQUIRE + LOCK.RELEASE',
    requests: 20_000,
    http: (port, requests, opts) =>
      runHttpSequence({
        baseUrl: `http://127.0.0.1:${port}`,
        steps: lockSteps,
        connections: CLIENTS,
        requests,
        timeoutMs: opts.runTimeoutMs,
        signal: opts.signal,
        check: (step, _status, body) => {
          if (step === 0 && !body.startsWith('{"ok":true')) throw new Error(`acquire not granted: ${body}`);
        },
      }),
    resp: (port, requests, opts) =>
      runRespSequence({
        port,
        connections: CLIENTS,
        requests,
        timeoutMs: opts.runTimeoutMs,
        signal: opts.signal,
        sequence: (i) => [
          ['LOCK.ACQUIRE', `k${i}`, 'OWNER', `c${i}`, 'TTL', String(LOCK_TTL_MS)],
          ['LOCK.RELEASE', `k${i}`, 'OWNER', `c${i}`],
        ],
      }),
  },
  {
    name: `cache read (hit) -c ${CLIENTS}`,
    httpCommand: `GET /cache/read?key=${CACHE_KEY}`,
    respCommand: `CACHE.GET ${CACHE_KEY}`,
    requests: 50_000,
    unavailable: async (port) => {
      const reply = await commandOnce(port, ['COMMAND', 'INFO', 'cache.get']);
      return Array.isArray(reply) && reply[0] !== null ? undefined : 'CACHE.GET is not in this build';
    },
    setup: async (port) => {
      // -TRYAGAIN means the outcome is unknown and a retry is safe (src/lib/errors.ts).
      let reply = await commandOnce(port, ['CACHE.SET', CACHE_KEY, JSON.stringify({ celsius: 25 })], 10_000);
      for (
        let attempt = 1;
        attempt < 3 && reply instanceof RespError && reply.code === 'TRYAGAIN';
        attempt++
      ) {
        reply = await commandOnce(port, ['CACHE.SET', CACHE_KEY, JSON.stringify({ celsius: 25 })], 10_000);
      }
      if (reply instanceof RespError) throw new Error(`CACHE.SET: -${reply.message}`);
    },
    http: (port, requests, opts) =>
      runHttpSequence({
        baseUrl: `http://127.0.0.1:${port}`,
        steps: [{ method: 'GET', path: `/cache/read?key=${encodeURIComponent(CACHE_KEY)}` }],
        connections: CLIENTS,
        requests,
        timeoutMs: opts.runTimeoutMs,
        signal: opts.signal,
      }),
    resp: (port, requests, opts) =>
      runRespSequence({
        port,
        connections: CLIENTS,
        requests,
        timeoutMs: opts.runTimeoutMs,
        signal: opts.signal,
        sequence: () => [['CACHE.GET', CACHE_KEY]],
      }),
  },
];

interface Lane {
  label: string;
  rounds: LoadResult[];
  error?: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function runOnce(
  lane: Lane,
  run: () => Promise<LoadResult>,
  opts: RunOptions,
): Promise<LoadResult | undefined> {
  if (lane.error !== undefined) return undefined;
  try {
    return await run();
  } catch (error) {
    if (opts.signal.aborted) throw error;
    lane.error = message(error);
    return undefined;
  }
}

function side(lane: Lane, skipped?: string): SideResult {
  if (skipped !== undefined) return { label: lane.label, status: 'skipped', reason: skipped, rounds: [] };
  if (lane.error !== undefined)
    return { label: lane.label, status: 'error', reason: lane.error, rounds: lane.rounds };
  return {
    label: lane.label,
    status: 'ok',
    rounds: lane.rounds,
    rps: median(lane.rounds.map((r) => r.rps)),
    p50LatencyMs: median(lane.rounds.map((r) => r.p50LatencyMs)),
    p99LatencyMs: median(lane.rounds.map((r) => r.p99LatencyMs)),
  };
}

function result(
  scenario: HttpScenario,
  requests: number,
  http: SideResult,
  resp: SideResult,
): ScenarioResult {
  const base: ScenarioResult = {
    suite: 'http',
    scenario: scenario.name,
    peer: PEER_LABEL,
    clients: CLIENTS,
    pipeline: 1,
    requests,
    lockstepCommand: scenario.httpCommand,
    peerCommand: scenario.respCommand,
    targetRatio: TARGET_RATIO,
    lockstep: http,
    peerSide: resp,
  };
  if (http.status !== 'ok' || resp.status !== 'ok') return base;
  const roundRatios = http.rounds.map((r, i) => r.rps / resp.rounds[i]!.rps);
  const ratio = median(roundRatios);
  const ratioSpread = Math.max(...roundRatios) / Math.min(...roundRatios);
  return {
    ...base,
    ratio,
    roundRatios,
    ratioSpread,
    noisy: ratioSpread > 1.25,
    verdict: ratio >= TARGET_RATIO ? 'PASS' : 'BELOW',
  };
}

async function runHttpSuite(opts: RunOptions): Promise<ScenarioResult[]> {
  const sized = (n: number) => (opts.quick ? Math.max(MIN_REQUESTS, Math.round(n / QUICK_DIVISOR)) : n);
  const missing = lockstepMissingReason();
  if (missing !== undefined) {
    return scenarios.map((s) => {
      const skip = `${missing} (run npm run build)`;
      return result(
        s,
        sized(s.requests),
        side({ label: LOCKSTEP_LABEL, rounds: [] }, skip),
        side({ label: PEER_LABEL, rounds: [] }, skip),
      );
    });
  }
  const [port, busPort, httpPort] = await freePorts(3);
  let node: ManagedProcess;
  try {
    node = await startLockstep({
      port: port!,
      busPort: busPort!,
      httpPort: httpPort!,
      dataDir: path.join(opts.workDir, 'lockstep', 'data'),
      label: 'lockstep (http suite)',
    });
  } catch (error) {
    const failed = (label: string): SideResult => ({
      label,
      status: 'error',
      reason: message(error),
      rounds: [],
    });
    return scenarios.map((s) => result(s, sized(s.requests), failed(LOCKSTEP_LABEL), failed(PEER_LABEL)));
  }
  try {
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      const requests = sized(scenario.requests);
      const http: Lane = { label: LOCKSTEP_LABEL, rounds: [] };
      const resp: Lane = { label: PEER_LABEL, rounds: [] };
      const unavailable = await scenario.unavailable?.(port!);
      if (unavailable !== undefined) {
        results.push(result(scenario, requests, side(http, unavailable), side(resp, unavailable)));
        continue;
      }
      try {
        await scenario.setup?.(port!);
      } catch (error) {
        http.error = resp.error = `setup: ${message(error)}`;
        results.push(result(scenario, requests, side(http), side(resp)));
        continue;
      }
      const tag = `[http] ${scenario.name}`;
      const warmup = Math.max(MIN_REQUESTS, Math.round(requests / WARMUP_DIVISOR));
      await runOnce(http, () => scenario.http(httpPort!, warmup, opts), opts);
      await runOnce(resp, () => scenario.resp(port!, warmup, opts), opts);
      for (let round = 0; round < opts.rounds; round++) {
        for (const [lane, run] of [
          [http, () => scenario.http(httpPort!, requests, opts)],
          [resp, () => scenario.resp(port!, requests, opts)],
        ] as const) {
          const r = await runOnce(lane, run, opts);
          if (r === undefined) continue;
          lane.rounds.push(r);
          opts.log(
            `${tag} · ${lane.label} round ${round + 1}/${opts.rounds}: ${Math.round(r.rps).toLocaleString('en-US')} rps`,
          );
        }
      }
      for (const lane of [http, resp])
        if (lane.error !== undefined) opts.log(`${tag} · ${lane.label} ERROR: ${lane.error}`);
      results.push(result(scenario, requests, side(http), side(resp)));
    }
    return results;
  } finally {
    await stop(node);
  }
}

export const httpSuite: Suite = {
  name: 'http',
  summary:
    'HTTP JSON API vs RESP on one node: lock acquire+release pairs and cache reads, -c 50 (autocannon)',
  scenarios: [],
  run: runHttpSuite,
};
