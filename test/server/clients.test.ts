import { Redis } from 'ioredis';
import { createClient } from 'redis';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';

const PIPELINE_COMMANDS = 10_000;

t.test('ioredis connects, runs the handshake and pipelines in order', async (t) => {
  const node = await startTestNode(t);
  const client = new Redis({
    port: node.port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  t.teardown(() => client.disconnect());
  await client.connect();
  t.equal(await client.ping(), 'PONG');
  t.equal(await client.echo('hello'), 'hello');
  const pipeline = client.pipeline();
  for (let i = 0; i < PIPELINE_COMMANDS; i++) pipeline.echo(`m${i}`);
  const results = await pipeline.exec();
  t.equal(results?.length, PIPELINE_COMMANDS);
  const outOfOrder = results?.findIndex(([err, value], i) => err !== null || value !== `m${i}`);
  t.equal(outOfOrder, -1, 'every reply in order');
});

t.test('ioredis authenticates with a password', async (t) => {
  const node = await startTestNode(t, ['--requirepass', 's3cret']);
  const client = new Redis({
    port: node.port,
    host: '127.0.0.1',
    password: 's3cret',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  t.teardown(() => client.disconnect());
  await client.connect();
  t.equal(await client.ping(), 'PONG');
  const pipeline = client.pipeline();
  for (let i = 0; i < PIPELINE_COMMANDS; i++) pipeline.ping(`p${i}`);
  const results = await pipeline.exec();
  t.equal(results?.filter(([err, v], i) => err === null && v === `p${i}`).length, PIPELINE_COMMANDS);
});

for (const RESP of [2, 3] as const) {
  t.test(`node-redis RESP${RESP} connects, authenticates and pipelines in order`, async (t) => {
    const node = await startTestNode(t, ['--requirepass', 'pw']);
    const client = createClient({
      socket: { port: node.port, host: '127.0.0.1', reconnectStrategy: false },
      password: 'pw',
      RESP,
    });
    client.on('error', () => {});
    await client.connect();
    t.teardown(() => client.destroy());
    t.equal(await client.ping(), 'PONG');
    t.equal(await client.sendCommand(['CLIENT', 'SETNAME', 'worker-1']), 'OK');
    t.equal(await client.sendCommand(['CLIENT', 'GETNAME']), 'worker-1');
    const replies = await Promise.all(
      Array.from({ length: PIPELINE_COMMANDS }, (_, i) => client.sendCommand(['ECHO', `e${i}`])),
    );
    t.equal(replies.filter((r, i) => r === `e${i}`).length, PIPELINE_COMMANDS);
    const hello = (await client.sendCommand(['HELLO', String(RESP)])) as unknown;
    if (RESP === 3) t.equal((hello as Record<string, unknown>)['proto'], 3);
    else t.ok(Array.isArray(hello) && hello.includes('proto'));
  });
}

t.test('ACL users from a file: categories are enforced per command', async (t) => {
  const acl = [
    'user default off',
    'user admin on >adminpw +@all',
    'user reader on >readerpw +@connection -client|kill',
  ].join('\n');
  const node = await startTestNode(t, [], acl);
  const reader = new Redis({
    port: node.port,
    host: '127.0.0.1',
    username: 'reader',
    password: 'readerpw',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  t.teardown(() => reader.disconnect());
  await reader.connect();
  t.equal(await reader.ping(), 'PONG');
  await t.rejects(
    reader.call('CONFIG', 'GET', 'port'),
    /NOPERM User reader has no permissions to run the 'config\|get' command/,
  );
  await t.rejects(reader.call('CLIENT', 'KILL', 'ID', '999'), /NOPERM/);
  const admin = new Redis({
    port: node.port,
    host: '127.0.0.1',
    username: 'admin',
    password: 'adminpw',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  t.teardown(() => admin.disconnect());
  await admin.connect();
  t.same(await admin.call('CONFIG', 'GET', 'port'), ['port', String(0)]);
});
