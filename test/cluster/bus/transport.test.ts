import net, { type Socket } from 'node:net';
import t from 'tap';
import { encodeFrame, FrameType } from '../../../src/cluster/bus/frame.js';
import { type BusSocketFactory, tcpSocketFactory } from '../../../src/cluster/bus/transport.js';
import {
  handshakeAsDialer,
  mesh,
  SECRET,
  sleep,
  startNode,
  type TestNode,
  text,
  waitFor,
} from './fixtures/harness.js';

/** Closes the nodes when the test ends, pass or fail. */
function cleanup(t: { teardown(fn: () => Promise<void>): void }, nodes: TestNode[]): void {
  t.teardown(async () => {
    await Promise.all(nodes.map((n) => n.transport.close()));
  });
}

/** A plain TCP client that reads (and ignores) what it is sent, so it sees the server's FIN. */
function rawClient(port: number): Socket {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.resume();
  return socket;
}

const closed = (socket: Socket) => new Promise((resolve) => socket.once('close', resolve));

const connected = (a: TestNode, b: TestNode) =>
  a.transport.peerStats(b.id)?.connected === true && b.transport.peerStats(a.id)?.connected === true;

t.test('two nodes connect and exchange frames both ways', async (t) => {
  const nodes = [await startNode('a'), await startNode('b')];
  cleanup(t, nodes);
  const [a, b] = nodes as [TestNode, TestNode];
  mesh(nodes);
  await waitFor('a <-> b', () => connected(a, b));
  t.ok(a.transport.send('b', FrameType.RAFT, text('append 1')));
  t.ok(a.transport.send('b', FrameType.RAFT, text('append 2')));
  t.ok(b.transport.send('a', FrameType.CACHE, text('inv k')));
  await waitFor('frames', () => b.frames.length === 2 && a.frames.length === 1);
  t.same(b.frames, [
    { from: 'a', type: FrameType.RAFT, text: 'append 1' },
    { from: 'a', type: FrameType.RAFT, text: 'append 2' },
  ]);
  t.same(a.frames, [{ from: 'b', type: FrameType.CACHE, text: 'inv k' }]);
  t.same(a.events, ['up b']);
  t.same(b.events, ['up a']);
  t.notOk(a.transport.send('nobody', FrameType.RAFT, text('x')), 'unknown peer');
});

t.test('three nodes form a full mesh', async (t) => {
  const nodes = [await startNode('n1'), await startNode('n2'), await startNode('n3')];
  cleanup(t, nodes);
  mesh(nodes);
  await waitFor('mesh', () => nodes.every((n) => n.events.length === 2));
  for (const from of nodes) {
    for (const to of nodes) {
      if (from !== to)
        t.ok(from.transport.send(to.id, FrameType.FORWARD_REQUEST, text(`${from.id}->${to.id}`)));
    }
  }
  await waitFor('all frames', () => nodes.every((n) => n.frames.length === 2));
  for (const node of nodes) {
    t.same(
      node.frames.map((f) => f.text).sort(),
      nodes
        .filter((n) => n !== node)
        .map((n) => `${n.id}->${node.id}`)
        .sort(),
    );
  }
});

/** A socket factory that remembers every socket it made or accepted. */
function trackingSockets(): { factory: BusSocketFactory; sockets: { dialed: boolean; socket: Socket }[] } {
  const sockets: { dialed: boolean; socket: Socket }[] = [];
  const factory: BusSocketFactory = {
    createServer: (onConnection) =>
      tcpSocketFactory.createServer((socket) => {
        sockets.push({ dialed: false, socket });
        onConnection(socket);
      }),
    connect: (peer) => {
      const socket = tcpSocketFactory.connect(peer);
      sockets.push({ dialed: true, socket });
      return socket;
    },
  };
  return { factory, sockets };
}

t.test('when both dial at once, one connection survives: the lower id dialed it', async (t) => {
  for (let round = 0; round < 5; round++) {
    const sa = trackingSockets();
    const sb = trackingSockets();
    const nodes = [
      await startNode('a', { sockets: sa.factory }),
      await startNode('b', { sockets: sb.factory }),
    ];
    const [a, b] = nodes as [TestNode, TestNode];
    mesh(nodes);
    await waitFor('a <-> b', () => connected(a, b));
    const alive = () => [...sa.sockets, ...sb.sockets].filter((s) => !s.socket.destroyed);
    await waitFor('duplicates closed', () => alive().length === 2);
    await sleep(50);
    t.equal(alive().length, 2, `round ${round}: one TCP connection, two ends`);
    t.ok(
      sa.sockets.some((s) => s.dialed && !s.socket.destroyed),
      `round ${round}: a's dial survived`,
    );
    t.ok(
      sb.sockets.every((s) => !s.dialed || s.socket.destroyed),
      `round ${round}: b's dial was closed`,
    );
    t.same([a.events, b.events], [['up b'], ['up a']], `round ${round}: no flap`);
    t.ok(a.transport.send('b', FrameType.RAFT, text('after duel')));
    await waitFor('frame', () => b.frames.length === 1);
    await Promise.all(nodes.map((n) => n.transport.close()));
  }
});

