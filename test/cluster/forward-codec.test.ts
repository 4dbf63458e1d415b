import fc from 'fast-check';
import t from 'tap';
import {
  decodeForwardReply,
  decodeForwardRequest,
  encodeForwardReply,
  encodeForwardRequest,
  type ForwardRequest,
} from '../../src/cluster/forward-codec.js';
import { CodecError } from '../../src/lib/byte-codec.js';
import { int } from '../../src/resp/reply.js';

const requests: ForwardRequest[] = [
  {
    kind: 'propose',
    id: 1,
    group: 3,
    session: 'n1.abc',
    seq: 9,
    ackedBelow: 4,
    payload: Uint8Array.of(0, 1, 2),
  },
  {
    kind: 'join',
    id: 2,
    member: { id: 'n4', host: '127.0.0.1', port: 7004, busPort: 17004, httpPort: 8004 },
  },
  { kind: 'transfer', id: 3, group: 0, to: 'n2' },
  { kind: 'query', id: 4, group: 7, timeoutMs: 2500, payload: Uint8Array.of(3, 1, 2) },
];

t.test('requests and replies round-trip', (t) => {
  for (const r of requests) {
    const back = decodeForwardRequest(encodeForwardRequest(r));
    t.same(back, r, r.kind);
  }
  for (const r of [
    { kind: 'done' as const, id: 7, reply: int(42) },
    { kind: 'done' as const, id: 8, reply: undefined },
    { kind: 'redirect' as const, id: 9, leaderId: 'n3' },
    { kind: 'redirect' as const, id: 10, leaderId: '' },
    { kind: 'redirect' as const, id: 11, leaderId: 'n2', appended: true as const },
  ]) {
    t.same(decodeForwardReply(encodeForwardReply(r)), r, `${r.kind} ${r.id}`);
  }
  t.end();
});

t.test('garbage from a peer throws CodecError only', (t) => {
  const decoders = [decodeForwardRequest, decodeForwardReply];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...decoders), (bytes, decode) => {
      try {
        decode(bytes);
      } catch (e) {
        return e instanceof CodecError;
      }
      return true;
    }),
  );
  const join = encodeForwardRequest(requests[1]!);
  t.throws(() => decodeForwardRequest(join.subarray(0, join.length - 2)), CodecError, 'truncated');
  t.end();
});
