import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { fields } from '../helpers/cluster.js';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

/**
 * DESIGN §10, "limits on everything ... bad input gets a clear error, the process never crashes
 * and no state changes": each limit pushed past on one node, then the node is shown still
 * serving and unchanged. Covered elsewhere, so not repeated here:
 * - maxclients: test/server/connection-commands.test.ts ('maxclients refuses the connection ...');
 * - reading paused at client-output-buffer-bytes: same file ('a client that does not read ...');
 * - max-bulk-bytes, max-args, and the small limits before AUTH: test/server/protocol.test.ts;
 * - max-inline-bytes at the decoder: test/resp/decoder.test.ts (here: through a real socket);
 * - protected mode (loopback only, public --bind refused): test/config/checks.test.ts.
 */

const client = (node: TestNode): Redis => {
  const c = new Redis({
    port: node.port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    commandTimeout: 10_000,
  });
  c.on('error', () => {});
  return c;
};

async function stillServes(t: Test, node: TestNode): Promise<void> {
  const witness = await RawClient.open(node.port);
  witness.send('PING\r\n');
  t.equal(await witness.readLines(1), '+PONG\r\n', 'the node still serves other clients');
  witness.close();
}

t.test('client-output-buffer-hard-bytes: a client that asks and never reads is cut off', async (t) => {
  const node = await startTestNode(t, [
    '--client-output-buffer-bytes',
    '64kb',
    '--client-output-buffer-hard-bytes',
    '1mb',
  ]);
  const writer = client(node);
  t.teardown(() => writer.disconnect());
  t.equal(await writer.call('CACHE.SET', 'big', 'v'.repeat(200 * 1024)), 'OK');
  // 2000 GETs fit in one 64 KiB read; paused reading alone would queue 400 MB of replies.
  const greedy = await RawClient.open(node.port);
  t.teardown(() => greedy.close());
  greedy.pause();
  greedy.send('*2\r\n$9\r\nCACHE.GET\r\n$3\r\nbig\r\n'.repeat(2000));
  const deadline = Date.now() + 5000;
  while (node.resp.connections.size > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(node.resp.connections.size, 1, 'the greedy client was disconnected; the writer was not');
  const rss = process.memoryUsage().rss;
  t.ok(rss < 1.5 * 1024 ** 3, `memory stayed bounded (rss ${Math.round(rss / 1024 ** 2)} MB)`);
  t.equal((await writer.call('CACHE.GET', 'big'))?.toString().length, 200 * 1024, 'the writer still reads');
  await stillServes(t, node);
});

t.test('queue-max-length and queue-max-message-bytes refuse whole pushes, changing nothing', async (t) => {
  const node = await startTestNode(t, ['--queue-max-length', '3', '--queue-max-message-bytes', '1kb']);
  const c = client(node);
  t.teardown(() => c.disconnect());
  const len = async () => Number(await c.call('Q.LEN', 'q'));

  t.match(await c.call('Q.PUSH', 'q', 'a', 'b'), [/^\d+-0$/, /^\d+-1$/]);
  await t.rejects(
    c.call('Q.PUSH', 'q', 'c', 'd'),
    /^LIMIT queue 'q' holds 2 messages .*2 more would exceed queue-max-length 3/,
    'a push that would overflow is refused whole',
  );
  t.equal(await len(), 2, 'nothing of it was pushed');
  t.match(await c.call('Q.PUSH', 'q', 'c'), /^\d+-0$/, 'up to the limit is fine');
  await t.rejects(c.call('Q.PUSH', 'q', 'e'), /^LIMIT .*queue-max-length 3/);
  // Dead letters are held in memory too, so they count.
  t.equal(await c.call('Q.CONFIG', 'q', 'MAXDELIVERIES', '1', 'VISIBILITY', '1').then(() => 'ok'), 'ok');
  const popped = (await c.call('Q.POP', 'q', 'COUNT', '3')) as unknown[];
  t.equal(popped.length, 3);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(await len(), 0, 'all three are dead letters now');
  await t.rejects(c.call('Q.PUSH', 'q', 'f'), /^LIMIT .*dead letters included/, 'dead letters count');
  t.equal(await c.call('Q.REDRIVE', 'q', 'DELETE'), 3);
  t.match(await c.call('Q.PUSH', 'q', 'f'), /^\d+-0$/, 'room again once they are gone');

  await t.rejects(
    c.call('Q.PUSH', 'q', 'x'.repeat(1025)),
    /^LIMIT a message of 1025 bytes is larger than queue-max-message-bytes \(1024\); nothing was pushed/,
  );
  await t.rejects(
    c.call('Q.PUSH', 'q', 'ok', 'x'.repeat(2000)),
    /^LIMIT/,
    'one big payload refuses the push',
  );
  t.equal(await len(), 1, 'the queue is unchanged');
  t.match(await c.call('Q.PUSH', 'other', 'x'.repeat(1024)), /^\d+-0$/, 'exactly the limit is fine');
  await stillServes(t, node);
});

t.test('one push carries at most 8 MiB: a bigger entry could not cross the bus', async (t) => {
  // Before the bound was 64 MiB: a 20 MB push was never replicated and wedged its partition.
  const node = await startTestNode(t, ['--queue-max-length', '100000']);
  const c = client(node);
  t.teardown(() => c.disconnect());
  const payload = 'p'.repeat(500 * 1024);
  const started = Date.now();
  await t.rejects(
    c.call('Q.PUSH', 'bulk', ...Array.from({ length: 20 }, () => payload)),
    /^ERR payloads of 10240000 bytes in one push, more than 8388608/,
  );
  t.ok(Date.now() - started < 2000, 'refused at once, not after a request timeout');
  t.equal(Number(await c.call('Q.LEN', 'bulk')), 0);
  const ids = (await c.call('Q.PUSH', 'bulk', ...Array.from({ length: 16 }, () => payload))) as string[];
  t.equal(ids.length, 16, 'below it is fine');
});

t.test('cache-max-bytes and cache-home-max-bytes: big entries refused, memory bounded', async (t) => {
  const bound = 64 * 1024;
  const node = await startTestNode(t, ['--cache-max-bytes', '64kb', '--cache-home-max-bytes', '64kb']);
  const c = client(node);
  t.teardown(() => c.disconnect());
  await t.rejects(
    c.call('CACHE.SET', 'huge', 'v'.repeat(bound)),
    /^LIMIT key and value of 65540 bytes exceed the \d+ bytes one cache entry may hold/,
  );
  t.equal(await c.call('CACHE.GET', 'huge'), null, 'nothing was stored');
  for (let i = 0; i < 300; i++) await c.call('CACHE.SET', `k${i}`, 'v'.repeat(1000));
  for (let i = 0; i < 300; i += 7) await c.call('CACHE.GET', `k${i}`);
  const info = fields(await c.call('INFO', 'cache'));
  t.ok(Number(info.cache_bytes) <= bound, `local cache ${info.cache_bytes} bytes <= ${bound}`);
  t.ok(
    Number(info.cache_home_memory_bytes) <= bound,
    `home memory ${info.cache_home_memory_bytes} <= ${bound}`,
  );
  t.ok(Number(info.cache_capacity_evictions) > 0, 'lines were evicted to stay within it');
  t.equal(await c.call('CACHE.GET', 'k299'), 'v'.repeat(1000), 'recent keys still read back');
});

t.test('max-inline-bytes: an endless inline line is a protocol error, the node goes on', async (t) => {
  const node = await startTestNode(t, ['--max-inline-bytes', '1kb']);
  const raw = await RawClient.open(node.port);
  raw.send('x'.repeat(4096));
  t.match(await raw.readLines(1), /^-ERR Protocol error: too big inline request\r\n$/);
  t.ok(await raw.waitClosed(), 'closed after the protocol error');
  await stillServes(t, node);
});
