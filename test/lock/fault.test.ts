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
 * Issue 6, acceptance 3: ten clients loop acquire → write to a fenced resource → release
 * while the leader is killed and restarted and a minority is cut off. The resource refuses a
 * token lower than the highest it has seen (that is the fencing contract); a refusal, or two
 * clients inside the critical section at once, is a violation. Replies from the isolated
 * node while it is isolated must all be errors.
 */

const TTL_MS = 3000;

class FencedResource {
  highest = 0;
  inside: { client: number; token: number } | null = null;
  writes = 0;
  readonly violations: string[] = [];

  enter(client: number, token: number): void {
    if (token < this.highest)
      this.violations.push(`client ${client} wrote with token ${token} < ${this.highest}`);
    if (this.inside !== null) {
      this.violations.push(
        `client ${client} (token ${token}) overlaps client ${this.inside.client} (token ${this.inside.token})`,
      );
    }
    this.highest = Math.max(this.highest, token);
    this.inside = { client, token };
    this.writes++;
  }

  leave(client: number): void {
    if (this.inside?.client === client) this.inside = null;
  }
}

t.test('fencing holds through kill -9, restart and a partition', async (t) => {
  const cluster = await startTestCluster(t, {
    size: 3,
    extraArgs: [...FAST_CLUSTER_ARGS, '--enable-debug-command', 'yes'],
  });
  await waitForCluster(cluster, 3);
  await waitUntil('group 0 has three voters', async () =>
    String(await call(cluster.node('n1').port, 'RAFT.INFO', 0)).includes('voters:n1,n2,n3'),
  );
  const ids = ['n1', 'n2', 'n3'];
  const resource = new FencedResource();
  let isolated: string | null = null;
  let isolatedSince = 0;
  const minorityAnswers: string[] = [];
  let stop = false;

  const worker = async (i: number) => {
    let attempt = 0;
    while (!stop) {
      const id = ids[(i + attempt++) % ids.length]!;
      const c = client(cluster.node(id).port, 8000);
      try {
        const sentAt = Date.now();
        const sentWhileIsolated = isolated === id;
        let reply: unknown;
        try {
          reply = await c.call(
            'LOCK.ACQUIRE',
            'resource',
            'OWNER',
            `c${i}`,
            'TTL',
            String(TTL_MS),
            'WAIT',
            '2000',
          );
        } catch (e) {
          reply = e;
        }
        if (sentWhileIsolated && isolated === id && sentAt >= isolatedSince) {
          minorityAnswers.push(
            reply instanceof Error ? `error: ${reply.message.slice(0, 40)}` : `VALUE ${String(reply)}`,
          );
        }
        if (typeof reply !== 'number') continue;
        if (Date.now() - sentAt > TTL_MS / 2) continue; // too late to use safely; the lease may run out
        resource.enter(i, reply);
        await new Promise((r) => setTimeout(r, 2));
        resource.leave(i);
        await c.call('LOCK.RELEASE', 'resource', 'OWNER', `c${i}`, 'TOKEN', String(reply)).catch(() => {});
      } finally {
        c.disconnect();
      }
    }
  };
  const workers = Array.from({ length: 10 }, (_, i) => worker(i));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  await sleep(1500);
  const leader = String(await call(cluster.node('n1').port, 'CLUSTER.INFO')).match(/meta_leader:(\w+)/)![1]!;
  await cluster.kill(leader);
  t.comment(`killed the leader ${leader}`);
  await sleep(1500);
  await cluster.restart(leader);
  await waitForCluster(cluster, 3);
  const writesBeforePartition = resource.writes;

  // Cut a follower off from the other two, in both directions.
  const newLeader = String(await call(cluster.node('n1').port, 'CLUSTER.INFO')).match(
    /meta_leader:(\w+)/,
  )![1]!;
  const minority = ids.find((id) => id !== newLeader)!;
  const majority = ids.filter((id) => id !== minority);
  await call(cluster.node(minority).port, 'DEBUG.PARTITION', ...majority);
  for (const id of majority) await call(cluster.node(id).port, 'DEBUG.PARTITION', minority);
  isolated = minority;
  isolatedSince = Date.now();
  t.comment(`isolated ${minority} from ${majority.join(', ')}`);
  const status = await call(cluster.node(minority).port, 'LOCK.STATUS', 'resource').catch((e: Error) => e);
  t.match(
    String(status),
    /NOQUORUM|TRYAGAIN/,
    'LOCK.STATUS on the minority fails instead of reading stale state',
  );
  await sleep(5000);
  isolated = null;
  for (const id of ids) await call(cluster.node(id).port, 'DEBUG.PARTITION');
  await waitForCluster(cluster, 3);
  await sleep(1000);
  stop = true;
  await Promise.all(workers);

  t.same(resource.violations, [], 'no fencing violation and no overlapping exclusive holds');
  t.ok(
    resource.writes > 20,
    `${resource.writes} fenced writes (${writesBeforePartition} before the partition)`,
  );
  t.ok(minorityAnswers.length > 0, `${minorityAnswers.length} requests answered by the isolated node`);
  t.same(
    minorityAnswers.filter((a) => !a.startsWith('error')),
    [],
    `the isolated node answered only errors (${[...new Set(minorityAnswers.map((a) => a.slice(0, 20)))].join('; ')})`,
  );
});
