import t from 'tap';
import { FAST_CLUSTER_ARGS, startTestCluster, waitForCluster, waitUntil } from '../helpers/cluster.js';
import { api } from './helpers.js';

/**
 * The seed walk-through (/work/shared/seeds/003) against real processes, each node on its own
 * HTTP port as under `npm start`: health of every node, a lock taken on one node and refused
 * on another, a push on one node popped on another, /metrics on every node, and the status
 * page's data when a node dies.
 */
t.test('the HTTP API on a 3-node cluster', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const http = (id: string) => cluster.node(id).httpPort;

  t.test('GET /health on every node', async (t) => {
    for (const id of ['n1', 'n2', 'n3']) {
      const r = await api(http(id), 'GET', '/health');
      t.equal(r.status, 200);
      t.match(r.body, { status: 'ok', node: id, members: 3, members_up: 3 });
    }
  });

  t.test('a lock taken through n1 is refused through n2, and free again after the release', async (t) => {
    const body = (owner: string) => ({ name: 'resource1', mode: 'exclusive', owner });
    const a = await api(http('n1'), 'POST', '/lock/acquire', body('clientA'));
    t.match(a.body, { ok: true, token: Number });
    t.same((await api(http('n2'), 'POST', '/lock/acquire', body('clientB'))).body, {
      ok: false,
      reason: 'locked',
    });
    t.same((await api(http('n1'), 'POST', '/lock/release', body('clientA'))).body, { ok: true });
    const b = await api(http('n2'), 'POST', '/lock/acquire', body('clientB'));
    t.ok(b.body.ok && b.body.token > a.body.token, 'n2 gets it with a higher fencing token');
    await api(http('n2'), 'POST', '/lock/release', body('clientB'));
  });

  t.test('a message pushed through n2 is popped through n3', async (t) => {
    const pushed = await api(http('n2'), 'POST', '/queue/push', {
      queue: 'orders',
      payload: { order_id: 1, item: 'book' },
    });
    t.match(pushed.body, { ok: true, id: String });
    const popped = await api(http('n3'), 'POST', '/queue/pop', { queue: 'orders', payload: {} });
    t.match(popped.body, { ok: true, item: { order_id: 1, item: 'book' }, deliveries: 1 });
    t.same((await api(http('n1'), 'POST', '/queue/ack', { queue: 'orders', id: popped.body.id })).body, {
      ok: true,
      acked: 1,
    });
  });

  t.test('every node serves its metrics', async (t) => {
    for (const id of ['n1', 'n2', 'n3']) {
      const r = await api(http(id), 'GET', '/metrics');
      t.equal(r.status, 200);
      t.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
      t.match(r.body, new RegExp(`^lockstep_build_info\\{node="${id}",`, 'm'));
      t.match(r.body, /^lockstep_raft_term\{group="0"\} \d+$/m);
    }
  });

  t.test('the status JSON shows every node by its own view, and a dead one as unreachable', async (t) => {
    const status = await api(http('n1'), 'GET', '/status.json');
    t.equal(status.status, 200);
    t.same(
      status.body.nodes.map((n: { id: string; reachable: boolean; state: string }) => [
        n.id,
        n.reachable,
        n.state,
      ]),
      [
        ['n1', true, 'up'],
        ['n2', true, 'up'],
        ['n3', true, 'up'],
      ],
    );
    t.equal(
      status.body.nodes.filter((n: { metaRole: string }) => n.metaRole === 'leader').length,
      1,
      'one meta leader',
    );
    t.ok(
      status.body.groups.every((g: { leader: string }) => g.leader !== ''),
      'every group has a leader',
    );
    t.equal(status.body.ring.nodes.length, 3);

    await cluster.kill('n3');
    const after = await api(http('n1'), 'GET', '/status.json');
    const n3 = after.body.nodes.find((n: { id: string }) => n.id === 'n3');
    t.match(n3, { reachable: false, error: /ECONNREFUSED|no answer/ }, 'n3 is unreachable at once');
    await waitUntil('n3 marked down', async () => {
      const r = await api(http('n2'), 'GET', '/status.json');
      return r.body.nodes.find((n: { id: string }) => n.id === 'n3')?.state === 'down';
    });
    const health = await api(http('n1'), 'GET', '/health');
    t.match(health.body, { status: 'ok', members: 3, members_up: 2 }, 'two of three keep the cluster ok');
  });
});
