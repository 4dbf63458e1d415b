import fc from 'fast-check';
import t from 'tap';
import {
  CodecError,
  decodeConfChange,
  decodeMessage,
  encodeConfChange,
  encodeMessage,
} from '../../src/raft/codec.js';
import type { ConfChange, Entry, Message, SnapshotMetadata } from '../../src/raft/types.js';

const nat = fc.maxSafeNat();
/** Plain objects only: fast-check may otherwise build prototype-less ones, which compare unequal. */
const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });
const nodeId = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const bytes = fc.uint8Array({ maxLength: 64 });
const entry: fc.Arbitrary<Entry> = record({
  term: nat,
  index: nat,
  type: fc.constantFrom('normal' as const, 'confChange' as const),
  data: bytes,
});
const header = record({ groupId: fc.nat({ max: 0xffff_ffff }), from: nodeId, to: nodeId, term: nat });
const snapshotMetadata: fc.Arbitrary<SnapshotMetadata> = record({
  index: nat,
  term: nat,
  sizeBytes: fc.nat({ max: 1 << 20 }),
  confState: record({
    voters: fc.array(nodeId, { maxLength: 7 }),
    learners: fc.array(nodeId, { maxLength: 7 }),
  }),
});

const message: fc.Arbitrary<Message> = fc.oneof(
  record({
    h: header,
    prevIndex: nat,
    prevTerm: nat,
    commit: nat,
    entries: fc.array(entry, { maxLength: 5 }),
  }).map(({ h, ...m }) => ({ ...h, type: 'append' as const, ...m })),
  record({ h: header, index: nat, reject: fc.boolean(), hintIndex: nat, hintTerm: nat }).map(
    ({ h, ...m }) => ({
      ...h,
      type: 'appendResponse' as const,
      ...m,
    }),
  ),
  record({
    h: header,
    type: fc.constantFrom('vote' as const, 'preVote' as const),
    lastIndex: nat,
    lastTerm: nat,
    transfer: fc.boolean(),
  }).map(({ h, ...m }) => ({ ...h, ...m })),
  record({
    h: header,
    type: fc.constantFrom('voteResponse' as const, 'preVoteResponse' as const),
    reject: fc.boolean(),
  }).map(({ h, ...m }) => ({ ...h, ...m })),
  record({ h: header, commit: nat, seq: nat, sentTick: nat }).map(({ h, ...m }) => ({
    ...h,
    type: 'heartbeat' as const,
    ...m,
  })),
  record({ h: header, seq: nat, sentTick: nat }).map(({ h, ...m }) => ({
    ...h,
    type: 'heartbeatResponse' as const,
    ...m,
  })),
  record({ h: header, snapshot: snapshotMetadata, data: bytes }).map(({ h, snapshot, data }) => ({
    ...h,
    type: 'snapshot' as const,
    snapshot: { ...snapshot, sizeBytes: snapshot.sizeBytes + data.byteLength },
    offset: snapshot.sizeBytes,
    data,
  })),
  record({ h: header, snapshotIndex: nat, offset: nat, reject: fc.boolean() }).map(({ h, ...m }) => ({
    ...h,
    type: 'snapshotResponse' as const,
    ...m,
  })),
  header.map((h) => ({ ...h, type: 'timeoutNow' as const })),
  record({ h: header, context: bytes }).map(({ h, ...m }) => ({ ...h, type: 'readIndex' as const, ...m })),
  record({ h: header, index: nat, context: bytes }).map(({ h, ...m }) => ({
    ...h,
    type: 'readIndexResponse' as const,
    ...m,
  })),
);

const confChange: fc.Arbitrary<ConfChange> = record({
  type: fc.constantFrom('addLearner' as const, 'addVoter' as const, 'promote' as const, 'remove' as const),
  nodeId,
});

/** Decoding must either succeed or throw a CodecError: no other exception, no hang. */
function decodesCleanly(decode: (b: Uint8Array) => unknown, input: Uint8Array): boolean {
  try {
    decode(input);
    return true;
  } catch (e) {
    return e instanceof CodecError;
  }
}

t.test('every message survives encode then decode unchanged', (t) => {
  fc.assert(
    fc.property(message, (m) => {
      t.strictSame(decodeMessage(encodeMessage(m)), m);
    }),
    { numRuns: 2000 },
  );
  t.end();
});