t.test('a node reconnects after its peer restarts', async (t) => {
  const a = await startNode('a');
  let b = await startNode('b');
  cleanup(t, [a]);
  mesh([a, b]);
  await waitFor('a <-> b', () => connected(a, b));
  const port = b.port;
  await b.transport.close();
  await waitFor('a sees b down', () => a.events.includes('down b'));
  b = await startNode('b', {}, port);
  cleanup(t, [b]);
  b.transport.setPeers([a.address]);
  await waitFor('a <-> new b', () => connected(a, b));
  t.same(a.events, ['up b', 'down b', 'up b']);
  t.ok(a.transport.send('b', FrameType.RAFT, text('welcome back')));
  await waitFor('frame', () => b.frames.length === 1);
  t.equal(b.frames[0]!.text, 'welcome back');
});

t.test('a raw client sending garbage is dropped; the real peer is still served', async (t) => {
  const nodes = [await startNode('a'), await startNode('b')];
  cleanup(t, nodes);
  const [a, b] = nodes as [TestNode, TestNode];
  mesh(nodes);
  await waitFor('a <-> b', () => connected(a, b));
  const raw = rawClient(a.port);
  raw.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed(raw);
  t.ok(
    a.logs.some((l) => l.level === 'warn' && l.fields.reason === 'unknown frame type 47'),
    'logged',
  );
  t.ok(b.transport.send('a', FrameType.RAFT, text('still here')));
  await waitFor('frame', () => a.frames.length === 1);
  t.same(a.events, ['up b']);
});

t.test('an application frame before the handshake is dropped, not delivered', async (t) => {
  const a = await startNode('a');
  cleanup(t, [a]);
  const raw = rawClient(a.port);
  raw.write(encodeFrame(FrameType.RAFT, text('sneaky')));
  await closed(raw);
  t.same(a.frames, []);
  t.ok(a.logs.some((l) => l.fields.reason === 'RAFT frame while in stage await-hello'));
});

t.test('a peer with the wrong secret is refused in both directions and never delivers', async (t) => {
  const nodes = [await startNode('a'), await startNode('m', { secret: 'guess' })];
  cleanup(t, nodes);
  const [a, m] = nodes as [TestNode, TestNode];
  mesh(nodes);
  await waitFor('both refusals', () =>
    [a, m].every((n) => n.logs.some((l) => l.fields.reason === 'wrong cluster secret')),
  );
  t.notOk(m.transport.send('a', FrameType.RAFT, text('let me in')));
  // An impostor that ignores the protocol and sends anyway after a failed proof.
  const raw = rawClient(a.port);
  raw.write(encodeFrame(FrameType.AUTH, new Uint8Array(32)));
  raw.write(encodeFrame(FrameType.RAFT, text('let me in')));
  await closed(raw);
  await sleep(100);
  t.same(a.frames, []);
  t.same(a.events, []);
  t.same(m.events, []);
});

t.test('a stranger that says nothing is dropped when the handshake times out', async (t) => {
  const a = await startNode('a', { handshakeTimeoutMs: 100, pingIntervalMs: 20, peerTimeoutMs: 1000 });
  cleanup(t, [a]);
  const raw = rawClient(a.port);
  const started = Date.now();
  await closed(raw);
  t.ok(Date.now() - started < 1000, 'closed promptly');
  t.ok(a.logs.some((l) => l.fields.reason === 'handshake timed out'));
});

