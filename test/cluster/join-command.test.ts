import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { LocalCluster } from '../../tools/local-cluster.js';
import { call, clusterInfo, waitUntil } from '../helpers/cluster.js';
import { freePortRange } from '../helpers/ports.js';

/** CLUSTER.JOIN: a node alone in a cluster of its own joins another; refusals change nothing. */
t.test('CLUSTER.JOIN moves a lone node into another cluster', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lockstep-join-'));
  const clusters = await Promise.all(
    ['a', 'b'].map(async (name) => {
      const basePort = await freePortRange(1);
      return new LocalCluster({
        size: 1,
        basePort,
        baseHttpPort: await freePortRange(1),
        dataRoot: join(root, name),
        extraArgs: name === 'b' ? ['--id', 'n7'] : [],
      });
    }),
  );
  t.teardown(async () => {
    await Promise.all(clusters.map((c) => c.stopAll()));
    rmSync(root, { recursive: true, force: true });
  });
  await Promise.all(clusters.map((c) => c.start()));
  const [a, b] = clusters.map((c) => c.nodes[0]!.port) as [number, number];
  await waitUntil(
    'both founded',
    async () =>
      (await clusterInfo(b)).cluster_state === 'ok' && (await clusterInfo(a)).cluster_state === 'ok',
  );

  t.match(
    String(await call(b, 'CLUSTER.JOIN', '127.0.0.1:1').catch((e: Error) => e.message)),
    /nothing changed/,
    'an unreachable seed is refused before anything is given up',
  );
  t.equal((await clusterInfo(b)).cluster_size, '1', 'still its own cluster');
  await call(b, 'LOCK.ACQUIRE', 'kept', 'OWNER', 'o');
  t.match(
    String(await call(b, 'CLUSTER.JOIN', `127.0.0.1:${a}`).catch((e: Error) => e.message)),
    /holds 1 locks/,
  );
  await call(b, 'LOCK.RELEASE', 'kept', 'OWNER', 'o');

  t.equal(await call(b, 'CLUSTER.JOIN', `127.0.0.1:${a}`), 'OK');
  await waitUntil(
    'a cluster of two',
    async () => (await clusterInfo(a)).cluster_size === '2' && (await clusterInfo(b)).cluster_state === 'ok',
  );
  t.match(String(await call(a, 'CLUSTER.NODES')), /^n7 /m, 'n7 is a member of the first cluster');
  t.ok(Number(await call(b, 'RAFT.NOOP')) > 0, 'and writes through it commit');
  t.match(
    String(await call(b, 'CLUSTER.JOIN', `127.0.0.1:${a}`).catch((e: Error) => e.message)),
    /CLUSTER.LEAVE it first/,
  );
});
