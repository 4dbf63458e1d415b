/**
 * A local lockstep cluster for the cluster benchmarks, on top of tools/local-cluster.ts: free
 * loopback ports from 17101 up (never the 7001 of `npm start`), a temporary data root, each
 * node's log in a file (and its last lines in memory for error messages), and the questions the
 * benchmarks ask a node over RESP: who leads Raft group 0, is the cluster whole, has a node
 * caught up.
 *
 * LocalCluster starts its nodes with the harness's environment and working directory. The
 * benchmark entrypoint (bench/cluster.ts) therefore removes every LOCKSTEP_* variable from its
 * own environment and runs from its temporary directory, so only the flags configure a node and
 * no stray .env file is read.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../tools/local-cluster.js';
import { commandOnce, describeReply, parseInfo, type Reply, RespError } from './resp-client.js';

const FIRST_BASE_PORT = 17101;
const LAST_BASE_PORT = 17991;
const BASE_PORT_STEP = 10;
/** HTTP ports sit this far above the client ports: 17101 → 18101; bus ports are +10000 (27101). */
const HTTP_OFFSET = 1000;
const LOG_LINES_KEPT = 40;
const PROBE_TIMEOUT_MS = 1_000;
const STABLE_TIMEOUT_MS = 30_000;
/** The cluster the suites (cluster-write.ts, cluster-failover.ts) run on. */
const SUITE_CLUSTER_SIZE = 3;
/** An empty entry through Raft group 0, replied once applied: the suites' write. */
export const NOOP_COMMAND = ['RAFT.NOOP', '0'] as const;

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** What bench/cluster.ts gives every suite. */
export interface ClusterSuiteOptions {
  nodeArgs: readonly string[];
  workDir: string;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Called with the cluster while it runs, so the harness can kill it on exit. */
  onCluster: (cluster: BenchCluster | undefined) => void;
}

/** True when a listener can bind 127.0.0.1:`port` right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first base port from 17101 (step 10) whose client, bus and HTTP ports are all free. */
async function findBasePort(size: number): Promise<number> {
  for (let base = FIRST_BASE_PORT; base <= LAST_BASE_PORT; base += BASE_PORT_STEP) {
    const ports = Array.from({ length: size }, (_, i) => [
      base + i,
      base + i + 10_000,
      base + i + HTTP_OFFSET,
    ]).flat();
    let free = true;
    for (const port of ports) {
      if (!(await portFree(port))) {
        free = false;
        break;
      }
    }
    if (free) return base;
  }
  throw new Error(
    `no free block of ports for ${size} nodes between ${FIRST_BASE_PORT} and ${LAST_BASE_PORT}`,
  );
}

export interface RaftStatus {
  role: string;
  /** Empty when the node knows no leader. */
  leaderId: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
}

export class BenchCluster {
  readonly #logs = new Map<string, WriteStream>();
  readonly #recent = new Map<string, string[]>();

  private constructor(
    readonly cluster: LocalCluster,
    readonly dataRoot: string,
    readonly extraArgs: readonly string[],
  ) {}

  /** Starts `size` nodes (n1 bootstraps, the others join it) and waits until each answers PING. */
  static async start(opts: {
    workDir: string;
    size: number;
    extraArgs: readonly string[];
    log: (line: string) => void;
  }): Promise<BenchCluster> {
    const basePort = await findBasePort(opts.size);
    const dataRoot = path.join(opts.workDir, 'data');
    let self: BenchCluster | undefined;
    const cluster = new LocalCluster({
      size: opts.size,
      basePort,
      baseHttpPort: basePort + HTTP_OFFSET,
      dataRoot,
      extraArgs: opts.extraArgs,
      onLog: (id, line) => self?.onLog(id, line),
    });
    self = new BenchCluster(cluster, dataRoot, opts.extraArgs);
    for (const node of cluster.nodes) {
      self.#logs.set(node.id, createWriteStream(path.join(opts.workDir, `${node.id}.log`), { flags: 'a' }));
    }
    opts.log(
      `lockstep: starting ${opts.size} nodes on ports ${cluster.nodes.map((n) => n.port).join(', ')} ` +
        `(flags: ${opts.extraArgs.join(' ') || 'none'})`,
    );
    try {
      await cluster.start();
    } catch (error) {
      await self.stop();
      throw new Error(`${errorMessage(error)}\n${self.logTails()}`);
    }
    return self;
  }

