/**
 * Failover time: on a local 3-node cluster, per trial, `kill -9` the leader of Raft group 0
 * and time how long until a `RAFT.NOOP 0` through a surviving node succeeds.
 *
 * A trial: wait until the cluster is stable (every node names the same leader, a RAFT.NOOP
 * succeeds); connect to a survivor (alternating between the two); t0; SIGKILL the leader; from
 * then on send `RAFT.NOOP 0` over that connection, each attempt with a 250 ms client-side
 * timeout (a timed-out connection is dropped and a fresh one opened at once), pausing 5 ms
 * after an error reply so the retries do not flood the survivor during the election; stop at
 * the first integer reply. Then restart the killed node and wait until it has applied the
 * leader's commit index of that moment, so every trial starts from a whole cluster.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { quantile } from './autocannon-load.js';
import {
  type BenchCluster,
  type ClusterSuiteOptions,
  errorMessage,
  NOOP_COMMAND,
  startSuiteCluster,
} from './cluster-lockstep.js';
import { median } from './compare.js';
import { lockstepMissingReason } from './processes.js';
import { describeReply, RespConnection, RespError, RespTimeoutError } from './resp-client.js';

export const FAILOVER_TARGET_MEDIAN_MS = 500;
export const FAILOVER_TARGET_WORST_MS = 1_500;
export const FAILOVER_MIN_TRIALS = 20;
const CATCH_UP_TIMEOUT_MS = 30_000;

export interface FailoverOptions extends ClusterSuiteOptions {
  trials: number;
  /** Client-side timeout of each write attempt. */
  attemptTimeoutMs: number;
  /** Pause after an error reply before the next attempt. */
  retryPauseMs: number;
  /** A trial with no successful write this long after the kill counts as failed. */
  trialTimeoutMs: number;
}

export interface Trial {
  trial: number;
  killed: string;
  /** The survivor the writes went through. */
  via: string;
  /** From SIGKILL to the first successful write; absent when the trial failed. */
  elapsedMs?: number;
  /** From SIGKILL until the harness saw the process exit (part of elapsedMs). */
  killExitMs: number;
  attempts: number;
  /** Failed attempts by kind: the error code (`TRYAGAIN`, `NOQUORUM`, ...), `timeout`, `connection`. */
  failures: Record<string, number>;
  newLeader?: string;
  /** From the restart of the killed node until it had applied the leader's commit index. */
  catchUpMs?: number;
}

export interface FailoverResult {
  status: 'ok' | 'skipped' | 'error';
  reason?: string;
  requestedTrials: number;
  nodeArgs: readonly string[];
  attemptTimeoutMs: number;
  retryPauseMs: number;
  trials: Trial[];
  failed: number;
  medianMs?: number;
  p90Ms?: number;
  worstMs?: number;
  verdict?: 'PASS' | 'BELOW';
}

/** Writes through `port` until one succeeds or `deadline` (performance.now() ms) passes. */
async function writeUntilSuccess(
  port: number,
  first: RespConnection,
  t0: number,
  opts: FailoverOptions,
): Promise<Pick<Trial, 'attempts' | 'failures'> & { elapsedMs?: number }> {
  const failures: Record<string, number> = {};
  const count = (kind: string): void => {
    failures[kind] = (failures[kind] ?? 0) + 1;
  };
  let attempts = 0;
  let connection: RespConnection | undefined = first;
  while (performance.now() - t0 < opts.trialTimeoutMs) {
    opts.signal.throwIfAborted();
    attempts++;
    try {
      if (connection === undefined || connection.closed) {
        connection = await RespConnection.connect(port, opts.attemptTimeoutMs);
      }
      const reply = await connection.command(NOOP_COMMAND, opts.attemptTimeoutMs);
      if (typeof reply === 'number') {
        const elapsedMs = performance.now() - t0;
        connection.close();
        return { elapsedMs, attempts, failures };
      }
      count(reply instanceof RespError ? reply.code : `unexpected ${describeReply(reply)}`);
      await sleep(opts.retryPauseMs);
    } catch (error) {
      // A timeout closes the connection (a late reply would pair with the next request).
      count(error instanceof RespTimeoutError ? 'timeout' : 'connection');
      connection = undefined;
      if (!(error instanceof RespTimeoutError)) await sleep(opts.retryPauseMs);
    }
  }
  connection?.close();
  return { attempts, failures };
}

