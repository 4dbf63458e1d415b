import fc from 'fast-check';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';
import { RawClient } from '../helpers/raw-client.js';

t.test('malformed RESP gets a protocol error and the connection closes', async (t) => {
  const node = await startTestNode(t);
  for (const garbage of ['*2\r\n$4\r\nECHO\r\n:1\r\n', '*1\r\n$x\r\n', '*abc\r\n']) {
    const client = await RawClient.open(node.port);
    client.send(garbage);
    t.match(await client.readLines(1), /^-ERR Protocol error: .+\r\n$/, JSON.stringify(garbage));
    t.ok(await client.waitClosed(), 'closed after a protocol error');
  }
});

t.test('wrong arity and unknown commands get Redis errors and the connection stays usable', async (t) => {
  const node = await startTestNode(t);
  const client = await RawClient.open(node.port);
  t.teardown(() => client.close());
  client.send('*1\r\n$4\r\nECHO\r\n*2\r\n$5\r\nNOPE!\r\n$1\r\nx\r\n*1\r\n$4\r\nPING\r\n');
  const text = await client.readLines(3);
  t.equal(
    text,
    "-ERR wrong number of arguments for 'echo' command\r\n" +
      "-ERR unknown command 'nope!', with args beginning with: 'x'\r\n" +
      '+PONG\r\n',
  );
  t.notOk(client.closed);
});

t.test('inline commands work like telnet', async (t) => {
  const node = await startTestNode(t);
  const client = await RawClient.open(node.port);
  t.teardown(() => client.close());
  client.send('PING\r\nECHO "two words"\r\nping\n');
  t.equal(await client.readLines(4), '+PONG\r\n$9\r\ntwo words\r\n+PONG\r\n');
});

t.test('oversize bulk length and argument count are refused without buffering', async (t) => {
  const node = await startTestNode(t, ['--max-bulk-bytes', '1024', '--max-args', '16']);
  const big = await RawClient.open(node.port);
  big.send('*2\r\n$4\r\nECHO\r\n$999999\r\n');
  t.match(await big.readLines(1), /^-ERR Protocol error: invalid bulk length/);
  t.ok(await big.waitClosed());
  const many = await RawClient.open(node.port);
  many.send('*100\r\n');
  t.match(await many.readLines(1), /^-ERR Protocol error: invalid multibulk length/);
  t.ok(await many.waitClosed());
});

t.test('random and mutated byte streams never crash the server', async (t) => {
  const node = await startTestNode(t);
  const witness = await RawClient.open(node.port);
  t.teardown(() => witness.close());
  const valid = '*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n';
  const mutated = fc
    .array(fc.record({ at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), {
      maxLength: 4,
    })
    .map((edits) => {
      const bytes = Buffer.from(valid);
      for (const { at, byte } of edits) bytes[at] = byte;
      return bytes;
    });
  const stream = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    mutated,
  );
  let round = 0;
  await fc.assert(
    fc.asyncProperty(stream, async (bytes) => {
      const client = await RawClient.open(node.port);
      client.send(bytes);
      await client.read((text) => text.length > 0, 50);
      client.close();
      round++;
      witness.clear();
      witness.send(`*2\r\n$4\r\nECHO\r\n$${String(round).length}\r\n${round}\r\n`);
      const reply = await witness.readLines(2);
      return reply === `$${String(round).length}\r\n${round}\r\n`;
    }),
    { numRuns: Number(process.env['LOCKSTEP_FUZZ_RUNS'] ?? 150) },
  );
});

t.test('AUTH: NOAUTH before, WRONGPASS for a bad password, OK after', async (t) => {
  const node = await startTestNode(t, ['--requirepass', 'right']);
  const raw = await RawClient.open(node.port);
  t.teardown(() => raw.close());
  raw.send('PING\r\nAUTH wrong\r\nAUTH default wrong\r\nAUTH right\r\nPING\r\n');
  t.equal(
    await raw.readLines(5),
    '-NOAUTH Authentication required.\r\n' +
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n' +
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n' +
      '+OK\r\n+PONG\r\n',
  );
});

t.test('before AUTH, Redis limits for strangers apply (no big buffers)', async (t) => {
  const node = await startTestNode(t, ['--requirepass', 'pw']);
  const raw = await RawClient.open(node.port);
  raw.send('*2\r\n$4\r\nECHO\r\n$100000\r\n');
  t.match(await raw.readLines(1), /^-ERR Protocol error: unauthenticated bulk length/);
  t.ok(await raw.waitClosed());
});
