import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import t from 'tap';
import { LocalCluster } from '../../tools/local-cluster.js';
import { freePorts } from '../helpers/ports.js';

t.test('the built binary starts, serves, stops on SIGTERM and restarts after kill -9', async (t) => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
  const [basePort, baseHttpPort] = await freePorts(2);
  const cluster = new LocalCluster({ size: 1, basePort: basePort!, baseHttpPort: baseHttpPort!, dataRoot });
  t.teardown(async () => {
    await cluster.stopAll();
    rmSync(dataRoot, { recursive: true, force: true });
  });
  await cluster.start();
  const port = cluster.node('n1').port;
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  await client.connect();
  t.equal(await client.ping(), 'PONG');
  client.disconnect();

  await cluster.kill('n1');
  t.notOk(cluster.isRunning('n1'), 'kill -9 ended the process');
  await cluster.restart('n1');
  t.ok(cluster.isRunning('n1'), 'restarted on the same data dir');

  await cluster.stop('n1');
  t.notOk(cluster.isRunning('n1'), 'SIGTERM stops it cleanly');
});
