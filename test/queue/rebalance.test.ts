import t from 'tap';
import { call, FAST_CLUSTER_ARGS, startTestCluster, waitForCluster, waitUntil } from '../helpers/cluster.js';

/**
 * Issue 7, acceptance 4: queues stay whole while a 4th and a 5th node join. Partitions move by
 * snapshot (their rows) to the new replicas; with consistent hashing only about 1/N of the
 * replicas move at each step, each changed partition trading exactly one replica.
 */

const PARTITIONS = 12;
const REPLICAS = 3;
const QUEUE_COUNT = 24;
const PER_QUEUE = 10;

/** Voters of every partition, from CLUSTER.NODES (the last column lists each node's groups). */
async function placement(port: number): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const line of String(await call(port, 'CLUSTER.NODES'))
    .trim()
    .split('\n')) {
    const cols = line.split(' ');
    const groups = cols[cols.length - 1]!;
    if (groups === '-') continue;
    for (const g of groups.split(',').map(Number)) {
      if (g === 0) continue;
      out.set(g, [...(out.get(g) ?? []), cols[0]!].sort());
    }
  }
  return out;
}

function settled(p: Map<number, string[]>, nodes: string[]): boolean {
  if (p.size !== PARTITIONS) return false;
  const used = new Set([...p.values()].flat());
  return [...p.values()].every((v) => v.length === REPLICAS) && nodes.every((n) => used.has(n));
}

t.test('a 4th and 5th node take over about 1/N of the replicas and nothing is lost', async (t) => {
  const args = FAST_CLUSTER_ARGS.filter((_, i, a) => a[i] !== '--partitions' && a[i - 1] !== '--partitions');
  const cluster = await startTestCluster(t, {
    size: 5,
    startCount: 3,
    extraArgs: [...args, '--partitions', String(PARTITIONS), '--replicas', String(REPLICAS)],
  });
  await waitForCluster(cluster, 3);
  const port = (id: string) => cluster.node(id).port;

  const pushed = new Map<string, string[]>();
  for (let q = 0; q < QUEUE_COUNT; q++) {
    const payloads = Array.from({ length: PER_QUEUE }, (_, i) => `q${q}-m${i}`);
    await call(port(`n${(q % 3) + 1}`), 'Q.PUSH', `rq${q}`, ...payloads);
    pushed.set(`rq${q}`, payloads);
  }
  let before = await placement(port('n1'));
  t.ok(settled(before, ['n1', 'n2', 'n3']), 'every partition has 3 replicas on n1..n3');

  const moves: string[] = [];
  for (const joiner of ['n4', 'n5']) {
    await cluster.restart(joiner);
    const nodes = cluster.running();
    await waitForCluster(cluster, nodes.length, 40_000);
    let after = before;
    await waitUntil(
      `partitions settle with ${joiner}`,
      async () => {
        after = await placement(port('n1'));
        return settled(after, nodes);
      },
      60_000,
    );
    let moved = 0;
    for (const [g, voters] of after) {
      const old = before.get(g) ?? [];
      const gained = voters.filter((v) => !old.includes(v));
      if (gained.length === 0) continue;
      t.same(gained, [joiner], `partition ${g} gained only ${joiner}`);
      moved += gained.length;
    }
    const fraction = moved / (PARTITIONS * REPLICAS);
    moves.push(
      `${joiner}: ${moved} of ${PARTITIONS * REPLICAS} replicas moved (${(100 * fraction).toFixed(0)}%, 1/N = ${(100 / nodes.length).toFixed(0)}%)`,
    );
    t.ok(fraction > 0 && fraction <= 2 / nodes.length, moves[moves.length - 1]!);
    before = after;
  }
  t.comment(moves.join('; '));

  // Leadership follows placement: each partition's leader hands it to its preferred (first
  // placed) node, so the work of leading spreads instead of staying with the founder.
  const leaders = async () => {
    const led = new Map<string, number>();
    for (const id of cluster.running()) {
      const info = String(await call(port(id), 'INFO', 'raft'));
      const count = [...info.matchAll(/^group(\d+):role=leader/gm)].filter((m) => m[1] !== '0').length;
      led.set(id, count);
    }
    return led;
  };
  let spread = new Map<string, number>();
  await waitUntil(
    'partition leaders spread over the nodes',
    async () => {
      spread = await leaders();
      return [...spread.values()].filter((n) => n > 0).length >= 4;
    },
    40_000,
  );
  t.comment(`partitions led per node: ${[...spread].map(([id, n]) => `${id}=${n}`).join(' ')}`);

  // Every message is still there, in order, readable through a node that joined.
  for (const [queue, payloads] of pushed) {
    const got = (await call(port('n5'), 'Q.POP', queue, 'COUNT', PER_QUEUE * 2)) as [
      string,
      string,
      number,
    ][];
    t.same(
      got.map((m) => m[1]),
      payloads,
      `${queue} intact`,
    );
  }
});
