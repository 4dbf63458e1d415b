import t from 'tap';
import {
  call,
  client,
  FAST_CLUSTER_ARGS,
  startTestCluster,
  waitForCluster,
  waitUntil,
} from '../helpers/cluster.js';

/**
 * LOCK.* through real clients on a 3-node cluster (issue 6, acceptance 1 and 2): the seed
 * walk-through, shared readers and a waiting writer, deadlocks of 2 and 3 owners across nodes,
 * a waiter that disconnects, and fencing tokens that only go up across a failover.
 */
t.test('locks on a 3-node cluster', async (t) => {
  const cluster = await startTestCluster(t, { size: 3, extraArgs: FAST_CLUSTER_ARGS });
  await waitForCluster(cluster, 3);
  const port = (id: string) => cluster.node(id).port;
  const lock = (id: string, ...args: (string | number)[]) => call(port(id), ...args);

  t.test('seed walk-through: A holds resource1 on n1, B on n2 is refused, then gets it', async (t) => {
    const token = Number(
      await lock('n1', 'LOCK.ACQUIRE', 'resource1', 'EXCLUSIVE', 'OWNER', 'clientA', 'TTL', 30000),
    );
    t.ok(token > 0, `clientA granted with token ${token}`);
    t.equal(await lock('n2', 'LOCK.ACQUIRE', 'resource1', 'OWNER', 'clientB'), null, 'clientB refused (nil)');
    t.equal(
      await lock('n2', 'LOCK.RELEASE', 'resource1', 'OWNER', 'clientB'),
      0,
      'clientB cannot release it',
    );
    t.equal(
      await lock('n1', 'LOCK.RELEASE', 'resource1', 'OWNER', 'clientA', 'TOKEN', token),
      1,
      'clientA releases',
    );
    const next = Number(await lock('n2', 'LOCK.ACQUIRE', 'resource1', 'OWNER', 'clientB'));
    t.ok(next > token, `clientB granted with a higher token ${next}`);
    t.equal(await lock('n3', 'LOCK.RELEASE', 'resource1', 'OWNER', 'clientB'), 1);
  });

  t.test('shared readers coexist; an exclusive waiter gets the lock when they release', async (t) => {
    t.ok(Number(await lock('n1', 'LOCK.ACQUIRE', 'doc', 'SHARED', 'OWNER', 'r1')) > 0);
    t.ok(Number(await lock('n2', 'LOCK.ACQUIRE', 'doc', 'SHARED', 'OWNER', 'r2')) > 0);
    const writer = lock('n3', 'LOCK.ACQUIRE', 'doc', 'EXCLUSIVE', 'OWNER', 'w', 'WAIT', 5000);
    await waitUntil('the writer queues', async () => {
      const status = (await lock('n1', 'LOCK.STATUS', 'doc')) as unknown[];
      return JSON.stringify(status).includes('"w"');
    });
    t.equal(
      await lock('n2', 'LOCK.ACQUIRE', 'doc', 'SHARED', 'OWNER', 'r3'),
      null,
      'a new reader queues behind the writer (FIFO)',
    );
    await lock('n1', 'LOCK.RELEASE', 'doc', 'OWNER', 'r1');
    await lock('n2', 'LOCK.RELEASE', 'doc', 'OWNER', 'r2');
    t.ok(Number(await writer) > 0, 'the writer is granted once both readers released');
    await lock('n3', 'LOCK.RELEASE', 'doc', 'OWNER', 'w');
  });

  t.test('a deadlock of two owners across nodes is reported to exactly one', async (t) => {
    await lock('n1', 'LOCK.ACQUIRE', 'a', 'OWNER', 'P');
    await lock('n2', 'LOCK.ACQUIRE', 'b', 'OWNER', 'Q');
    const first = lock('n1', 'LOCK.ACQUIRE', 'b', 'OWNER', 'P', 'WAIT', 5000).catch((e: Error) => e);
    await waitUntil('P waits for b', async () =>
      JSON.stringify(await lock('n3', 'LOCK.STATUS', 'b')).includes('"P"'),
    );
    const second = await lock('n2', 'LOCK.ACQUIRE', 'a', 'OWNER', 'Q', 'WAIT', 5000).catch((e: Error) => e);
    t.match(
      String(second),
      /DEADLOCK .*Q -> P -> Q/,
      'the request closing the cycle gets -DEADLOCK naming it',
    );
    await lock('n2', 'LOCK.RELEASE', 'b', 'OWNER', 'Q');
    t.ok(Number(await first) > 0, 'the other keeps waiting and gets the lock');
    await lock('n1', 'LOCK.RELEASE', 'a', 'OWNER', 'P');
    await lock('n1', 'LOCK.RELEASE', 'b', 'OWNER', 'P');
  });

  t.test('a deadlock of three owners across nodes is reported to exactly one', async (t) => {
    const owners = ['X', 'Y', 'Z'];
    const nodes = ['n1', 'n2', 'n3'];
    for (let i = 0; i < 3; i++) await lock(nodes[i]!, 'LOCK.ACQUIRE', `l${i}`, 'OWNER', owners[i]!);
    const waits = [0, 1].map((i) =>
      lock(nodes[i]!, 'LOCK.ACQUIRE', `l${i + 1}`, 'OWNER', owners[i]!, 'WAIT', 5000).catch((e: Error) => e),
    );
    await waitUntil('X and Y wait', async () => {
      const s = JSON.stringify([
        await lock('n3', 'LOCK.STATUS', 'l1'),
        await lock('n3', 'LOCK.STATUS', 'l2'),
      ]);
      return s.includes('"X"') && s.includes('"Y"');
    });
    const closing = await lock('n3', 'LOCK.ACQUIRE', 'l0', 'OWNER', 'Z', 'WAIT', 5000).catch((e: Error) => e);
    t.match(String(closing), /DEADLOCK .*Z -> X -> Y -> Z/, 'Z is told the cycle');
    await lock('n3', 'LOCK.RELEASE', 'l2', 'OWNER', 'Z');
    t.ok(Number(await waits[1]) > 0, 'Y gets l2');
    await lock('n2', 'LOCK.RELEASE', 'l1', 'OWNER', 'Y');
    await lock('n2', 'LOCK.RELEASE', 'l2', 'OWNER', 'Y');
    t.ok(Number(await waits[0]) > 0, 'X gets l1');
    for (const name of ['l0', 'l1']) await lock('n1', 'LOCK.RELEASE', name, 'OWNER', 'X');
  });

  t.test('a waiter that disconnects leaves the queue', async (t) => {
    await lock('n1', 'LOCK.ACQUIRE', 'door', 'OWNER', 'holder');
    const c = client(port('n2'));
    const waiting = c.call('LOCK.ACQUIRE', 'door', 'OWNER', 'quitter', 'WAIT', 20000).catch(() => 'closed');
    await waitUntil('the waiter queues', async () =>
      JSON.stringify(await lock('n3', 'LOCK.STATUS', 'door')).includes('quitter'),
    );
    c.disconnect();
    await waiting;
    await waitUntil(
      'the waiter is gone',
      async () => !JSON.stringify(await lock('n3', 'LOCK.STATUS', 'door')).includes('quitter'),
    );
    t.pass('cancelled on disconnect');
    await lock('n1', 'LOCK.RELEASE', 'door', 'OWNER', 'holder');
    t.equal(await lock('n1', 'LOCK.STATUS', 'door'), null, 'the lock is free and forgotten');
  });

  t.test('leases expire by leader time; tokens keep rising across a failover', async (t) => {
    const first = Number(await lock('n1', 'LOCK.ACQUIRE', 'lease', 'OWNER', 'o1', 'TTL', 200));
    t.equal(await lock('n2', 'LOCK.ACQUIRE', 'lease', 'OWNER', 'o2'), null, 'held');
    const after = Number(await lock('n2', 'LOCK.ACQUIRE', 'lease', 'OWNER', 'o2', 'WAIT', 3000));
    t.ok(after > first, 'granted to the waiter when the lease ran out');
    t.equal(
      await lock('n1', 'LOCK.RENEW', 'lease', 'OWNER', 'o1', 'TTL', 1000),
      0,
      'an expired hold cannot be renewed',
    );
    const leader = String(await call(port('n1'), 'CLUSTER.INFO')).match(/meta_leader:(\w+)/)![1]!;
    await lock('n2', 'LOCK.RELEASE', 'lease', 'OWNER', 'o2');
    await cluster.kill(leader);
    const survivor = ['n1', 'n2', 'n3'].find((id) => id !== leader)!;
    let token = 0;
    await waitUntil('a lock after the failover', async () => {
      token = Number(await lock(survivor, 'LOCK.ACQUIRE', 'lease', 'OWNER', 'o3'));
      return token > 0;
    });
    t.ok(token > after, `token ${token} after the failover is above ${after}`);
    await cluster.restart(leader);
  });
});