  private onLog(id: string, line: string): void {
    this.#logs.get(id)?.write(`${line}\n`);
    const recent = this.#recent.get(id) ?? [];
    recent.push(line);
    if (recent.length > LOG_LINES_KEPT) recent.shift();
    this.#recent.set(id, recent);
  }

  get ids(): string[] {
    return this.cluster.nodes.map((n) => n.id);
  }

  port(id: string): number {
    return this.cluster.node(id).port;
  }

  running(): string[] {
    return this.ids.filter((id) => this.cluster.isRunning(id));
  }

  /** The last log lines of every node (or of `id`), for error messages. */
  logTails(id?: string, lines = 15): string {
    const ids = id === undefined ? this.ids : [id];
    return ids
      .map((n) => `--- ${n} (last lines) ---\n${(this.#recent.get(n) ?? []).slice(-lines).join('\n')}`)
      .join('\n');
  }

  /** SIGKILLs every node still running, by PID, synchronously: for the harness's `exit` handler. */
  killAllNow(): void {
    for (const id of this.ids) {
      const pid = this.cluster.pid(id);
      if (pid !== undefined && this.cluster.isRunning(id)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  async stop(): Promise<void> {
    await this.cluster.stopAll(3_000);
    await Promise.all([...this.#logs.values()].map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }

  /** One command on node `id` over a fresh connection; throws on an error reply. */
  async ask(id: string, args: readonly string[], timeoutMs = PROBE_TIMEOUT_MS): Promise<Reply> {
    const reply = await commandOnce(this.port(id), args, timeoutMs);
    if (reply instanceof RespError) throw new Error(`${id}: ${args.join(' ')} → -${reply.message}`);
    return reply;
  }

  async info(id: string, args: readonly string[]): Promise<Map<string, string>> {
    const reply = await this.ask(id, args);
    if (typeof reply !== 'string')
      throw new Error(`${id}: ${args.join(' ')} → ${describeReply(reply)}, not a bulk string`);
    return parseInfo(reply);
  }

  async raftStatus(id: string, group = 0): Promise<RaftStatus> {
    const fields = await this.info(id, ['RAFT.INFO', String(group)]);
    const num = (name: string): number => {
      const value = Number(fields.get(name));
      if (!Number.isFinite(value)) throw new Error(`${id}: RAFT.INFO ${group} lacks a numeric ${name}`);
      return value;
    };
    return {
      role: fields.get('role') ?? '',
      leaderId: fields.get('leader_id') ?? '',
      term: num('term'),
      commitIndex: num('commit_index'),
      appliedIndex: num('applied_index'),
    };
  }

  /**
   * Waits until every running node names the same leader of group 0, that leader says it is
   * the leader, `CLUSTER.INFO` on it shows `cluster_state:ok` and `cluster_size:<size>` (by
   * default the number of nodes started), and a `RAFT.NOOP` through it succeeds. Returns the
   * leader's id.
   */
  async waitStable(opts: { size?: number; timeoutMs?: number; signal?: AbortSignal }): Promise<string> {
    const size = opts.size ?? this.ids.length;
    const timeoutMs = opts.timeoutMs ?? STABLE_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let last = 'nothing asked yet';
    while (Date.now() < deadline) {
      opts.signal?.throwIfAborted();
      try {
        const ids = this.running();
        const statuses = await Promise.all(ids.map((id) => this.raftStatus(id)));
        const leaders = new Set(statuses.map((s) => s.leaderId));
        const [leader] = leaders;
        if (leaders.size !== 1 || leader === undefined || leader === '') {
          last = `leaders seen: ${ids.map((id, i) => `${id}→${statuses[i]!.leaderId || '?'}`).join(' ')}`;
        } else if (!ids.includes(leader)) {
          last = `all name ${leader} as leader, which is not running`;
        } else if (statuses[ids.indexOf(leader)]!.role !== 'leader') {
          last = `${leader} is named leader but says role:${statuses[ids.indexOf(leader)]!.role}`;
        } else {
          const cluster = await this.info(leader, ['CLUSTER.INFO']);
          if (cluster.get('cluster_state') !== 'ok' || cluster.get('cluster_size') !== String(size)) {
            last = `CLUSTER.INFO on ${leader}: cluster_state:${cluster.get('cluster_state')} cluster_size:${cluster.get('cluster_size')}`;
          } else if (
            ((await this.info(leader, ['RAFT.INFO', '0'])).get('voters') ?? '').split(',').length !== size
          ) {
            // A node still a learner (just joined or restarted) does not count towards a quorum:
            // killing the leader then would measure a cluster that cannot elect at all.
            last = `group 0 on ${leader} does not have ${size} voters yet`;
          } else {
            const reply = await this.ask(leader, NOOP_COMMAND, 2_000);
            if (typeof reply === 'number') return leader;
            last = `RAFT.NOOP on ${leader} → ${describeReply(reply)}`;
          }
        }
      } catch (error) {
        last = errorMessage(error);
        // A build without the command will not grow it by waiting.
        if (/unknown command/i.test(last)) break;
      }
      await sleep(100);
    }
    throw new Error(`cluster not stable (waited up to ${timeoutMs} ms); last: ${last}\n${this.logTails()}`);
  }

  /** Waits until node `id` has applied at least `index` in group 0; returns how long it took. */
  async waitApplied(id: string, index: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const started = Date.now();
    let last = 'not asked yet';
    while (Date.now() - started < timeoutMs) {
      signal?.throwIfAborted();
      try {
        const status = await this.raftStatus(id);
        if (status.appliedIndex >= index) return Date.now() - started;
        last = `applied_index ${status.appliedIndex}`;
      } catch (error) {
        last = errorMessage(error);
      }
      await sleep(50);
    }
    throw new Error(
      `${id} did not apply index ${index} within ${timeoutMs} ms; last: ${last}\n${this.logTails(id)}`,
    );
  }
}

/** Starts the suites' 3-node cluster under `<workDir>/lockstep` and hands it to `onCluster`. */
export async function startSuiteCluster(opts: ClusterSuiteOptions): Promise<BenchCluster> {
  const cluster = await BenchCluster.start({
    workDir: path.join(opts.workDir, 'lockstep'),
    size: SUITE_CLUSTER_SIZE,
    extraArgs: opts.nodeArgs,
    log: opts.log,
  });
  opts.onCluster(cluster);
  return cluster;
}

/**
 * Starts the suite's cluster and waits until it is stable; on failure logs why, stops what
 * started, calls `failLanes` with a one-line reason and resolves undefined.
 */
export async function startStableCluster(
  opts: ClusterSuiteOptions,
  failLanes: (reason: string) => void,
): Promise<BenchCluster | undefined> {
  let cluster: BenchCluster | undefined;
  try {
    cluster = await startSuiteCluster(opts);
    const leader = await cluster.waitStable({ signal: opts.signal });
    opts.log(`lockstep: cluster stable, group 0 leader ${leader}`);
    return cluster;
  } catch (error) {
    if (opts.signal.aborted) throw error;
    opts.log(`lockstep: ${errorMessage(error)}`);
    failLanes(`cluster did not start: ${errorMessage(error).split('\n')[0]}`);
    await cluster?.stop();
    opts.onCluster(undefined);
    return undefined;
  }
}
