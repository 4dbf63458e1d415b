import t from 'tap';
import { call, client, FAST_CLUSTER_ARGS, startTestCluster, waitForCluster } from '../helpers/cluster.js';

/**
 * Q.* through real clients on a 3-node cluster (issue 7, acceptance 1 and 2): the seed
 * walk-through, redelivery and dead letters, blocking pops woken by a push on another node,
 * DEDUP, MAXLEN, DELAY, NACK, EXTEND, and nothing lost across a kill -9 of every node.
 */
t.test('queues on a 3-node cluster', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const q = (id: string, ...args: (string | number)[]) => call(cluster.node(id).port, ...args);

  t.test('seed walk-through: push on n2, pop on n3, ack; n2 stops, n1 carries on', async (t) => {
    const order = JSON.stringify({ order_id: 1, item: 'book' });
    const id = String(await q('n2', 'Q.PUSH', 'orders', order));
    t.match(id, /^\d+-0$/, `pushed as ${id}`);
    const popped = (await q('n3', 'Q.POP', 'orders')) as [string, string, number];
    t.same(popped, [id, order, 1], 'n3 pops what n2 pushed: id, payload, deliveries');
    t.equal(await q('n3', 'Q.ACK', 'orders', id), 1, 'acked');
    t.equal(await q('n1', 'Q.LEN', 'orders'), 0);
    t.equal(await q('n1', 'Q.POP', 'orders'), null, 'empty: nil');

    await cluster.stop('n2');
    const second = String(await q('n1', 'Q.PUSH', 'orders', 'after-n2-stopped'));
    const back = (await q('n1', 'Q.POP', 'orders')) as [string, string, number];
    t.same(back, [second, 'after-n2-stopped', 1], 'push and pop through n1 with n2 down');
    t.equal(await q('n3', 'Q.ACK', 'orders', second), 1);
    await cluster.restart('n2');
    await waitForCluster(cluster, 3);
  });

  t.test('at-least-once: an unacked message comes back, then goes to the dead letters', async (t) => {
    t.same(await q('n1', 'Q.CONFIG', 'jobs', 'MAXDELIVERIES', 2, 'VISIBILITY', 300), [
      'maxdeliveries',
      2,
      'visibility-ms',
      300,
      'maxlen',
      0,
    ]);
    const id = String(await q('n1', 'Q.PUSH', 'jobs', 'job-1'));
    // A consumer pops and dies without acking.
    const consumer = client(cluster.node('n2').port);
    const first = (await consumer.call('Q.POP', 'jobs')) as [string, string, number];
    consumer.disconnect();
    t.same(first, [id, 'job-1', 1]);
    t.equal(await q('n3', 'Q.POP', 'jobs'), null, 'invisible while leased');
    const again = (await q('n3', 'Q.POP', 'jobs', 'BLOCK', 3000)) as [string, string, number];
    t.same(again, [id, 'job-1', 2], 'redelivered after the visibility timeout with delivery count 2');
    const dead = (await waitFor(async () => {
      const d = (await q('n1', 'Q.DEAD', 'jobs')) as unknown[];
      return d.length > 0 ? d : undefined;
    })) as [string, string, number][];
    t.same(dead, [[id, 'job-1', 2]], 'after MAXDELIVERIES it is a dead letter');
    const stats = toObject(await q('n2', 'Q.STATS', 'jobs'));
    t.match(stats, { ready: 0, inflight: 0, dead: 1, pushed: 1, redelivered: 1, deadlettered: 1 });

    t.equal(await q('n3', 'Q.REDRIVE', 'jobs'), 1, 'Q.REDRIVE puts the dead letter back');
    const redriven = (await q('n1', 'Q.POP', 'jobs')) as [string, string, number];
    t.same(redriven, [id, 'job-1', 1], 'ready again, its delivery count starting over');
    t.equal(await q('n1', 'Q.ACK', 'jobs', id), 1);
  });

  t.test('a blocked pop on n1 wakes on a push through n3', async (t) => {
    const started = Date.now();
    const blocked = q('n1', 'Q.POP', 'wake', 'BLOCK', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const id = String(await q('n3', 'Q.PUSH', 'wake', 'hello'));
    const got = (await blocked) as [string, string, number];
    t.same(got, [id, 'hello', 1]);
    t.ok(Date.now() - started < 5000, `woken in ${Date.now() - started} ms, not at the timeout`);
    t.equal(await q('n2', 'Q.POP', 'wake', 'BLOCK', 200), null, 'BLOCK times out with nil');
  });

  t.test('FIFO, COUNT, DEDUP, MAXLEN, DELAY, NACK, EXTEND, PEEK', async (t) => {
    const ids = (await q('n2', 'Q.PUSH', 'fifo', 'a', 'b', 'c')) as string[];
    t.equal(ids.length, 3);
    t.same(await q('n1', 'Q.PEEK', 'fifo', 'COUNT', 2), [
      [ids[0], 'a', 0],
      [ids[1], 'b', 0],
    ]);
    const popped = (await q('n3', 'Q.POP', 'fifo', 'COUNT', 5)) as [string, string, number][];
    t.same(
      popped.map((m) => m[1]),
      ['a', 'b', 'c'],
      'FIFO',
    );
    t.equal(await q('n1', 'Q.ACK', 'fifo', ...ids, '99999-0'), 3, 'unknown ids count 0');

    const d1 = await q('n1', 'Q.PUSH', 'dd', 'x', 'DEDUP', 'k1');
    const d2 = await q('n2', 'Q.PUSH', 'dd', 'x', 'DEDUP', 'k1');
    t.equal(d2, d1, 'a duplicate push replies the first id');
    t.equal(await q('n3', 'Q.LEN', 'dd'), 1, 'and pushes nothing');

    await q('n1', 'Q.CONFIG', 'small', 'MAXLEN', 2);
    await q('n1', 'Q.PUSH', 'small', 'one', 'two');
    await t.rejects(q('n2', 'Q.PUSH', 'small', 'three'), /^LIMIT queue 'small' is at MAXLEN 2/);

    await q('n1', 'Q.PUSH', 'later', 'soon', 'DELAY', 400);
    t.equal(await q('n2', 'Q.POP', 'later'), null, 'delayed: not yet visible');
    const late = (await q('n2', 'Q.POP', 'later', 'BLOCK', 3000)) as [string, string, number];
    t.equal(late[1], 'soon', 'visible after the delay');

    t.equal(await q('n3', 'Q.NACK', 'later', late[0]), 1, 'nack');
    const renack = (await q('n3', 'Q.POP', 'later', 'VISIBILITY', 200)) as [string, string, number];
    t.same(renack, [late[0], 'soon', 2], 'a nacked message is ready again with deliveries 2');
    t.equal(await q('n1', 'Q.EXTEND', 'later', late[0], 60_000), 1, 'extended');
    await new Promise((r) => setTimeout(r, 500));
    t.equal(await q('n1', 'Q.POP', 'later'), null, 'still leased after its first visibility');
    await t.rejects(q('n1', 'Q.ACK', 'later', 'not-an-id'), /^ERR/, 'bad ids are refused');
    await t.rejects(q('n1', 'Q.POP', 'later', 'COUNT', 0), /^ERR/);
  });

  t.test('kill -9 of every node loses no acknowledged push', async (t) => {
    const pushed: string[] = [];
    for (let i = 0; i < 50; i++)
      pushed.push(String(await q(`n${(i % 3) + 1}`, 'Q.PUSH', 'durable', `m${i}`)));
    for (const id of ['n1', 'n2', 'n3']) await cluster.kill(id);
    for (const id of ['n1', 'n2', 'n3']) await cluster.restart(id);
    await waitForCluster(cluster, 3);
    t.equal(await q('n2', 'Q.LEN', 'durable'), 50, 'all 50 still there');
    const all = (await q('n3', 'Q.POP', 'durable', 'COUNT', 100)) as [string, string, number][];
    t.same(
      all.map((m) => m[0]),
      pushed,
      'in push order, with their ids',
    );
  });
});

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

function toObject(flat: unknown): Record<string, unknown> {
  const a = flat as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = a[i + 1];
  return out;
}
