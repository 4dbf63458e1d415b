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
 * Issue 7, acceptance 3: producers push numbered messages (recording which pushes were
 * acknowledged) and consumers pop and ack, while a node is killed -9 and restarted, a node is
 * paused (SIGSTOP) and a node is cut off by a partition. Then everything is drained. Checked:
 * every acknowledged push was delivered at least once, nothing was delivered that was never
 * pushed; the duplicate rate is reported.
 */

const QUEUES = ['fq0', 'fq1', 'fq2', 'fq3'];
const PRODUCERS = 6;
const CONSUMERS = 4;
const VISIBILITY_MS = 1500;

t.test('no acknowledged push is lost under kill -9, pause and partition', async (t) => {
  const cluster = await startTestCluster(t, {
    size: 3,
    extraArgs: [...FAST_CLUSTER_ARGS, '--enable-debug-command', 'yes'],
  });
  await waitForCluster(cluster, 3);
  const ids = ['n1', 'n2', 'n3'];
  const port = (id: string) => cluster.node(id).port;
  // Redelivery without limit: a message leased by a consumer on a killed node must come back
  // however often that happens, not turn into a dead letter the drain would miss.
  for (const q of QUEUES) await call(port('n1'), 'Q.CONFIG', q, 'MAXDELIVERIES', 0);

  const acknowledged = new Set<string>();
  const attempted = new Set<string>();
  const deliveries = new Map<string, number>();
  let pushErrors = 0;
  let stopProducers = false;
  let stopConsumers = false;

  const producer = async (p: number) => {
    let n = 0;
    let attempt = 0;
    while (!stopProducers) {
      const id = ids[(p + attempt++) % ids.length]!;
      const c = client(port(id), 6000);
      try {
        for (let k = 0; k < 20 && !stopProducers; k++) {
          const payload = `p${p}-${n++}`;
          attempted.add(payload);
          try {
            await c.call('Q.PUSH', QUEUES[n % QUEUES.length]!, payload);
            acknowledged.add(payload);
          } catch {
            pushErrors++;
            break;
          }
        }
      } finally {
        c.disconnect();
      }
    }
  };

  const consume = async (c: ReturnType<typeof client>, queue: string): Promise<number> => {
    const got = (await c.call('Q.POP', queue, 'COUNT', '20', 'VISIBILITY', String(VISIBILITY_MS))) as
      | [string, string, number][]
      | null;
    if (got === null || got.length === 0) return 0;
    for (const [, payload] of got) deliveries.set(payload, (deliveries.get(payload) ?? 0) + 1);
    await c.call('Q.ACK', queue, ...got.map((m) => m[0]));
    return got.length;
  };

  const consumer = async (i: number) => {
    let attempt = 0;
    while (!stopConsumers) {
      const id = ids[(i + attempt++) % ids.length]!;
      const c = client(port(id), 6000);
      try {
        for (let k = 0; k < 50 && !stopConsumers; k++) {
          const n = await consume(c, QUEUES[(i + k) % QUEUES.length]!);
          if (n === 0) await new Promise((r) => setTimeout(r, 20));
        }
      } catch {
        // A popped batch whose ack failed comes back after its visibility timeout.
      } finally {
        c.disconnect();
      }
    }
  };

  const producers = Array.from({ length: PRODUCERS }, (_, p) => producer(p));
  const consumers = Array.from({ length: CONSUMERS }, (_, i) => consumer(i));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  await sleep(1500);
  await cluster.kill('n2');
  t.comment('killed n2 (-9)');
  await sleep(2000);
  await cluster.restart('n2');
  await waitForCluster(cluster, 3);

  cluster.pause('n3');
  t.comment('paused n3 (SIGSTOP)');
  await sleep(2000);
  cluster.resume('n3');
  await waitForCluster(cluster, 3);

  await call(port('n1'), 'DEBUG.PARTITION', 'n2', 'n3');
  for (const id of ['n2', 'n3']) await call(port(id), 'DEBUG.PARTITION', 'n1');
  t.comment('isolated n1');
  await sleep(3000);
  for (const id of ids) await call(port(id), 'DEBUG.PARTITION');
  await waitForCluster(cluster, 3);
  await sleep(1000);

  stopProducers = true;
  await Promise.all(producers);

  // Drain: keep consuming until every queue is empty, leases included.
  await waitUntil(
    'every queue drained',
    async () => {
      let total = 0;
      for (const q of QUEUES) {
        const s = (await call(port('n1'), 'Q.STATS', q)) as unknown[];
        const o = Object.fromEntries(
          Array.from({ length: s.length / 2 }, (_, i) => [s[2 * i], s[2 * i + 1]]),
        );
        total += Number(o.ready) + Number(o.inflight) + Number(o.delayed) + Number(o.dead);
      }
      return total === 0;
    },
    60_000,
  );
  stopConsumers = true;
  await Promise.all(consumers);

  const lost = [...acknowledged].filter((p) => !deliveries.has(p));
  const phantom = [...deliveries.keys()].filter((p) => !attempted.has(p));
  const totalDeliveries = [...deliveries.values()].reduce((a, b) => a + b, 0);
  const duplicates = totalDeliveries - deliveries.size;
  t.ok(acknowledged.size > 200, `${acknowledged.size} acknowledged pushes (${pushErrors} pushes failed)`);
  t.same(lost.slice(0, 10), [], `no acknowledged push lost (${lost.length} lost)`);
  t.same(phantom, [], 'nothing delivered that was never pushed');
  t.comment(
    `delivered ${deliveries.size} distinct messages in ${totalDeliveries} deliveries: ` +
      `duplicate rate ${((100 * duplicates) / Math.max(1, deliveries.size)).toFixed(2)}%; ` +
      `${deliveries.size - acknowledged.size} delivered pushes had an unknown outcome`,
  );
});
