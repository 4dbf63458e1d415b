import t from 'tap';
import {
  call,
  clusterInfo,
  FAST_CLUSTER_ARGS,
  startTestCluster,
  waitForCluster,
  waitUntil,
} from '../helpers/cluster.js';

/**
 * Lost coherence messages must not wedge a key. The bus loses frames only when a link goes down
 * (or a frame cannot be queued); when the peer comes back before anyone marks it down, the
 * caches ask group 0 for a new epoch (`cache-reset`) and start over. Down-after is long here so
 * that nobody is marked down: without the reset, the restarted owner's key (and the key whose
 * request was refused during the partition) stayed in a transient state for good.
 */

const DOWN_AFTER_MS = 30_000;
const ARGS = [
  ...FAST_CLUSTER_ARGS.map((a, i) =>
    FAST_CLUSTER_ARGS[i - 1] === '--down-after-ms' ? String(DOWN_AFTER_MS) : a,
  ),
  '--enable-debug-command',
  'yes',
];

function toObject(flat: unknown): Record<string, unknown> {
  const a = flat as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = a[i + 1];
  return out;
}

t.test('a restarted owner and a short partition do not wedge keys', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: ARGS });
  await waitForCluster(cluster, 3);
  const port = (id: string) => cluster.node(id).port;
  const stats = async (id: string) => toObject(await call(port(id), 'CACHE.STATS'));
  const stateOf = async (id: string, key: string) => toObject(await call(port(id), 'CACHE.STATE', key));
  /** A key whose home is `home`, as n1 sees the ring. */
  const keyHomedAt = async (home: string, prefix: string) => {
    for (let i = 0; ; i++) {
      if ((await stateOf('n1', `${prefix}${i}`)).home === home) return `${prefix}${i}`;
    }
  };
  const setOn = (id: string, key: string, value: string) =>
    waitUntil(
      `CACHE.SET ${key} on ${id}`,
      async () => (await call(port(id), 'CACHE.SET', key, value)) === 'OK',
      20_000,
    );

  await setOn('n1', 'warm', 'x');

  // 1. n1 owns a line homed elsewhere, dies and is back before anyone could mark it down.
  const owned = await keyHomedAt('n2', 'owned');
  await setOn('n1', owned, 'v1');
  t.equal((await stateOf('n1', owned)).state, 'M', 'n1 holds the line in M');
  const epochBefore = Number((await stats('n2')).epoch);
  await cluster.kill('n1');
  await cluster.restart('n1');
  await setOn('n1', owned, 'v2');
  t.equal(await call(port('n2'), 'CACHE.GET', owned), 'v2', 'n2 reads the write made after the restart');
  t.equal(await call(port('n3'), 'CACHE.GET', owned), 'v2', 'n3 too');
  const afterRestart = await Promise.all(['n1', 'n2', 'n3'].map(stats));
  t.ok(
    afterRestart.every((s) => Number(s.epoch) > epochBefore),
    `every node moved past epoch ${epochBefore}: ${afterRestart.map((s) => s.epoch).join(', ')}`,
  );
  const requested = afterRestart.reduce((n, s) => n + Number(s.resets_requested), 0);
  t.ok(requested >= 1, `the peers asked for a new cache epoch (${requested} requests)`);
  t.equal((await clusterInfo(port('n2'))).cluster_members_down, '0', 'and nobody was marked down');

  // 2. A request refused while the n1–n2 link is cut: the key's home is n2.
  const cut = await keyHomedAt('n2', 'cut');
  const epochCut = Number((await stats('n1')).epoch);
  await call(port('n1'), 'DEBUG.PARTITION', 'n2');
  await call(port('n2'), 'DEBUG.PARTITION', 'n1');
  const refused = await call(port('n1'), 'CACHE.SET', cut, 'lost').catch((e: Error) => e.message);
  t.match(String(refused), /^TRYAGAIN/, `the write during the cut fails: ${String(refused).slice(0, 80)}`);
  await call(port('n1'), 'DEBUG.PARTITION');
  await call(port('n2'), 'DEBUG.PARTITION');
  await setOn('n1', cut, 'after');
  for (const id of ['n2', 'n3']) {
    t.equal(await call(port(id), 'CACHE.GET', cut), 'after', `${id} reads the write made after the heal`);
  }
  t.ok(Number((await stats('n1')).epoch) > epochCut, 'the cache started a new epoch');
  t.equal((await clusterInfo(port('n1'))).cluster_members_down, '0', 'nobody was marked down');
});