t.test('a full queue refuses forwarded requests while the peer does not read', async (t) => {
  const maxSendQueueBytes = 1 << 20;
  const a = await startNode('a', { maxSendQueueBytes, maxPayloadBytes: 256 << 10, peerTimeoutMs: 60_000 });
  cleanup(t, [a]);
  const { socket } = await handshakeAsDialer(a.port, 'slow', SECRET);
  t.teardown(() => socket.destroy());
  socket.pause();
  await waitFor('a accepts the hand-written peer', () => a.events.includes('up slow'));

  // Yield between batches so frames reach the socket and fill the kernel's buffers first.
  const payload = new Uint8Array(64 << 10);
  let maxSeenBytes = 0;
  let refused = false;
  let accepted = 0;
  for (let batch = 0; batch < 2000 && !refused; batch++) {
    for (let i = 0; i < 4 && !refused; i++) {
      refused = !a.transport.send('slow', FrameType.FORWARD_REQUEST, payload);
      if (!refused) accepted++;
    }
    maxSeenBytes = Math.max(maxSeenBytes, a.transport.peerStats('slow')!.queuedBytes);
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.ok(refused, `refused once full, after ${accepted} frames of 64 KiB (the kernel's buffers take most)`);
  t.ok(maxSeenBytes <= maxSendQueueBytes, `queued at most ${maxSeenBytes} of ${maxSendQueueBytes} bytes`);
  t.notOk(
    a.transport.send('slow', FrameType.RAFT, payload, { droppable: true }),
    'Raft frames do not push out forwarded requests',
  );
});

t.test('under backpressure the oldest Raft frames are dropped, the newest delivered', async (t) => {
  const maxSendQueueBytes = 1 << 20;
  const a = await startNode('a', { maxSendQueueBytes, maxPayloadBytes: 256 << 10, peerTimeoutMs: 60_000 });
  cleanup(t, [a]);
  const slow = await handshakeAsDialer(a.port, 'slow', SECRET);
  t.teardown(() => slow.socket.destroy());
  slow.socket.pause();
  await waitFor('a accepts the hand-written peer', () => a.events.includes('up slow'));

  // All in one turn of the event loop: nothing reaches the socket, the queue alone takes the load.
  const frameCount = 100;
  let refusals = 0;
  let maxSeenBytes = 0;
  for (let i = 0; i < frameCount; i++) {
    const payload = new Uint8Array(64 << 10).fill(i);
    if (!a.transport.send('slow', FrameType.RAFT, payload, { droppable: true })) refusals++;
    maxSeenBytes = Math.max(maxSeenBytes, a.transport.peerStats('slow')!.queuedBytes);
  }
  t.equal(refusals, 0, 'droppable frames make room for themselves');
  t.ok(maxSeenBytes <= maxSendQueueBytes, `queued at most ${maxSeenBytes} of ${maxSendQueueBytes} bytes`);
  const { droppedFrames } = a.transport.peerStats('slow')!;
  t.ok(droppedFrames > 0, `${droppedFrames} frames dropped`);

  slow.socket.resume();
  await waitFor(
    'the kept frames',
    () => slow.frames.filter((f) => f.type === FrameType.RAFT).length === frameCount - droppedFrames,
  );
  const kept = slow.frames.filter((f) => f.type === FrameType.RAFT).map((f) => f.payload[0]);
  t.same(
    kept,
    Array.from({ length: frameCount - droppedFrames }, (_, i) => droppedFrames + i),
    'the newest, in order',
  );
});

t.test('a second connection from a new incarnation replaces the old one at once', async (t) => {
  const a = await startNode('a');
  cleanup(t, [a]);
  const first = await handshakeAsDialer(a.port, 'p', SECRET, '0000000000000001');
  first.socket.on('error', () => {});
  const duplicate = await handshakeAsDialer(a.port, 'p', SECRET, '0000000000000001');
  duplicate.socket.on('error', () => {});
  await closed(duplicate.socket);
  t.same(a.events, ['up p'], 'same incarnation: the newer duplicate is closed, no events');

  const restarted = await handshakeAsDialer(a.port, 'p', SECRET, '0000000000000002');
  t.teardown(() => restarted.socket.destroy());
  await closed(first.socket);
  t.same(a.events, ['up p', 'down p', 'up p'], 'new incarnation: down then up');
  t.ok(a.transport.send('p', FrameType.RAFT, text('to the new one')));
  await waitFor('frame', () => restarted.frames.some((f) => f.type === FrameType.RAFT));
});

t.test('a peer that goes silent is dropped after peerTimeoutMs', async (t) => {
  const a = await startNode('a', { pingIntervalMs: 20, peerTimeoutMs: 100 });
  cleanup(t, [a]);
  const silent = await handshakeAsDialer(a.port, 'mute', SECRET);
  silent.socket.on('error', () => {});
  await waitFor('up', () => a.events.includes('up mute'));
  await waitFor('down', () => a.events.includes('down mute'), 2000);
  t.ok(a.logs.some((l) => /^peer silent for \d+ ms$/.test(String(l.fields.reason))));
});

t.test('a peer removed by setPeers is disconnected and not redialed', async (t) => {
  const nodes = [await startNode('a'), await startNode('b')];
  cleanup(t, nodes);
  const [a, b] = nodes as [TestNode, TestNode];
  a.transport.setPeers([a.address, b.address]);
  await waitFor('a <-> b', () => connected(a, b));
  a.transport.setPeers([a.address]);
  t.same(a.events, ['up b', 'down b']);
  await waitFor('b sees it', () => b.events.includes('down a'));
  await sleep(200);
  t.equal(a.transport.peerStats('b'), undefined);
  t.same(b.events, ['up a', 'down a'], 'b was never listed by a, so nobody redials');
});
