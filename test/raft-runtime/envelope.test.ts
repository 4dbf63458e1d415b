import fc from 'fast-check';
import t from 'tap';
import { CodecError } from '../../src/lib/byte-codec.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/raft-runtime/envelope.js';
import { decodeMessageBatch, encodeMessageBatch } from '../../src/raft-runtime/message-batch.js';

const envelope = fc.record({
  timeMs: fc.nat({ max: 2 ** 48 }),
  session: fc.oneof(fc.constant(''), fc.stringMatching(/^[a-z0-9.]{1,64}$/)),
  seq: fc.nat(),
  ackedBelow: fc.nat(),
  payload: fc.uint8Array({ maxLength: 64 }),
});

t.test('envelopes round-trip', (t) => {
  fc.assert(
    fc.property(envelope, (e) => {
      const back = decodeEnvelope(encodeEnvelope(e));
      const expected = e.session === '' ? { ...e, seq: 0, ackedBelow: 0 } : e;
      t.same({ ...back, payload: [...back.payload] }, { ...expected, payload: [...expected.payload] });
    }),
  );
  t.end();
});

t.test('garbage envelopes throw CodecError and nothing else', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        decodeEnvelope(bytes);
      } catch (e) {
        return e instanceof CodecError;
      }
      return true;
    }),
  );
  t.throws(() => decodeEnvelope(Uint8Array.of(9)), { message: /version/ });
  t.end();
});

t.test('message batches round-trip and reject trailing bytes', (t) => {
  const messages = [
    { type: 'heartbeat' as const, groupId: 0, from: 'n1', to: 'n2', term: 3, commit: 7, seq: 1, sentTick: 4 },
    { type: 'timeoutNow' as const, groupId: 5, from: 'n1', to: 'n2', term: 3 },
  ];
  t.same(decodeMessageBatch(encodeMessageBatch(messages)), messages);
  t.same(decodeMessageBatch(encodeMessageBatch([])), []);
  const bytes = encodeMessageBatch(messages);
  t.throws(() => decodeMessageBatch(Uint8Array.of(...bytes, 1)), CodecError);
  t.throws(() => decodeMessageBatch(Uint8Array.of(200, 1)), CodecError);
  t.end();
});
