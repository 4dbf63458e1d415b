import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { readTlsFiles } from '../../src/config/tls-files.js';
import { call, FAST_CLUSTER_ARGS, startTestCluster, waitForCluster, waitUntil } from '../helpers/cluster.js';
import { startTestNode } from '../helpers/node.js';
import { freePortRange, freePorts } from '../helpers/ports.js';

/**
 * TLS on the client port and the cluster bus (DESIGN §10) with real clients: a 3-node cluster
 * whose bus is mutual TLS serves ioredis, node-redis and redis-cli on its TLS ports, while
 * plaintext clients, clients that trust another CA and bus peers with a certificate from
 * another CA get nothing. Certificates come from `tools/make-test-certs.ts` (what operators
 * run), so the test needs the openssl CLI and the build (`npm run build`), and skips without.
 */
const run = promisify(execFile);
const MAKE_CERTS = resolve('dist', 'tools', 'make-test-certs.js');

function installed(command: string, probe: string[]): string | null {
  try {
    return execFileSync(command, probe, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch {
    return null;
  }
}

const hasOpenssl = installed('openssl', ['version']) !== null;
const skip = !hasOpenssl
  ? 'the openssl CLI is not installed'
  : !existsSync(MAKE_CERTS)
    ? 'run npm run build'
    : false;
const cliHelp = installed('redis-cli', ['--help']) ?? '';
const cliSkip =
  cliHelp === ''
    ? 'redis-cli is not installed'
    : !cliHelp.includes('--tls')
      ? 'redis-cli lacks --tls'
      : false;

interface Pki {
  dir: string;
  ca: Buffer;
  file: (name: string) => string;
  /** A self-signed certificate and key: not from our CA. */
  rogue: { cert: Buffer; key: Buffer };
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  execFileSync(process.execPath, [MAKE_CERTS, '--out', dir], { stdio: 'pipe' });
  const rogueArgs =
    'req -x509 -nodes -days 1 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj /CN=rogue';
  execFileSync(
    'openssl',
    [
      ...rogueArgs.split(' '),
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'rogue-key.pem'),
      '-out',
      join(dir, 'rogue.pem'),
    ],
    { stdio: 'ignore' },
  );
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.pem')),
    file: (name) => join(dir, name),
    rogue: { cert: readFileSync(join(dir, 'rogue.pem')), key: readFileSync(join(dir, 'rogue-key.pem')) },
  };
}

const tlsArgs = (pki: Pki) => [
  '--tls-cert-file',
  pki.file('node.pem'),
  '--tls-key-file',
  pki.file('node-key.pem'),
  '--tls-ca-file',
  pki.file('ca.pem'),
];

interface RawOutcome {
  /** The handshake completed on our side (TLS 1.3 completes before the server checks us). */
  secured: boolean;
  /** What the server sent first after the handshake (a bus acceptor greets with HELLO at once). */
  reply: string;
  error: string | null;
  /** The server ended the connection before it sent anything or 3 s passed. */
  closedByServer: boolean;
}

/** Connects with `options`, sends `send`, and reports the first reply, the close or 3 s of silence. */
function rawTls(options: tls.ConnectionOptions, send = ''): Promise<RawOutcome> {
  return new Promise((done) => {
    const outcome: RawOutcome = { secured: false, reply: '', error: null, closedByServer: false };
    let ours = false;
    const finish = () => {
      ours = true;
      socket.destroy();
    };
    const socket = tls.connect({ host: '127.0.0.1', ...options });
    const timer = setTimeout(finish, 3000);
    socket.on('secureConnect', () => {
      outcome.secured = true;
      if (send !== '') socket.write(send);
    });
    socket.on('data', (chunk: Buffer) => {
      outcome.reply += chunk.toString('latin1');
      finish();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      outcome.error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(timer);
      outcome.closedByServer = !ours;
      done(outcome);
    });
  });
}

/** Sends a plaintext PING to `port` and returns what came back before the server closed. */
function plaintextPing(port: number): Promise<{ reply: string; closed: boolean }> {
  return new Promise((done) => {
    let reply = '';
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    const timer = setTimeout(() => {
      socket.destroy();
      done({ reply, closed: false });
    }, 3000);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      done({ reply, closed: true });
    });
  });
}

function tlsRedis(
  port: number,
  ca: Buffer,
  extra: Partial<tls.ConnectionOptions> = {},
  password?: string,
): Redis {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    password,
    tls: { ca, ...extra },
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    commandTimeout: 8000,
  });
  client.on('error', () => {});
  return client;
}

