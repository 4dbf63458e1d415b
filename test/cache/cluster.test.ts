import t from 'tap';
import { call, FAST_CLUSTER_ARGS, startTestCluster, waitForCluster } from '../helpers/cluster.js';

/**
 * CACHE.* on a 3-node cluster (issue 8, acceptance 1): the seed walk-through with the states
 * CACHE.STATE shows at each step, under MESI and under MOESI.
 */

type Flat = unknown[];

function toObject(flat: unknown): Record<string, unknown> {
  const a = flat as Flat;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = a[i + 1];
  return out;
}

for (const protocol of ['mesi', 'moesi'] as const) {
  t.test(`seed walk-through under ${protocol.toUpperCase()}`, async (t) => {
    const cluster = await startTestCluster(t, {
      size: 3,
      extraArgs: [...FAST_CLUSTER_ARGS, '--cache-protocol', protocol],
    });
    await waitForCluster(cluster, 3);
    const c = (id: string, ...args: (string | number)[]) => call(cluster.node(id).port, ...args);
    const state = async (id: string, key: string) => toObject(await c(id, 'CACHE.STATE', key));
    const states = async (key: string) => {
      const out: string[] = [];
      for (const id of ['n1', 'n2', 'n3']) out.push(`${id}:${(await state(id, key)).state}`);
      return out.join(' ');
    };

    // Write on node 1: node 1 holds the line in M.
    t.equal(await c('n1', 'CACHE.SET', 'temperature', '25'), 'OK');
    t.equal(await states('temperature'), 'n1:M n2:I n3:I', 'after the write on n1: n1 M');
    const home = String((await state('n1', 'temperature')).home);
    t.comment(`home of 'temperature' is ${home}`);
    const dir = toObject((await state(home, 'temperature')).directory);
    t.match(dir, { state: 'EM', owner: 'n1' }, "the home's directory names n1 as owner");

    // Read on node 3: n3 gets 25 in S; n1 goes to S (MESI, after writing back) or O (MOESI).
    t.equal(await c('n3', 'CACHE.GET', 'temperature'), '25', 'n3 reads the value written on n1');
    const afterRead = protocol === 'mesi' ? 'n1:S n2:I n3:S' : 'n1:O n2:I n3:S';
    t.equal(await states('temperature'), afterRead, `after the read on n3: ${afterRead}`);
    const dirAfterRead = toObject((await state(home, 'temperature')).directory);
    if (protocol === 'mesi') {
      t.equal(dirAfterRead.memory, '25', 'MESI: the home got the value written back');
      t.same(dirAfterRead.sharers, ['n1', 'n3']);
    } else {
      t.match(dirAfterRead, { state: 'O', owner: 'n1' }, 'MOESI: n1 owns the dirty line, no writeback');
    }

    // Write on node 2: nodes 1 and 3 are invalidated, node 2 holds M.
    t.equal(await c('n2', 'CACHE.SET', 'temperature', '26'), 'OK');
    t.equal(await states('temperature'), 'n1:I n2:M n3:I', 'after the write on n2: n2 M, others I');
    t.equal(await c('n1', 'CACHE.GET', 'temperature'), '26', 'a read on n1 sees the new value');
    t.equal(await c('n3', 'CACHE.GET', 'missing'), null, 'a key never written reads nil');

    // A read hit in S, E, M or O is local: no coherence message for it.
    const before = toObject(await c('n1', 'CACHE.STATS'));
    for (let i = 0; i < 20; i++) await c('n1', 'CACHE.GET', 'temperature');
    const after = toObject(await c('n1', 'CACHE.STATS'));
    t.equal(Number(after.hits) - Number(before.hits), 20, '20 local hits');
    t.equal(after.messages_sent, before.messages_sent, 'and not one message sent for them');
    // n1 lost its copy to n2's write: an Inv (MESI: it was a sharer) or a FwdGetM (MOESI: it owned it in O).
    t.equal(
      Number(after[protocol === 'mesi' ? 'invalidations_received' : 'forwards_received']) >= 1,
      true,
      'n1 gave its copy up for the write on n2',
    );

    t.equal(await c('n3', 'CACHE.DEL', 'temperature'), 'OK');
    t.equal(await c('n1', 'CACHE.GET', 'temperature'), null, 'deleted everywhere');

    // A node that is the key's home answers its own misses at once (the request completes
    // while it is being sent, so the wait must be registered before).
    for (const id of ['n1', 'n2', 'n3']) {
      let key = '';
      for (let i = 0; key === ''; i++) {
        if ((await state(id, `own${i}`)).home === id) key = `own${i}`;
      }
      const started = Date.now();
      t.equal(await c(id, 'CACHE.SET', key, 'v'), 'OK', `${id} writes ${key}, homed on itself`);
      t.equal(await c(id, 'CACHE.GET', key), 'v');
      t.ok(Date.now() - started < 1000, `in ${Date.now() - started} ms, not at a timeout`);
    }
  });
}
