/**
 * Runs a suite: starts lockstep and the peers once, then for each scenario a warm-up on both
 * sides followed by N rounds, each one lockstep run then one peer run, back to back, and keeps
 * the median of the rounds.
 *
 * The ratio is the median of per-round ratios rather than the quotient of the two medians, so
 * outside load on this shared 2-core machine (bursts of a few seconds) skews a round, not the
 * result. Strict alternation (not ABBA) matters for that: a burst spanning two consecutive runs
 * then always covers one run of each side, so it pushes two round ratios in opposite
 * directions and the median still lands on an unaffected round.
 */
import type { PeerName, Scenario, Suite } from '../suites/types.js';
import { logTail, type ManagedProcess, stop, which } from './processes.js';
import { describeCommand, type LoadResult, runRedisBenchmark } from './redis-benchmark.js';
import { LOCKSTEP_LABEL, type Started, startLockstepSide, startPeer } from './targets.js';

export interface RunOptions {
  rounds: number;
  quick: boolean;
  /** Per redis-benchmark invocation; a hung run is killed and reported. */
  runTimeoutMs: number;
  workDir: string;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  log: (line: string) => void;
}

export interface SideResult {
  label: string;
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  rounds: LoadResult[];
  /** Medians over the rounds, each taken on its own. */
  rps?: number;
  p50LatencyMs?: number;
  p99LatencyMs?: number;
}

export interface ScenarioResult {
  suite: string;
  scenario: string;
  /** A PeerName, or the lane a suite's own runner compared with (`lockstep RESP`). */
  peer: PeerName | string;
  clients: number;
  pipeline: number;
  requests: number;
  lockstepCommand: string;
  peerCommand: string;
  targetRatio: number;
  lockstep: SideResult;
  peerSide: SideResult;
  /** Median over the rounds of lockstep rps / peer rps, when both sides ran. */
  ratio?: number;
  /** Each round's lockstep rps / peer rps, in round order. */
  roundRatios?: number[];
  /** Largest round ratio / smallest: above NOISY_SPREAD the machine was too busy to trust. */
  ratioSpread?: number;
  noisy?: boolean;
  verdict?: 'PASS' | 'BELOW';
}

/** A server as the runner sees it over the life of a suite. */
type Side =
  | { kind: 'running'; proc: ManagedProcess; died: AbortSignal }
  | { kind: 'skipped'; reason: string }
  | { kind: 'error'; reason: string };

const QUICK_DIVISOR = 10;
const MIN_REQUESTS = 1_000;
const WARMUP_DIVISOR = 5;
const EXIT_SETTLE_MS = 500;
/** Round ratios further apart than this (max / min) mark the row as noisy. */
const NOISY_SPREAD = 1.25;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function startSide(start: () => Promise<Started>): Promise<Side> {
  try {
    const started = await start();
    if ('skipped' in started) return { kind: 'skipped', reason: started.skipped };
    const died = new AbortController();
    void started.proc.exited.then(({ code, signal }) =>
      died.abort(new Error(`${started.proc.label} exited (code ${code}, signal ${signal})`)),
    );
    return { kind: 'running', proc: started.proc, died: died.signal };
  } catch (error) {
    return { kind: 'error', reason: error instanceof Error ? error.message : String(error) };
  }
}

interface Lane {
  label: string;
  side: Side;
  command: Scenario['lockstepCommand'];
  rounds: LoadResult[];
  error?: string;
}

/** One redis-benchmark run on one lane; records an error instead of throwing, except on Ctrl-C. */
async function runOnce(
  lane: Lane,
  scenario: Scenario,
  requests: number,
  opts: RunOptions,
): Promise<LoadResult | undefined> {
  if (lane.side.kind !== 'running' || lane.error !== undefined) return undefined;
  const { proc, died } = lane.side;
  try {
    return await runRedisBenchmark({
      port: proc.port,
      clients: scenario.clients,
      pipeline: scenario.pipeline,
      requests,
      command: lane.command,
      timeoutMs: opts.runTimeoutMs,
      signal: AbortSignal.any([opts.signal, died]),
    });
  } catch (error) {
    if (opts.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // A server that crashed usually breaks the load run a moment before its exit is reported.
    await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, EXIT_SETTLE_MS))]);
    const reason = died.reason instanceof Error ? died.reason.message : String(died.reason);
    lane.error = proc.hasExited() ? `${reason} during the run\nlog tail:\n${logTail(proc)}` : message;
    return undefined;
  }
}

function sideResult(lane: Lane): SideResult {
  const { label, side, rounds } = lane;
  if (side.kind === 'skipped') return { label, status: 'skipped', reason: side.reason, rounds };
  if (side.kind === 'error') return { label, status: 'error', reason: side.reason, rounds };
  if (lane.error !== undefined) return { label, status: 'error', reason: lane.error, rounds };
  return {
    label,
    status: 'ok',
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    p50LatencyMs: median(rounds.map((r) => r.p50LatencyMs)),
    p99LatencyMs: median(rounds.map((r) => r.p99LatencyMs)),
  };
}

