import t from 'tap';
import { checkLinearizable, type Operation } from '../../tools/chaos/linearizability.js';
import { client, FAST_CLUSTER_ARGS, startTestCluster, waitForCluster } from '../helpers/cluster.js';

/**
 * Issue 8, acceptance 3: concurrent CACHE.GET/CACHE.SET from clients on every node, on a few
 * keys, recorded with invoke and return times and checked per key by the WGL checker — once on
 * a healthy cluster and once while a node is killed -9.
 *
 * A write that got an error has an unknown outcome (return time null: it may have taken effect
 * at any later point, or never); a read that got an error is left out. When the killed node is
 * marked down the ring changes and every cache empties (documented: the values are lost), which
 * the history models as a write of nil to every key by the system, at an unknown time after
 * the kill.
 */

const CLIENTS_PER_NODE = 2;

async function workload(
  keys: readonly string[],
  ports: ReadonlyMap<string, number>,
  history: Operation[],
  until: () => boolean,
  seed: number,
): Promise<void> {
  let rnd = seed;
  const random = () => {
    rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
    return rnd / 2 ** 31;
  };
  const run = async (node: string, port: number, c: number) => {
    const name = `${node}c${c}`;
    const conn = client(port, 3000);
    let n = 0;
    try {
      while (!until()) {
        const key = keys[Math.floor(random() * keys.length)]!;
        const write = random() < 0.4;
        const invokeMs = performance.now();
        if (write) {
          const value = `${name}-${n++}`;
          try {
            await conn.call('CACHE.SET', key, value);
            history.push({ key, kind: 'write', value, invokeMs, returnMs: performance.now(), client: name });
          } catch {
            history.push({ key, kind: 'write', value, invokeMs, returnMs: null, client: name });
            if (conn.status !== 'ready') return;
          }
        } else {
          try {
            const value = (await conn.call('CACHE.GET', key)) as string | null;
            history.push({ key, kind: 'read', value, invokeMs, returnMs: performance.now(), client: name });
          } catch {
            if (conn.status !== 'ready') return;
          }
        }
      }
    } finally {
      conn.disconnect();
    }
  };
  const runs: Promise<void>[] = [];
  for (const [node, port] of ports) {
    for (let c = 0; c < CLIENTS_PER_NODE; c++) runs.push(run(node, port, c));
  }
  await Promise.all(runs);
}

function summary(history: readonly Operation[]): string {
  const reads = history.filter((o) => o.kind === 'read').length;
  const writes = history.filter((o) => o.kind === 'write' && o.returnMs !== null).length;
  const unknown = history.filter((o) => o.returnMs === null).length;
  return `${reads} reads, ${writes} writes, ${unknown} with unknown outcome`;
}

t.test('CACHE.GET/SET histories are linearizable per key', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const ports = new Map(['n1', 'n2', 'n3'].map((id) => [id, cluster.node(id).port]));

  const healthy: Operation[] = [];
  const healthyEnd = Date.now() + 3000;
  await workload(['k0', 'k1', 'k2', 'k3'], ports, healthy, () => Date.now() > healthyEnd, 7);
  // A failing history is shrunk only when short: shrinking a long one could outlast the test.
  const ok = checkLinearizable(healthy, { minimizeUpTo: 60 });
  t.ok(ok.ok, `healthy cluster: ${summary(healthy)}`);
  if (!ok.ok) t.comment(ok.description);
  t.ok(healthy.filter((o) => o.returnMs !== null).length > 300, 'enough operations to mean something');

  // Again, and kill -9 n3 a second in. Its clients lose their connections and stop.
  const faulty: Operation[] = [];
  const faultyEnd = Date.now() + 7000;
  // Fresh keys: nil before this phase, as the checker assumes.
  const keys = ['f0', 'f1', 'f2', 'f3'];
  const running = workload(keys, ports, faulty, () => Date.now() > faultyEnd, 11);
  await new Promise((r) => setTimeout(r, 1000));
  const killedAt = performance.now();
  await cluster.kill('n3');
  await running;
  for (const key of keys)
    faulty.push({ key, kind: 'write', value: null, invokeMs: killedAt, returnMs: null, client: 'flush' });
  const afterKill = faulty.filter((o) => o.invokeMs > killedAt + 3000 && o.returnMs !== null).length;
  const result = checkLinearizable(faulty, { initial: null, minimizeUpTo: 60 });
  t.ok(result.ok, `with n3 killed: ${summary(faulty)}, ${afterKill} completed 3 s after the kill`);
  if (!result.ok) t.comment(result.description);
  t.ok(afterKill > 50, 'the survivors serve the cache again once n3 is marked down');
});