t.test('make-test-certs refuses to overwrite without --force', { skip }, async (t) => {
  const pki = makePki();
  t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }));
  const before = readFileSync(pki.file('ca.pem'));
  await t.rejects(run(process.execPath, [MAKE_CERTS, '--out', pki.dir]), { stderr: /--force/ });
  t.same(readFileSync(pki.file('ca.pem')), before, 'the CA is untouched');
  await run(process.execPath, [MAKE_CERTS, '--out', pki.dir, '--force']);
  t.not(readFileSync(pki.file('ca.pem')).toString(), before.toString(), 'replaced with --force');
});

t.test('configuration: TLS files are checked at start, client auth needs a CA', { skip }, async (t) => {
  const pki = makePki();
  t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }));
  const load = (...argv: string[]) => loadConfig({ argv, env: {} });
  t.throws(
    () => load('--tls-port', '6390', '--tls-cert-file', 'c', '--tls-key-file', 'k', '--tls-auth-clients'),
    {
      message: '--tls-auth-clients needs --tls-port and --tls-ca-file to verify client certificates',
    },
  );
  t.throws(
    () =>
      readTlsFiles(load('--tls-port', '6390', '--tls-cert-file', '/nonexistent.pem', '--tls-key-file', 'k')),
    {
      message: 'cannot read --tls-cert-file /nonexistent.pem: ENOENT',
    },
  );
  const mismatched = load(
    ...[
      '--tls-port',
      '6390',
      '--tls-cert-file',
      pki.file('node.pem'),
      '--tls-key-file',
      pki.file('client-key.pem'),
    ],
  );
  t.throws(() => readTlsFiles(mismatched), { message: /unusable: .*key values mismatch/ });
});

t.test('a 3-node cluster over a mutual-TLS bus serves TLS clients', { skip }, async (t) => {
  const pki = makePki();
  t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  const cluster = await startTestCluster(t, {
    size: 3,
    onLog: (id, line) => {
      if (line.includes('"level":40')) warnings.push(`${id} ${line}`);
    },
    baseTlsPort: await freePortRange(3),
    extraArgs: [...FAST_CLUSTER_ARGS, ...tlsArgs(pki), '--tls-bus', 'yes'],
  });
  const leader = await waitForCluster(cluster, 3);
  t.ok(leader, `the cluster formed over the TLS bus; group 0 leader ${leader}`);
  const follower = cluster.nodes.find((n) => n.id !== leader)!;
  const tlsPort = follower.tlsPort!;

  t.test('ioredis with the CA: locks (forwarded), queues and the cache', async (t) => {
    const client = tlsRedis(tlsPort, pki.ca);
    t.teardown(() => client.disconnect());
    t.equal(await client.ping(), 'PONG');
    const token = Number(await client.call('LOCK.ACQUIRE', 'tls-lock', 'OWNER', 'a', 'TTL', '30000'));
    t.ok(token > 0, `LOCK.ACQUIRE on follower ${follower.id} granted token ${token}`);
    t.equal(await client.call('LOCK.RELEASE', 'tls-lock', 'OWNER', 'a', 'TOKEN', String(token)), 1);
    const id = await client.call('Q.PUSH', 'tls-queue', 'hello');
    t.match(id, /^\d+-\d+$/, 'Q.PUSH returns an id');
    const popped = (await client.call('Q.POP', 'tls-queue')) as unknown[];
    t.equal(popped[0], id);
    t.equal(popped[1], 'hello');
    t.equal(await client.call('CACHE.SET', 'tls-key', '42'), 'OK');
    t.equal(await client.call('CACHE.GET', 'tls-key'), '42');
    const other = cluster.nodes.find((n) => n.id !== follower.id)!;
    t.equal(
      await call(other.port, 'CACHE.GET', 'tls-key'),
      '42',
      'another node reads it (coherence on the bus)',
    );
  });

  t.test('node-redis with socket.tls and the CA', async (t) => {
    const client = createClient({
      socket: { host: '127.0.0.1', port: tlsPort, tls: true, ca: pki.ca, reconnectStrategy: false },
    });
    client.on('error', () => {});
    await client.connect();
    t.teardown(() => client.destroy());
    t.equal(await client.ping(), 'PONG');
    t.ok(Number(await client.sendCommand(['LOCK.ACQUIRE', 'tls-lock-2', 'OWNER', 'b'])) > 0);
    t.match(await client.sendCommand(['CLIENT', 'LIST']), /laddr=127\.0\.0\.1:\d+/);
  });

  t.test('redis-cli --tls --cacert', { skip: cliSkip }, async (t) => {
    const args = ['--tls', '--cacert', pki.file('ca.pem'), '-h', '127.0.0.1', '-p', String(tlsPort), 'PING'];
    const { stdout } = await run('redis-cli', args, { timeout: 10_000 });
    t.equal(stdout, 'PONG\n');
  });

  t.test('a plaintext client on the TLS port gets no reply', async (t) => {
    const { reply, closed } = await plaintextPing(tlsPort);
    t.notMatch(reply, /PONG/);
    t.ok(closed, 'and the server closes the connection');
  });

  t.test('a TLS client trusting another CA refuses the server', async (t) => {
    const client = tlsRedis(tlsPort, pki.rogue.cert);
    t.teardown(() => client.disconnect());
    await t.rejects(client.ping());
    const outcome = await rawTls({ port: tlsPort, ca: pki.rogue.cert }, 'PING\r\n');
    t.notOk(outcome.secured);
    t.equal(outcome.reply, '');
    t.match(outcome.error, /SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i);
  });

  t.test('the bus only admits certificates from the CA', async (t) => {
    const port = follower.busPort;
    const nodeCert = {
      cert: readFileSync(pki.file('node.pem')),
      key: readFileSync(pki.file('node-key.pem')),
    };
    const valid = await rawTls({ port, ca: pki.ca, ...nodeCert });
    t.ok(valid.secured && valid.reply.length > 0, 'control: a node certificate is greeted with HELLO');
    const rogue = await rawTls({ port, ca: pki.ca, ...pki.rogue });
    t.equal(rogue.reply, '', 'a self-signed certificate gets not one byte of the bus protocol');
    t.ok(rogue.closedByServer, 'and the node closes the connection');
    await waitUntil('the refusal in the log', async () =>
      warnings.some(
        (w) => w.startsWith(follower.id) && /127\.0\.0\.1:\d+.*SELF_SIGNED.*bus TLS handshake failed/.test(w),
      ),
    );
    const anonymous = await rawTls({ port, ca: pki.ca });
    t.equal(anonymous.reply, '', 'nor does a client without a certificate');
    t.ok(anonymous.closedByServer, 'and is closed');
    const { reply, closed } = await plaintextPing(port);
    t.notMatch(reply, /PONG|lockstep/, 'nor plain TCP');
    t.ok(closed);
  });
});

