/**
 * A chaos run: a 5-node cluster of real processes, lock, queue and cache clients on every node,
 * a nemesis injecting one fault at a time (kill -9, SIGSTOP, partitions of four shapes, clock
 * steps) for the fault phase, then heal, drain the queues, and check the recorded history.
 *
 * Phases: start (clients only) → faults → heal (all faults undone; clients go on, so recovery
 * is measured) → drain (only consumers, until every queue is empty) → end.
 */
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { SeededRandom } from '../../src/lib/random.js';
import { freePortRange } from '../free-ports.js';
import { LocalCluster } from '../local-cluster.js';
import { ChaosClient } from './client.js';
import { describePlan, FaultDealer } from './fault-plan.js';
import { Nemesis } from './nemesis.js';
import { clusterWhole, sampleLeaders } from './observe.js';
import { Recorder } from './recorder.js';
import {
  cacheWorker,
  consumer,
  lockWorker,
  openProcess,
  type Process,
  producer,
  QUEUES,
  type WorkloadContext,
} from './workloads.js';

export interface ChaosOptions {
  /** How long the nemesis runs. */
  readonly faultMs: number;
  /** Go on past `faultMs` until at least this many faults were injected (default 0). */
  readonly minFaults?: number;
  readonly seed: number;
  /** Where the history, summary, timeline and node logs go. */
  readonly outDir: string;
  readonly nodes?: number;
  /** Quiet time between faults and how long a fault lasts, [min, max] ms. */
  readonly quietMs?: readonly [number, number];
  readonly holdMs?: readonly [number, number];
  /** Keep the nodes' data directories (they are removed after a clean run otherwise). */
  readonly keepData?: boolean;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface ChaosRun {
  readonly historyPath: string;
  readonly recorder: Recorder;
  readonly nodes: readonly string[];
  readonly faults: number;
  readonly drained: boolean;
}

/** Lease of a popped message: short, so a pop whose reply was lost is redelivered soon. */
const VISIBILITY_MS = 3000;

export const CHAOS_NODE_ARGS = [
  '--election-timeout-ms',
  '500',
  '--heartbeat-ms',
  '50',
  '--down-after-ms',
  '2000',
  '--partitions',
  '4',
  '--request-timeout-ms',
  '4000',
  '--enable-debug-command',
  'yes',
  '--cluster-secret',
  'chaos-secret-0123456789',
  '--log-level',
  'info',
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runChaos(options: ChaosOptions): Promise<ChaosRun> {
  const log = options.log ?? (() => {});
  const size = options.nodes ?? 5;
  const quiet = options.quietMs ?? [2000, 4000];
  const hold = options.holdMs ?? [3000, 8000];
  const outDir = resolve(options.outDir);
  mkdirSync(join(outDir, 'logs'), { recursive: true });
  const dataRoot = join(outDir, 'data');
  const logs = new Map<string, WriteStream>();
  const cluster = new LocalCluster({
    size,
    basePort: await freePortRange(size),
    baseHttpPort: await freePortRange(size),
    dataRoot,
    extraArgs: CHAOS_NODE_ARGS,
    onLog: (id, line) => {
      if (!logs.has(id)) logs.set(id, createWriteStream(join(outDir, 'logs', `${id}.log`), { flags: 'a' }));
      logs.get(id)!.write(`${line}\n`);
    },
  });
  const killAll = () => {
    for (const n of cluster.nodes) {
      const pid = cluster.pid(n.id);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  };
  const onSignal = () => {
    killAll();
    process.exit(130);
  };
  process.once('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const random = new SeededRandom(options.seed);
  const historyPath = join(outDir, 'history.jsonl');
  const recorder = new Recorder(historyPath);
  const nodeIds = cluster.nodes.map((n) => n.id);
  // One connection per node for the leader sampler, another for the run's own checks: a
  // ChaosClient carries one command at a time.
  const observers = new Map(cluster.nodes.map((n) => [n.id, new ChaosClient(n.port)]));
  const controls = new Map(cluster.nodes.map((n) => [n.id, new ChaosClient(n.port)]));
  const nemesis = new Nemesis(cluster, recorder);
  const processes: Process[] = [];
  let faults = 0;
  let drained = false;
  try {
    log(`starting ${size} nodes (data in ${dataRoot})`);
    await cluster.start(30_000);
    await waitWhole(controls, size, 60_000);
    await setUpQueues(controls.get('n1')!);

    let pid = 0;
    const open = (): Process => {
      const node = cluster.nodes[pid % size]!;
      return openProcess(pid++, node.id, node.port);
    };
    let clientsRunning = true;
    let producing = true;
    let consuming = true;
    const ctx = (running: () => boolean): WorkloadContext => ({
      recorder,
      random: new SeededRandom(random.int(0, 2 ** 31)),
      running,
    });
    const lockers = Array.from({ length: size }, () => open());
    const producers = Array.from({ length: size }, () => open());
    const consumers = Array.from({ length: size }, () => open());
    const cachers = Array.from({ length: size }, () => open());
    processes.push(...lockers, ...producers, ...consumers, ...cachers);
    recorder.add({ type: 'phase', phase: 'start', timeMs: recorder.nowMs() });
    const clientWork = [
      ...lockers.map((p) =>
        lockWorker(
          p,
          ctx(() => clientsRunning),
        ),
      ),
      ...cachers.map((p) =>
        cacheWorker(
          p,
          ctx(() => clientsRunning),
        ),
      ),
    ];
    const producerWork = producers.map((p) =>
      producer(
        p,
        ctx(() => producing),
      ),
    );
    const consumerWork = consumers.map((p) =>
      consumer(
        p,
        ctx(() => consuming),
        VISIBILITY_MS,
      ),
    );

    let leaders: Record<string, string> = {};
    let observing = true;
    const observer = (async () => {
      while (observing) {
        const sample = await sampleLeaders(observers, nemesis.unavailable());
        if (JSON.stringify(sample) !== JSON.stringify(leaders)) {
          leaders = sample;
          recorder.add({ type: 'leaders', leaders, timeMs: recorder.nowMs() });
        }
        await sleep(500);
      }
    })();

    await sleep(2000);
    recorder.add({ type: 'phase', phase: 'faults', timeMs: recorder.nowMs() });
    const dealer = new FaultDealer(random, nodeIds);
    const faultsEnd = performance.now() + options.faultMs;
    const minFaults = options.minFaults ?? 0;
    const more = () => performance.now() < faultsEnd || faults < minFaults;
    while (more()) {
      await sleep(random.int(quiet[0], quiet[1]));
      if (!more()) break;
      const fault = dealer.next(leaders['0']);
      log(`fault ${++faults}: ${describePlan(fault)}`);
      await nemesis.inject(fault);
      const holdMs = random.int(hold[0], hold[1]);
      await sleep(
        faults <= minFaults ? holdMs : Math.min(holdMs, Math.max(0, faultsEnd - performance.now())),
      );
      await nemesis.heal(fault);
    }
    await nemesis.healAll();
    recorder.add({ type: 'phase', phase: 'heal', timeMs: recorder.nowMs() });
    log('healed; waiting for the cluster to be whole');
    await waitWhole(controls, size, 60_000);
    await sleep(3000);

    recorder.add({ type: 'phase', phase: 'drain', timeMs: recorder.nowMs() });
    clientsRunning = false;
    producing = false;
    await Promise.all([...clientWork, ...producerWork]);
    log('draining the queues');
    drained = await drainQueues(controls.get('n1')!, 30_000, log);
    log(drained ? 'queues drained' : 'the queues did not drain');
    consuming = false;
    await Promise.all(consumerWork);
    log('consumers stopped');
    observing = false;
    await observer;
    recorder.add({ type: 'phase', phase: 'end', timeMs: recorder.nowMs() });
  } finally {
    recorder.flush();
    for (const p of processes) p.client.close();
    for (const c of [...observers.values(), ...controls.values()]) c.close();
    nemesis.close();
    await cluster.stopAll();
    process.removeListener('exit', killAll);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    for (const s of logs.values()) s.end();
  }
  if (!options.keepData) rmSync(dataRoot, { recursive: true, force: true });
  return { historyPath, recorder, nodes: nodeIds, faults, drained };
}

async function waitWhole(
  clients: ReadonlyMap<string, ChaosClient>,
  size: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await clusterWhole(clients, size)) return;
    await sleep(250);
  }
  throw new Error(`the cluster was not whole (${size} members, one leader) within ${timeoutMs} ms`);
}

/** Unlimited deliveries: a message must never be dead-lettered for lost replies alone. */
async function setUpQueues(client: ChaosClient): Promise<void> {
  for (const queue of QUEUES) {
    for (let attempt = 0; ; attempt++) {
      const r = await client.call(['Q.CONFIG', queue, 'MAXDELIVERIES', 0, 'VISIBILITY', VISIBILITY_MS], 5000);
      if (r.kind === 'reply') break;
      if (attempt > 50) throw new Error(`Q.CONFIG ${queue} failed: ${JSON.stringify(r)}`);
      await sleep(200);
    }
  }
}

/**
 * Waits until every queue is empty (the consumers are still popping). A long run can leave a
 * big backlog, so there is no fixed deadline: it gives up only when the backlog has not shrunk
 * for `stallMs`.
 */
async function drainQueues(
  client: ChaosClient,
  stallMs: number,
  log: (line: string) => void,
): Promise<boolean> {
  let best = Number.POSITIVE_INFINITY;
  let progressAt = performance.now();
  let lastLogMs = 0;
  while (performance.now() - progressAt < stallMs) {
    let left = 0;
    const counts: string[] = [];
    for (const queue of QUEUES) {
      const r = await client.call(['Q.STATS', queue], 2000);
      if (r.kind !== 'reply') {
        left = -1;
        break;
      }
      // RESP2: a flat array of field, value, field, value...
      const flat = (r.value as unknown[]).map(String);
      const stats = new Map(flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1]]] : [])));
      const n = ['ready', 'inflight', 'delayed', 'dead'].reduce(
        (sum, k) => sum + Number(stats.get(k) ?? 0),
        0,
      );
      counts.push(`${queue}=${n}`);
      left += n;
    }
    if (left === 0) return true;
    if (left > 0 && left < best) {
      best = left;
      progressAt = performance.now();
    }
    if (performance.now() - lastLogMs > 5000) {
      lastLogMs = performance.now();
      log(`left to drain: ${left < 0 ? 'unknown (Q.STATS failed)' : counts.join(' ')}`);
    }
    await sleep(500);
  }
  return false;
}