async function runScenario(suite: Suite, scenario: Scenario, lockstep: Side, peer: Side, opts: RunOptions) {
  const requests = opts.quick
    ? Math.max(MIN_REQUESTS, Math.round(scenario.requests / QUICK_DIVISOR))
    : scenario.requests;
  const lanes: [Lane, Lane] = [
    { label: LOCKSTEP_LABEL, side: lockstep, command: scenario.lockstepCommand, rounds: [] },
    { label: scenario.peer, side: peer, command: scenario.peerCommand, rounds: [] },
  ];
  const tag = `[${suite.name}] ${scenario.name}`;
  const warmupRequests = Math.max(MIN_REQUESTS, Math.round(requests / WARMUP_DIVISOR));
  for (const lane of lanes) await runOnce(lane, scenario, warmupRequests, opts);
  for (let round = 0; round < opts.rounds; round++) {
    for (const lane of lanes) {
      const result = await runOnce(lane, scenario, requests, opts);
      if (result === undefined) continue;
      lane.rounds.push(result);
      const rps = Math.round(result.rps).toLocaleString('en-US');
      opts.log(`${tag} · ${lane.label} round ${round + 1}/${opts.rounds}: ${rps} rps`);
    }
  }
  const [lockstepSide, peerSide] = lanes.map(sideResult) as [SideResult, SideResult];
  return compareSides(suite, scenario, requests, lockstepSide, peerSide);
}

function compareSides(
  suite: Suite,
  scenario: Scenario,
  requests: number,
  lockstepSide: SideResult,
  peerSide: SideResult,
): ScenarioResult {
  const result: ScenarioResult = {
    suite: suite.name,
    scenario: scenario.name,
    peer: scenario.peer,
    clients: scenario.clients,
    pipeline: scenario.pipeline,
    requests,
    lockstepCommand: describeCommand(scenario.lockstepCommand),
    peerCommand: describeCommand(scenario.peerCommand),
    targetRatio: scenario.targetRatio,
    lockstep: lockstepSide,
    peerSide,
  };
  if (lockstepSide.status !== 'ok' || peerSide.status !== 'ok') return result;
  // Both sides ran every round, so the two round lists line up.
  const roundRatios = lockstepSide.rounds.map((ours, i) => ours.rps / peerSide.rounds[i]!.rps);
  const ratio = median(roundRatios);
  const ratioSpread = Math.max(...roundRatios) / Math.min(...roundRatios);
  return {
    ...result,
    ratio,
    roundRatios,
    ratioSpread,
    noisy: ratioSpread > NOISY_SPREAD,
    verdict: ratio >= scenario.targetRatio ? 'PASS' : 'BELOW',
  };
}

/** A side that died in one scenario stays dead, with the same reason, for the rest of the suite. */
function carryErrors(side: Side, sideResult: SideResult): Side {
  if (side.kind === 'running' && side.proc.hasExited()) {
    return { kind: 'error', reason: sideResult.reason ?? `${side.proc.label} exited` };
  }
  return side;
}

export async function runSuite(suite: Suite, opts: RunOptions): Promise<ScenarioResult[]> {
  if (suite.run !== undefined) return suite.run(opts);
  const started: ManagedProcess[] = [];
  const track = (side: Side): Side => {
    if (side.kind === 'running') started.push(side.proc);
    return side;
  };
  try {
    const noLoadTool = which('redis-benchmark') === undefined;
    const skipAll: Side = { kind: 'skipped', reason: 'redis-benchmark not installed' };
    let lockstep = noLoadTool
      ? skipAll
      : track(await startSide(() => startLockstepSide(opts.workDir, suite.lockstepArgs ?? [])));
    const peers = new Map<PeerName, Side>();
    for (const name of new Set(suite.scenarios.map((s) => s.peer))) {
      peers.set(name, noLoadTool ? skipAll : track(await startSide(() => startPeer(name, opts.workDir))));
    }
    const results: ScenarioResult[] = [];
    const loggedErrors = new Set<string>();
    for (const scenario of suite.scenarios) {
      const peer = peers.get(scenario.peer)!;
      const result = await runScenario(suite, scenario, lockstep, peer, opts);
      results.push(result);
      for (const side of [result.lockstep, result.peerSide]) {
        if (side.status !== 'error' || loggedErrors.has(side.reason!)) continue;
        loggedErrors.add(side.reason!);
        opts.log(`[${suite.name}] ${scenario.name} · ${side.label} ERROR: ${side.reason}`);
      }
      lockstep = carryErrors(lockstep, result.lockstep);
      peers.set(scenario.peer, carryErrors(peer, result.peerSide));
    }
    return results;
  } finally {
    await Promise.all(started.map((proc) => stop(proc)));
  }
}