t.test(
  'one node: the TLS port shares AUTH and maxclients, and can demand client certificates',
  { skip },
  async (t) => {
    const pki = makePki();
    t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }));
    const [tlsPort] = (await freePorts(1)) as [number];
    const node = await startTestNode(t, [
      ...['--tls-port', String(tlsPort), ...tlsArgs(pki), '--tls-auth-clients', 'yes'],
      ...['--requirepass', 'pw', '--maxclients', '2'],
    ]);
    const clientCert = {
      cert: readFileSync(pki.file('client.pem')),
      key: readFileSync(pki.file('client-key.pem')),
    };

    const withoutCert = await rawTls({ port: tlsPort, ca: pki.ca }, 'PING\r\n');
    t.equal(withoutCert.reply, '', 'no client certificate: no reply');
    t.ok(withoutCert.closedByServer, 'and closed');
    const rogue = await rawTls({ port: tlsPort, ca: pki.ca, ...pki.rogue }, 'PING\r\n');
    t.equal(rogue.reply, '', 'a certificate from another CA: no reply');
    t.ok(rogue.closedByServer, 'and closed');
    const noAuth = await rawTls({ port: tlsPort, ca: pki.ca, ...clientCert }, 'PING\r\n');
    t.match(noAuth.reply, /^-NOAUTH/, 'a good certificate still needs AUTH');

    const client = tlsRedis(tlsPort, pki.ca, clientCert, 'pw');
    t.teardown(() => client.disconnect());
    t.equal(await client.ping(), 'PONG', 'certificate and password: served');
    const plain = new Redis({
      port: node.port,
      host: '127.0.0.1',
      password: 'pw',
      retryStrategy: () => null,
    });
    plain.on('error', () => {});
    t.teardown(() => plain.disconnect());
    t.equal(await plain.ping(), 'PONG');
    t.equal(node.resp.connections.size, 2, 'one registry holds the clients of both ports');
    const third = await rawTls({ port: tlsPort, ca: pki.ca, ...clientCert });
    t.match(third.reply, /max number of clients/, 'a third client on the TLS port is refused...');
    t.equal(node.resp.rejectedConnections, 1, '...by the maxclients both ports share');
  },
);
