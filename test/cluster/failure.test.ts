import t from 'tap';
import {
  call,
  clusterInfo,
  FAST_CLUSTER_ARGS,
  raftInfo,
  startTestCluster,
  waitForCluster,
  waitUntil,
} from '../helpers/cluster.js';

/**
 * Failure detection and reassignment (issue 5): a killed node is marked down after
 * --down-after-ms, evicted after --reassign-after-ms, and the partitions it held get a replica
 * elsewhere; when it comes back it is up again. Also RAFT.TRANSFER.
 */
t.test('a dead node is marked down, evicted, and its replicas re-created elsewhere', async (t) => {
  const cluster = await startTestCluster(t, {
    size: 4,
    extraArgs: [...FAST_CLUSTER_ARGS, '--reassign-after-ms', '2000'],
  });
  const port = (id: string) => cluster.node(id).port;
  await waitForCluster(cluster, 4, 40_000);
  // Until the last joiner is promoted, killing a voter may leave group 0 without a quorum.
  await waitUntil(
    'group 0 has four voters',
    async () => (await raftInfo(port('n1'))).voters?.split(',').length === 4,
  );

  // RAFT.TRANSFER: hand group 0 to another voter, from any node.
  const leader = (await raftInfo(port('n1'))).leader_id!;
  const voters = (await raftInfo(port(leader))).voters!.split(',');
  const target = voters.find((id) => id !== leader)!;
  t.equal(await call(port('n4'), 'RAFT.TRANSFER', 0, target), 'OK', `RAFT.TRANSFER 0 ${target} through n4`);
  await waitUntil(`${target} leads group 0`, async () => (await raftInfo(port('n1'))).leader_id === target);
  t.pass(`group 0 moved from ${leader} to ${target}`);

  // Which partitions have a replica on the victim (not the meta leader, to keep the test about detection).
  const victim = ['n1', 'n2', 'n3', 'n4'].find((id) => id !== target)!;
  const survivors = ['n1', 'n2', 'n3', 'n4'].filter((id) => id !== victim);
  const nodesLine = async () =>
    String(await call(port(survivors[0]!), 'CLUSTER.NODES'))
      .split('\n')
      .find((l) => l.startsWith(`${victim} `)) ?? '';
  const before = (await nodesLine()).split(' ')[5] ?? '-';
  t.ok(before !== '-', `${victim} holds replicas of groups ${before}`);

  await cluster.kill(victim);
  await waitUntil(`${victim} marked down`, async () => (await nodesLine()).includes(' down '), 10_000);
  t.pass(`${victim} is marked down`);
  await waitUntil(`${victim} evicted`, async () => (await nodesLine()).includes(' evicted '), 15_000);
  t.pass(`${victim} is evicted after reassign-after-ms`);
  await waitUntil(
    'its partitions re-created on the others',
    async () => {
      const groups = (await nodesLine()).split(' ')[5];
      if (groups !== '-' && groups !== '0') return false;
      for (let g = 1; g <= 4; g++) {
        let voters = '';
        for (const id of survivors) {
          const info = await raftInfo(port(id), g).catch(() => undefined);
          if (info?.role === 'leader') voters = info.voters!;
        }
        if (voters.split(',').length !== 3 || voters.includes(victim)) return false;
      }
      return true;
    },
    30_000,
  );
  t.pass('every partition has three replicas, none on the dead node');
  t.ok(Number(await call(port(survivors[1]!), 'RAFT.NOOP', 1)) > 0, 'partition 1 commits');

  await cluster.restart(victim);
  await waitUntil(`${victim} up again`, async () => (await nodesLine()).includes(' up '), 15_000);
  t.equal((await clusterInfo(port(victim))).cluster_state, 'ok', `${victim} is back in the cluster`);
});
