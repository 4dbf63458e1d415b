import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { startTestNode, type TestNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

async function client(t: Test, node: TestNode): Promise<Redis> {
  const redis = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => redis.disconnect());
  await redis.connect();
  return redis;
}

t.test('connection commands', async (t) => {
  const node = await startTestNode(t);
  const redis = await client(t, node);

  t.test('PING with a message echoes it', async (t) => {
    t.equal(await redis.call('PING', 'hi'), 'hi');
    await t.rejects(redis.call('PING', 'a', 'b'), /wrong number of arguments for 'ping'/);
  });

  t.test('SELECT 0 works, other databases do not', async (t) => {
    t.equal(await redis.call('SELECT', '0'), 'OK');
    await t.rejects(redis.call('SELECT', '1'), /DB index is out of range/);
    await t.rejects(redis.call('SELECT', 'x'), /not an integer/);
  });

  t.test('CLIENT ID, SETNAME, GETNAME, INFO, LIST, SETINFO', async (t) => {
    const id = (await redis.call('CLIENT', 'ID')) as number;
    t.ok(Number.isInteger(id) && id > 0);
    t.equal(await redis.call('CLIENT', 'SETNAME', 'alpha'), 'OK');
    t.equal(await redis.call('CLIENT', 'GETNAME'), 'alpha');
    await t.rejects(redis.call('CLIENT', 'SETNAME', 'has space'), /cannot contain spaces/);
    t.equal(await redis.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib'), 'OK');
    const info = String(await redis.call('CLIENT', 'INFO'));
    t.match(info, new RegExp(`id=${id} .*name=alpha .*lib-name=mylib`));
    const list = String(await redis.call('CLIENT', 'LIST'));
    t.match(list, `id=${id} `);
    await t.rejects(redis.call('CLIENT', 'NOPE'), /unknown subcommand 'NOPE'. Try CLIENT HELP/);
  });

  t.test('CLIENT KILL closes another connection by id', async (t) => {
    const victim = await RawClient.open(node.port);
    victim.send('CLIENT ID\r\n');
    const victimId = Number((await victim.readLines(1)).slice(1, -2));
    t.equal(await redis.call('CLIENT', 'KILL', 'ID', String(victimId)), 1);
    t.ok(await victim.waitClosed());
  });

  t.test('COMMAND COUNT, INFO, DOCS, LIST', async (t) => {
    const count = (await redis.call('COMMAND', 'COUNT')) as number;
    t.ok(count >= 10);
    const [info] = (await redis.call('COMMAND', 'INFO', 'echo')) as unknown[][];
    t.same(info?.slice(0, 2), ['echo', 2]);
    const docs = (await redis.call('COMMAND', 'DOCS', 'ping')) as unknown[];
    t.equal(docs[0], 'ping');
    t.match(JSON.stringify(docs[1]), /summary/);
    const names = (await redis.call('COMMAND', 'LIST')) as string[];
    t.ok(names.includes('hello'));
    const filtered = (await redis.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'cli*')) as string[];
    t.same(filtered, ['client']);
    t.equal(((await redis.call('COMMAND')) as unknown[]).length, count);
  });

  t.test('INFO sections', async (t) => {
    const all = String(await redis.call('INFO'));
    t.match(all, /# Server\r\n/);
    t.match(all, /lockstep_version:/);
    const server = String(await redis.call('INFO', 'server'));
    t.notMatch(server, /# Clients/);
    t.match(String(await redis.call('INFO', 'clients')), /connected_clients:\d+/);
    t.match(String(await redis.call('INFO', 'commandstats')), /cmdstat_ping:calls=\d+/);
  });

  t.test('CONFIG GET matches globs and hides secrets', async (t) => {
    const pairs = (await redis.call('CONFIG', 'GET', 'max*')) as string[];
    t.ok(pairs.includes('maxclients'));
    const save = (await redis.call('CONFIG', 'GET', 'save')) as string[];
    t.same(save, ['save', '']);
    const all = (await redis.call('CONFIG', 'GET', '*')) as string[];
    t.notOk(all.includes('requirepass'), 'requirepass is not shown');
    t.notOk(all.includes('cluster-secret'), 'cluster-secret is not shown');
  });

  t.test('TIME returns seconds and microseconds', async (t) => {
    const [seconds, micros] = (await redis.call('TIME')) as string[];
    t.ok(Math.abs(Number(seconds) - Date.now() / 1000) < 5);
    t.ok(Number(micros) >= 0 && Number(micros) < 1_000_000);
  });
});

t.test('HELLO switches protocol and replies with a map in RESP3', async (t) => {
  const node = await startTestNode(t);
  const raw = await RawClient.open(node.port);
  t.teardown(() => raw.close());
  raw.send('HELLO 3\r\n');
  const text = await raw.read((s) => s.includes('modules'));
  t.match(text, /^%7\r\n\$6\r\nserver\r\n\$8\r\nlockstep\r\n/);
  raw.clear();
  raw.send('HELLO 4\r\n');
  t.equal(await raw.readLines(1), '-NOPROTO unsupported protocol version\r\n');
  raw.clear();
  raw.send('CLIENT GETNAME\r\n');
  t.equal(await raw.readLines(1), '_\r\n', 'RESP3 null');
  raw.clear();
  raw.send('RESET\r\nCLIENT GETNAME\r\n');
  t.equal(await raw.readLines(2), '+RESET\r\n$-1\r\n', 'RESET returns to RESP2');
});

t.test('HELLO AUTH and SETNAME in one call', async (t) => {
  const node = await startTestNode(t, ['--requirepass', 'pw']);
  const raw = await RawClient.open(node.port);
  t.teardown(() => raw.close());
  raw.send('HELLO 3\r\n');
  t.match(await raw.readLines(1), /^-NOAUTH HELLO must be called/);
  raw.clear();
  raw.send('HELLO 3 AUTH default nope\r\n');
  t.match(await raw.readLines(1), /^-WRONGPASS/);
  raw.clear();
  raw.send('HELLO 3 AUTH default pw SETNAME me\r\nCLIENT GETNAME\r\n');
  t.match(await raw.read((s) => s.endsWith('$2\r\nme\r\n')), /\$2\r\nme\r\n$/);
});

t.test('QUIT replies OK and closes', async (t) => {
  const node = await startTestNode(t);
  const raw = await RawClient.open(node.port);
  raw.send('QUIT\r\nPING\r\n');
  t.equal(await raw.readLines(1), '+OK\r\n');
  t.ok(await raw.waitClosed());
  t.equal(raw.text, '+OK\r\n', 'nothing after QUIT runs');
});

t.test('maxclients refuses the connection over the limit', async (t) => {
  const node = await startTestNode(t, ['--maxclients', '2']);
  const a = await RawClient.open(node.port);
  const b = await RawClient.open(node.port);
  t.teardown(() => {
    a.close();
    b.close();
  });
  const c = await RawClient.open(node.port);
  t.equal(await c.readLines(1), '-ERR max number of clients reached\r\n');
  t.ok(await c.waitClosed());
});

t.test('an idle client is closed after the timeout', async (t) => {
  const node = await startTestNode(t, ['--timeout-ms', '200']);
  const raw = await RawClient.open(node.port);
  t.ok(await raw.waitClosed(3000));
});

t.test('a client that does not read is paused, not buffered without bound', async (t) => {
  const limitBytes = 65536;
  const node = await startTestNode(t, ['--client-output-buffer-bytes', String(limitBytes)]);
  const raw = await RawClient.open(node.port);
  t.teardown(() => raw.close());
  raw.pause();
  const payload = 'x'.repeat(60_000);
  const command = `*2\r\n$4\r\nECHO\r\n$${payload.length}\r\n${payload}\r\n`;
  const commands = 100;
  for (let i = 0; i < commands; i++) raw.send(command);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [connection] = node.resp.connections.values();
  t.ok(connection, 'the client is still connected');
  // The kernel's socket buffers hold some replies; what the server itself keeps is bounded by
  // the limit plus the replies to one read.
  t.ok(
    (connection?.outputBytes ?? 0) <= limitBytes + 2 * 65536,
    `server holds ${connection?.outputBytes} bytes`,
  );
  raw.resume();
  const replyBytes = payload.length + 10;
  const text = await raw.read((s) => s.length >= commands * replyBytes, 20_000);
  t.equal(text.length, commands * replyBytes, 'every reply arrives after the client reads again');
});
