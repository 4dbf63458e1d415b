import t from 'tap';
import {
  authProof,
  decodeHello,
  encodeHello,
  type Hello,
  newIncarnation,
  newNonce,
  proofMatches,
} from '../../../src/cluster/bus/handshake.js';

const hello = (nodeId: string): Hello => ({
  version: 1,
  nonce: newNonce(),
  incarnation: newIncarnation(),
  clusterName: 'prod-eu',
  nodeId,
});

t.test('HELLO round-trips', async (t) => {
  const h = hello('n1');
  t.same(decodeHello(encodeHello(h)), { ...h, nonce: Buffer.from(h.nonce) });
});

t.test('malformed HELLOs are refused with a reason', async (t) => {
  const bytes = encodeHello(hello('n1'));
  t.throws(() => decodeHello(bytes.subarray(0, bytes.length - 1)), { message: 'truncated HELLO' });
  t.throws(() => decodeHello(Buffer.concat([bytes, Buffer.of(0)])), {
    message: 'trailing bytes after HELLO',
  });
  const future = Buffer.from(bytes);
  future[0] = 2;
  t.throws(() => decodeHello(future), { message: 'bus protocol version 2 is not 1' });
  t.throws(() => decodeHello(new Uint8Array(0)), { message: 'truncated HELLO' });
});

t.test('a proof binds the secret, the role and both HELLOs', async (t) => {
  const secret = Buffer.from('s3cret');
  const dialer = encodeHello(hello('n1'));
  const acceptor = encodeHello(hello('n2'));
  const proof = authProof(secret, 'dialer', dialer, acceptor);
  t.ok(proofMatches(proof, authProof(secret, 'dialer', dialer, acceptor)), 'same inputs, same proof');
  t.notOk(
    proofMatches(proof, authProof(secret, 'acceptor', dialer, acceptor)),
    'a proof cannot be reflected',
  );
  t.notOk(proofMatches(proof, authProof(Buffer.from('other'), 'dialer', dialer, acceptor)), 'other secret');
  const replayed = encodeHello(hello('n2'));
  t.notOk(proofMatches(proof, authProof(secret, 'dialer', dialer, replayed)), 'fresh nonce, fresh proof');
  t.notOk(proofMatches(proof, proof.subarray(0, 31)), 'a short proof is refused without comparing');
});
