import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import t from 'tap';
import { FrameType } from '../../../src/cluster/bus/frame.js';
import type { BusSocketFactory } from '../../../src/cluster/bus/transport.js';
import { mesh, startNode, type TestNode, text, waitFor } from './fixtures/harness.js';

/** A throwaway self-signed certificate, made with the openssl CLI (the test skips without it). */
function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bus-tls-'));
  try {
    const args =
      'req -x509 -nodes -days 1 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj /CN=localhost';
    const outputs = [
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ];
    execFileSync('openssl', [...args.split(' '), ...outputs], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const credentials = selfSignedCertificate();

t.test(
  'the bus runs over TLS through the socket factory',
  { skip: credentials === undefined && 'no openssl' },
  async (t) => {
    const { key, cert } = credentials!;
    const sockets: BusSocketFactory = {
      createServer: (onConnection) =>
        tls.createServer({ key, cert, requestCert: true, ca: [cert] }, onConnection),
      connect: (peer) => tls.connect({ host: peer.host, port: peer.port, key, cert, ca: [cert] }),
    };
    const nodes = [await startNode('a', { sockets }), await startNode('b', { sockets })];
    t.teardown(() => Promise.all(nodes.map((n) => n.transport.close())).then(() => undefined));
    const [a, b] = nodes as [TestNode, TestNode];
    mesh(nodes);
    await waitFor('a <-> b over TLS', () => a.events.includes('up b') && b.events.includes('up a'));
    t.ok(a.transport.send('b', FrameType.RAFT, text('encrypted')));
    await waitFor('frame', () => b.frames.length === 1);
    t.equal(b.frames[0]!.text, 'encrypted');
  },
);
