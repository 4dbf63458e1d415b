import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FrameType } from '../../src/cluster/bus/frame.js';
import { waitForPing } from '../../tools/local-cluster.js';
import {
  call,
  FAST_CLUSTER_ARGS,
  raftInfo,
  startTestCluster,
  waitForCluster,
  waitUntil,
} from '../helpers/cluster.js';
import { freePortRange } from '../helpers/ports.js';
import { appendWithTerm, RawBusPeer, voteWithTerm } from './raw-bus-peer.js';

/**
 * DESIGN §10, "a peer without the cluster secret cannot join or inject Raft messages": a real
 * node with another secret tries to join (at start and with CLUSTER.JOIN), and raw connections
 * to a node's bus port send well-formed Raft frames without, before, instead of and after a
 * failed handshake, and by replaying a captured good one (the handshake's claim: proofs cover
 * both fresh nonces, so no replay). Nothing may change: members, term, leader. The last case
 * sends the very same frames after a correct handshake and sees the term jump, so the frames
 * are ones the node would act on. The handshake's pure parts: test/cluster/bus/handshake.test.ts.
 */

const SECRET = FAST_CLUSTER_ARGS[FAST_CLUSTER_ARGS.indexOf('--cluster-secret') + 1]!;
const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));

t.test('the cluster secret on the bus', async (t) => {
  const logs: string[] = [];
  const cluster = await startTestCluster(t, {
    size: 2,
    extraArgs: FAST_CLUSTER_ARGS,
    onLog: (id, line) => logs.push(`${id} ${line}`),
  });
  await waitForCluster(cluster, 2);
  const n1 = cluster.node('n1');
  const members = async () => String(await call(n1.port, 'CLUSTER.NODES'));
  const before = await members();
  const group0 = async () => {
    const f = await raftInfo(n1.port, 0);
    return { term: Number(f.term), leader: f.leader_id };
  };
  const settled = await group0();

  /** A lockstep process outside the test cluster, killed at the end of the test. */
  const startIntruder = async (args: readonly string[]): Promise<{ port: number; output: () => string }> => {
    const port = await freePortRange(1);
    const data = mkdtempSync(join(tmpdir(), 'lockstep-intruder-'));
    let output = '';
    const child: ChildProcess = spawn(
      process.execPath,
      [MAIN, '--id', `intruder${port}`, '--port', String(port), '--http-port', '0', '--data', data, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    t.teardown(async () => {
      const exited = new Promise((r) => child.once('exit', r));
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      rmSync(data, { recursive: true, force: true });
    });
    await waitForPing(port, 15_000);
    return { port, output: () => output };
  };
  const wrongSecret = ['--cluster-secret', 'not-the-secret-0123456789', '--election-timeout-ms', '300'];

  t.test('a node with another secret cannot join at start (--join)', async (t) => {
    const intruder = await startIntruder([...wrongSecret, '--join', `127.0.0.1:${n1.port}`]);
    await waitUntil('the intruder to report its failed join', async () =>
      /cannot join yet/.test(intruder.output()),
    );
    t.match(
      intruder.output(),
      /node n1 at 127\.0\.0\.1:\d+ refused this node's proof of the cluster secret/,
      'it says why',
    );
    t.equal(await members(), before, 'the membership is unchanged');
    t.ok(
      logs.some((l) => l.includes('dropping bus peer') && l.includes('wrong cluster secret')),
      'the seed logged the wrong secret',
    );
  });

  t.test('a node with another secret cannot join with CLUSTER.JOIN', async (t) => {
    const intruder = await startIntruder(wrongSecret);
    await waitUntil('the intruder to found its own cluster', async () =>
      /cluster_state:ok/.test(String(await call(intruder.port, 'CLUSTER.INFO'))),
    );
    await t.rejects(
      call(intruder.port, 'CLUSTER.JOIN', `127.0.0.1:${n1.port}`),
      /^ERR no lockstep node accepted this node on the bus .*another cluster secret.*nothing changed/,
    );
    t.match(String(await call(intruder.port, 'CLUSTER.INFO')), /cluster_size:1/, 'the intruder is as it was');
    t.equal(await members(), before, 'the membership is unchanged');
  });

  const forged = () => [
    voteWithTerm('n2', 'n1', settled.term + 1000),
    appendWithTerm('n2', 'n1', settled.term + 1000),
  ];

  t.test('Raft frames without, before or instead of a valid proof are dropped', async (t) => {
    const attempts: [string, (peer: RawBusPeer) => Promise<void>][] = [
      ['no handshake at all', async (peer) => peer.raft(forged())],
      [
        'HELLO, then Raft instead of AUTH',
        async (peer) => {
          peer.hello('n2');
          peer.raft(forged());
        },
      ],
      [
        'a proof made with another secret, then Raft',
        async (peer) => {
          t.notOk(await peer.handshake('n2', 'not-the-secret-0123456789'), 'no AUTH comes back');
          peer.raft(forged());
        },
      ],
      [
        'a proof of the right length that is garbage',
        async (peer) => {
          peer.hello('n2');
          await peer.next(FrameType.HELLO);
          peer.frame(FrameType.AUTH, Buffer.alloc(32, 7));
          peer.raft(forged());
        },
      ],
      [
        'an oversized frame before authentication',
        async (peer) => {
          const header = Buffer.alloc(5);
          header.writeUInt32BE(64 * 1024 * 1024, 0);
          header[4] = FrameType.RAFT;
          peer.write(header);
        },
      ],
    ];
    for (const [what, attack] of attempts) {
      const peer = await RawBusPeer.open(n1.busPort);
      t.teardown(() => peer.close());
      await attack(peer);
      t.ok(await peer.waitClosed(), `${what}: the node closes the connection`);
      t.notOk(
        peer.received.some((f) => f.type === FrameType.AUTH),
        `${what}: the node proved nothing`,
      );
    }
    await new Promise((r) => setTimeout(r, 300));
    t.same(await group0(), settled, 'group 0 term and leader unchanged');
    t.equal(await members(), before, 'the membership is unchanged');
  });

  t.test('a captured good handshake, replayed, does not authenticate', async (t) => {
    const honest = await RawBusPeer.open(n1.busPort);
    t.teardown(() => honest.close());
    // A non-member id, so the honest connection disturbs no real peer.
    t.ok(await honest.handshake('observer', SECRET), 'the right secret is accepted');
    const captured = Buffer.concat(honest.sent);
    honest.close();

    const replay = await RawBusPeer.open(n1.busPort);
    t.teardown(() => replay.close());
    replay.write(captured);
    replay.raft(forged());
    t.ok(await replay.waitClosed(), 'the replayed proof is refused: it covers the old connection nonce');
    t.notOk(
      replay.received.some((f) => f.type === FrameType.AUTH),
      'the node proved nothing',
    );
    await new Promise((r) => setTimeout(r, 300));
    t.same(await group0(), settled, 'group 0 term and leader unchanged');
  });

  t.test('control: the same frames after a correct handshake do move the term', async (t) => {
    const peer = await RawBusPeer.open(n1.busPort);
    t.teardown(() => peer.close());
    t.ok(await peer.handshake('n2', SECRET));
    peer.raft(forged());
    await waitUntil(
      'n1 to take the forged term',
      async () => (await group0()).term >= settled.term + 1000,
      5000,
    );
    t.pass('so the refusals above were the secret at work, not malformed frames');
  });
});