function summarize(result: FailoverResult): void {
  const times = result.trials.flatMap((t) => (t.elapsedMs === undefined ? [] : [t.elapsedMs]));
  result.failed = result.trials.length - times.length;
  if (times.length === 0) return;
  const sorted = [...times].sort((a, b) => a - b);
  result.medianMs = median(sorted);
  result.p90Ms = quantile(sorted, 0.9);
  result.worstMs = sorted.at(-1)!;
  const pass =
    result.status === 'ok' &&
    result.failed === 0 &&
    result.trials.length >= FAILOVER_MIN_TRIALS &&
    result.medianMs <= FAILOVER_TARGET_MEDIAN_MS &&
    result.worstMs <= FAILOVER_TARGET_WORST_MS;
  result.verdict = pass ? 'PASS' : 'BELOW';
}

export async function runFailoverSuite(opts: FailoverOptions): Promise<FailoverResult> {
  const result: FailoverResult = {
    status: 'ok',
    requestedTrials: opts.trials,
    nodeArgs: opts.nodeArgs,
    attemptTimeoutMs: opts.attemptTimeoutMs,
    retryPauseMs: opts.retryPauseMs,
    trials: [],
    failed: 0,
  };
  const missing = lockstepMissingReason();
  if (missing !== undefined) {
    opts.log(`[failover] skipped: ${missing}`);
    return { ...result, status: 'skipped', reason: missing };
  }
  let cluster: BenchCluster | undefined;
  try {
    cluster = await startSuiteCluster(opts);
    for (let trial = 1; trial <= opts.trials; trial++) {
      const leader = await cluster.waitStable({ signal: opts.signal });
      const survivors = cluster.running().filter((id) => id !== leader);
      const via = survivors[trial % survivors.length]!;
      const port = cluster.port(via);
      const connection = await RespConnection.connect(port);
      const pong = await connection.command(['PING'], 1_000);
      if (pong !== 'PONG') throw new Error(`${via}: PING → ${describeReply(pong)}`);

      const t0 = performance.now();
      await cluster.cluster.kill(leader);
      const killExitMs = performance.now() - t0;
      const outcome = await writeUntilSuccess(port, connection, t0, opts);
      const entry: Trial = { trial, killed: leader, via, killExitMs, ...outcome };
      result.trials.push(entry);

      // Bring the killed node back and let it catch up before the next trial.
      let target = 0;
      try {
        const viaStatus = await cluster.raftStatus(via);
        if (viaStatus.leaderId !== '') entry.newLeader = viaStatus.leaderId;
        const leaderNow = entry.newLeader ?? via;
        target = (await cluster.raftStatus(leaderNow)).commitIndex;
      } catch (error) {
        opts.log(
          `[failover] trial ${trial}: could not read the new leader's commit index: ${errorMessage(error)}`,
        );
      }
      const restartedAt = Date.now();
      await cluster.cluster.restart(leader);
      await cluster.waitApplied(leader, target, CATCH_UP_TIMEOUT_MS, opts.signal);
      entry.catchUpMs = Date.now() - restartedAt;

      const failures = Object.entries(entry.failures)
        .map(([kind, n]) => `${kind}×${n}`)
        .join(' ');
      opts.log(
        `[failover] trial ${trial}/${opts.trials}: killed ${leader}, write via ${via} ` +
          (entry.elapsedMs === undefined
            ? `FAILED: no success within ${opts.trialTimeoutMs} ms`
            : `ok after ${entry.elapsedMs.toFixed(0)} ms`) +
          ` (${entry.attempts} attempts${failures ? `: ${failures}` : ''}); new leader ${entry.newLeader ?? '?'}; ` +
          `${leader} caught up to ${target} in ${entry.catchUpMs} ms`,
      );
    }
  } catch (error) {
    if (opts.signal.aborted) throw error;
    const text = errorMessage(error);
    opts.log(`[failover] ${text}`);
    result.status = 'error';
    result.reason = text.split('\n')[0]!;
  } finally {
    if (cluster !== undefined) await cluster.stop();
    opts.onCluster(undefined);
  }
  summarize(result);
  return result;
}