t.test('node ids of any length up to 255 bytes, ASCII or not, survive', (t) => {
  for (const id of ['n'.repeat(127), 'n'.repeat(128), 'n'.repeat(255), 'é'.repeat(127), 'ノード-1']) {
    const m: Message = { type: 'timeoutNow', groupId: 1, from: id, to: 'x', term: 1 };
    t.strictSame(decodeMessage(encodeMessage(m)), m, `${id.length} characters`);
  }
  t.throws(
    () => encodeMessage({ type: 'timeoutNow', groupId: 1, from: 'n'.repeat(256), to: 'x', term: 1 }),
    CodecError,
  );
  t.throws(
    () => encodeMessage({ type: 'timeoutNow', groupId: 1, from: 'é'.repeat(128), to: 'x', term: 1 }),
    CodecError,
  );
  t.end();
});

t.test('configuration changes survive encode then decode unchanged', (t) => {
  fc.assert(fc.property(confChange, (cc) => t.strictSame(decodeConfChange(encodeConfChange(cc)), cc)));
  t.end();
});

t.test('random bytes are refused with a CodecError', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => decodesCleanly(decodeMessage, b)),
    { numRuns: 20000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (b) => decodesCleanly(decodeConfChange, b)),
    { numRuns: 5000 },
  );
  t.end();
});

t.test('a valid message with a version and type prefix but garbage after is refused cleanly', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 13 }), fc.uint8Array({ maxLength: 200 }), (type, rest) =>
      decodesCleanly(decodeMessage, Uint8Array.of(1, type, ...rest)),
    ),
    { numRuns: 20000 },
  );
  t.end();
});

t.test('every truncation and every single-byte corruption of a valid message is refused or decodes', (t) => {
  fc.assert(
    fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, value) => {
      const encoded = encodeMessage(m);
      const cut = at % encoded.length;
      t.throws(() => decodeMessage(encoded.subarray(0, cut)), CodecError);
      const corrupt = encoded.slice();
      corrupt[cut] = value;
      return decodesCleanly(decodeMessage, corrupt);
    }),
    { numRuns: 3000 },
  );
  t.end();
});

t.test('lengths are checked before anything is allocated', (t) => {
  // An append claiming 2^40 entries in a 20-byte message must fail at once.
  const huge = Uint8Array.of(1, 1, 0, 1, 0x61, 1, 0x62, 1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20);
  t.throws(() => decodeMessage(huge), { name: 'CodecError', message: /cannot fit/ });
  const bigBytes = encodeMessage({
    type: 'readIndex',
    groupId: 0,
    from: 'a',
    to: 'b',
    term: 0,
    context: new Uint8Array(4),
  });
  bigBytes[bigBytes.length - 5] = 0xff;
  t.throws(() => decodeMessage(bigBytes), CodecError);
  t.end();
});

t.test('errors name what is wrong', (t) => {
  t.throws(() => decodeMessage(new Uint8Array(0)), { message: /truncated input/ });
  t.throws(() => decodeMessage(Uint8Array.of(9)), { message: /unsupported message version 9/ });
  t.throws(() => decodeMessage(Uint8Array.of(1, 99)), { message: /unknown message type code 99/ });
  const ok = encodeMessage({ type: 'timeoutNow', groupId: 1, from: 'n1', to: 'n2', term: 3 });
  t.throws(() => decodeMessage(Uint8Array.of(...ok, 0)), { message: /1 trailing bytes/ });
  t.throws(() => encodeMessage({ type: 'timeoutNow', groupId: 1, from: '', to: 'n2', term: 3 }), {
    message: /node id/,
  });
  t.throws(
    () => encodeMessage({ type: 'timeoutNow', groupId: 1, from: 'n1', to: 'n2', term: -1 }),
    CodecError,
  );
  t.end();
});

t.test('decoded byte arrays do not alias the input buffer', (t) => {
  const encoded = encodeMessage({
    type: 'readIndex',
    groupId: 0,
    from: 'a',
    to: 'b',
    term: 0,
    context: Uint8Array.of(7),
  });
  const m = decodeMessage(encoded);
  encoded.fill(0);
  t.strictSame(m.type === 'readIndex' && [...m.context], [7]);
  t.end();
});

t.test('a heartbeat stays small', (t) => {
  const hb = encodeMessage({
    type: 'heartbeat',
    groupId: 12,
    from: 'n1',
    to: 'n2',
    term: 40,
    commit: 123456,
    seq: 99999,
    sentTick: 500000,
  });
  t.ok(hb.byteLength <= 24, `${hb.byteLength} bytes`);
  t.end();
});
