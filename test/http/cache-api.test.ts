import t from 'tap';
import { FAST_CLUSTER_ARGS, startTestCluster, waitForCluster } from '../helpers/cluster.js';
import { api } from './helpers.js';

/**
 * The cache endpoints of the seed walk-through on a 3-node cluster: POST /cache/write maps to
 * CACHE.SET, GET /cache/read to CACHE.GET plus CACHE.STATE (this node's line after the read).
 * Kept apart from the other API tests because the cache service is newer than them.
 */
t.test('cache endpoints on a 3-node cluster', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const http = (id: string) => cluster.node(id).httpPort;

  t.test('write on n1, read on n3: the value, shared', async (t) => {
    t.same((await api(http('n1'), 'POST', '/cache/write', { key: 'temperature', value: 25 })).body, {
      ok: true,
    });
    const mine = await api(http('n1'), 'GET', '/cache/read?key=temperature');
    t.match(
      mine.body,
      { ok: true, value: 25, state: /^[ME]$/, home: /^n[123]$/ },
      'the writer holds it exclusively',
    );
    const read = await api(http('n3'), 'GET', '/cache/read?key=temperature');
    t.equal(read.status, 200);
    t.match(read.body, { ok: true, value: 25, state: /^[SO]$/, home: mine.body.home });
    const again = await api(http('n1'), 'GET', '/cache/read?key=temperature');
    t.match(again.body, { ok: true, value: 25, state: /^[SO]$/ }, 'the writer was demoted by the read');
  });

  t.test('a newer write through n2 is what n3 reads next', async (t) => {
    await api(http('n2'), 'POST', '/cache/write', { key: 'temperature', value: { celsius: 26.5 } });
    const read = await api(http('n3'), 'GET', '/cache/read?key=temperature');
    t.match(read.body, { ok: true, value: { celsius: 26.5 } });
  });

  t.test('a key never written', async (t) => {
    const r = await api(http('n2'), 'GET', '/cache/read?key=never-written');
    t.equal(r.status, 200);
    t.match(r.body, { ok: false, reason: 'not_found', state: String, home: String });
  });

  t.test('bad bodies', async (t) => {
    const r = await api(http('n1'), 'POST', '/cache/write', { key: 'k' });
    t.equal(r.status, 400);
    t.match(r.body.error, /body must have the field 'value'/);
  });
});
