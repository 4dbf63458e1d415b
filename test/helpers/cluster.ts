import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Test } from 'tap';
import { LocalCluster, type LocalClusterOptions } from '../../tools/local-cluster.js';
import { freePortRange } from './ports.js';

/** Flags that make a test cluster fail over and notice deaths quickly. */
export const FAST_CLUSTER_ARGS = [
  '--election-timeout-ms',
  '300',
  '--heartbeat-ms',
  '50',
  '--down-after-ms',
  '1500',
  '--partitions',
  '4',
  '--request-timeout-ms',
  '4000',
  '--cluster-secret',
  'test-secret-0123456789',
] as const;

/** Clusters started by this test process and not yet stopped. */
const live = new Set<LocalCluster>();

/**
 * When the test process dies before its teardown ran (tap's timeout sends SIGTERM), its nodes
 * would outlive it and keep their ports: kill them with it.
 */
function killLiveNodes(): void {
  for (const cluster of live) {
    for (const node of cluster.nodes) {
      const pid = cluster.pid(node.id);
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
process.once('exit', killLiveNodes);
process.once('SIGTERM', () => {
  killLiveNodes();
  process.exit(143);
});

/** A LocalCluster of real processes on free loopback ports, stopped and removed after the test. */
export async function startTestCluster(
  t: Test,
  options: Omit<LocalClusterOptions, 'basePort' | 'baseHttpPort' | 'dataRoot'>,
): Promise<LocalCluster> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
  const basePort = await freePortRange(options.size);
  const baseHttpPort = await freePortRange(options.size);
  const logs: string[] = [];
  const cluster = new LocalCluster({
    ...options,
    basePort,
    baseHttpPort,
    dataRoot,
    onLog: (id, line) => {
      logs.push(`${id} ${line}`);
      if (logs.length > 5000) logs.splice(0, 1000);
      options.onLog?.(id, line);
    },
  });
  live.add(cluster);
  t.teardown(async () => {
    await cluster.stopAll();
    live.delete(cluster);
    if (t.passing()) rmSync(dataRoot, { recursive: true, force: true });
    else t.comment(`kept ${dataRoot}; last log lines:\n${logs.slice(-60).join('\n')}`);
  });
  await cluster.start();
  return cluster;
}

/** A client that never retries on its own: the tests decide. */
export function client(port: number, timeoutMs = 5000): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: timeoutMs,
    lazyConnect: false,
    enableOfflineQueue: true,
  });
  c.on('error', () => {});
  return c;
}

/** Runs one command on a fresh connection and closes it. */
export async function call(port: number, ...args: (string | number)[]): Promise<unknown> {
  const c = client(port);
  try {
    return await c.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    c.disconnect();
  }
}

/** `field:value` lines (INFO, CLUSTER.INFO, RAFT.INFO) as an object. */
export function fields(text: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function raftInfo(port: number, group = 0): Promise<Record<string, string>> {
  return fields(await call(port, 'RAFT.INFO', group));
}

export async function clusterInfo(port: number): Promise<Record<string, string>> {
  return fields(await call(port, 'CLUSTER.INFO'));
}

/** Polls `check` until it returns true (errors count as false); throws with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
}

/** Every running node reports the cluster ok with `size` members and agrees on the meta leader. */
export async function waitForCluster(
  cluster: LocalCluster,
  size: number,
  timeoutMs = 30_000,
): Promise<string> {
  let leader = '';
  await waitUntil(
    `a healthy cluster of ${size}`,
    async () => {
      const infos = await Promise.all(cluster.running().map((id) => clusterInfo(cluster.node(id).port)));
      leader = infos[0]?.meta_leader ?? '';
      return infos.every(
        (i) => i.cluster_state === 'ok' && Number(i.cluster_size) === size && i.meta_leader === leader,
      );
    },
    timeoutMs,
  );
  return leader;
}
