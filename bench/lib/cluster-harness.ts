/**
 * Pieces every cluster suite uses (write, locks, queues, cache): CPU per process from /proc, a
 * summary of which node serves how many clients, connection helpers, and the lanes' bookkeeping
 * (skip, fail, start the cluster or take the lockstep lanes out, run with the nodes' pids).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  type BenchCluster,
  type ClusterSuiteOptions,
  errorMessage,
  startStableCluster,
} from './cluster-lockstep.js';
import { lockstepMissingReason } from './processes.js';
import { type Reply, RespConnection, RespError } from './resp-client.js';

let clockTicksPerSecond: number | undefined;

/** utime + stime of `pid` in seconds, from /proc/<pid>/stat; undefined when unreadable. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * Samples the CPU time of `pids` (and of this process, as `harness`, unless told not to);
 * `stop(seconds)` returns each one's % of a core since.
 */
export function cpuMeter(
  pids: Record<string, number>,
  harness = true,
): { stop(seconds: number): Record<string, number> } {
  const own = process.cpuUsage();
  const before = Object.entries(pids).map(([name, pid]) => [name, pid, cpuSeconds(pid)] as const);
  return {
    stop(seconds) {
      const percent: Record<string, number> = {};
      if (harness) {
        const used = process.cpuUsage(own);
        percent.harness = ((used.user + used.system) / 1e6 / seconds) * 100;
      }
      for (const [name, pid, start] of before) {
        const end = cpuSeconds(pid);
        if (start !== undefined && end !== undefined) percent[name] = ((end - start) / seconds) * 100;
      }
      return percent;
    },
  };
}

/** `n1 ×17, n2 ×17, n3 ×16`: how many clients each node serves. */
export function spread(nodes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, count]) => `${n} ×${count}`)
    .join(', ');
}

/** Connecting to a node on loopback: only a node that is not listening takes this long. */
export const CONNECT_TIMEOUT_MS = 2_000;

/** One connection per port, all or none (a failure closes the ones that opened). */
export async function connectAll(
  ports: readonly number[],
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<RespConnection[]> {
  const settled = await Promise.allSettled(ports.map((p) => RespConnection.connect(p, timeoutMs)));
  const connections = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    for (const c of connections) c.close();
    throw failed.reason;
  }
  return connections;
}

/** A command whose error reply is a failure of the run, named by its first words. */
export async function ask(
  connection: RespConnection,
  args: readonly string[],
  timeoutMs: number,
): Promise<Reply> {
  const reply = await connection.command(args, timeoutMs);
  if (reply instanceof RespError) throw new Error(`${args.slice(0, 3).join(' ')} → -${reply.message}`);
  return reply;
}

/** The part of a cluster suite's lane that the helpers below touch. */
export interface SuiteLane {
  result: { status: 'ok' | 'skipped' | 'error'; reason?: string };
  run?: unknown;
}

/** Takes the lane out of the run because a tool it needs is missing. */
export function skipLane(lane: SuiteLane, reason: string): void {
  lane.result.status = 'skipped';
  lane.result.reason = reason;
  delete lane.run;
}

/** Takes the lane out of the run as failed, unless it was already skipped for a missing tool. */
export function failLane(lane: SuiteLane, reason: string): void {
  if (lane.result.status === 'skipped') return;
  lane.result.status = 'error';
  lane.result.reason = reason;
  delete lane.run;
}

/**
 * Starts the suite's lockstep cluster and waits until it is stable, or takes the lockstep
 * `lanes` out of the run: skipped when `missing` names what is missing (by default, a build of
 * lockstep), failed when the cluster did not come up. Undefined when there is no cluster.
 */
export async function startLockstepLanes(
  opts: ClusterSuiteOptions,
  lanes: readonly SuiteLane[],
  missing: string | undefined = lockstepMissingReason(),
): Promise<BenchCluster | undefined> {
  if (missing !== undefined) {
    for (const l of lanes) skipLane(l, missing);
    return undefined;
  }
  return startStableCluster(opts, (reason) => {
    for (const l of lanes) failLane(l, reason);
  });
}

/**
 * Runs one measurement with the pids of the nodes now running (for the CPU meter). A failure
 * that is not the suite being aborted says which nodes were down and carries their log tails.
 */
export async function withNodePids<T>(
  c: BenchCluster,
  signal: AbortSignal,
  run: (pids: Record<string, number>) => Promise<T>,
): Promise<T> {
  try {
    const pids: Record<string, number> = {};
    for (const n of c.running()) {
      const pid = c.cluster.pid(n);
      if (pid !== undefined) pids[n] = pid;
    }
    return await run(pids);
  } catch (error) {
    if (signal.aborted) throw error;
    const down = c.ids.filter((n) => !c.cluster.isRunning(n));
    const note = down.length > 0 ? ` (not running: ${down.join(', ')})` : '';
    throw new Error(`${errorMessage(error)}${note}\n${c.logTails()}`);
  }
}
