import fc from 'fast-check';
import t, { type Test } from 'tap';
import { ByteWriter, CodecError } from '../../src/lib/byte-codec.js';
import {
  decodeQueueCommand,
  encodeQueueCommand,
  formatMessageId,
  MAX_PAYLOAD_BYTES,
  parseMessageId,
  QUEUE_LIMITS,
  QueueCodecError,
  type QueueCommand,
  validateQueueCommand,
} from '../../src/queue/commands.js';

const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

const utf8 = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Any well-formed string of 1..1024 UTF-8 bytes, beyond ASCII too. */
const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((s) => utf8.encode(s).byteLength <= 1024);
const ms = fc.integer({ min: 0, max: QUEUE_LIMITS.maxMs });
const id = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    fc.integer({ min: 0, max: QUEUE_LIMITS.maxPushPayloads - 1 }),
  )
  .map(([index, pos]) => formatMessageId(index, pos));
const payload = fc.uint8Array({ maxLength: 64 });

const queueCommand: fc.Arbitrary<QueueCommand> = fc.oneof(
  record({
    op: fc.constant('push' as const),
    queue: name,
    payloads: fc.array(payload, { minLength: 1, maxLength: 5 }),
    delayMs: ms,
  }),
  record({
    op: fc.constant('push' as const),
    queue: name,
    payloads: fc.array(payload, { minLength: 1, maxLength: 5 }),
    dedupKey: name,
    delayMs: ms,
  }),
  record({
    op: fc.constant('push' as const),
    queue: name,
    payloads: fc.array(payload, { minLength: 1, maxLength: 5 }),
    dedupKey: name,
    delayMs: ms,
    maxLength: fc.integer({ min: 1, max: QUEUE_LIMITS.maxMaxLen }),
  }),
  record({ op: fc.constant('pop' as const), queue: name, count: fc.integer({ min: 1, max: 10_000 }) }),
  record({
    op: fc.constant('pop' as const),
    queue: name,
    count: fc.integer({ min: 1, max: 10_000 }),
    visibilityMs: fc.integer({ min: 1, max: QUEUE_LIMITS.maxMs }),
  }),
  record({ op: fc.constant('ack' as const), queue: name, ids: fc.array(id, { minLength: 1, maxLength: 5 }) }),
  record({ op: fc.constant('nack' as const), queue: name, id, delayMs: ms }),
  record({ op: fc.constant('extend' as const), queue: name, id, ms }),
  fc
    .record(
      {
        op: fc.constant('config' as const),
        queue: name,
        maxDeliveries: fc.integer({ min: 0, max: QUEUE_LIMITS.maxMaxDeliveries }),
        visibilityMs: fc.integer({ min: 1, max: QUEUE_LIMITS.maxMs }),
        maxLen: fc.integer({ min: 0, max: QUEUE_LIMITS.maxMaxLen }),
      },
      { requiredKeys: ['op', 'queue'], noNullPrototype: true },
    )
    .map((c) => c as QueueCommand),
  fc.constant({ op: 'tick' as const }),
  fc.record({
    op: fc.constant('redrive' as const),
    queue: name,
    count: fc.integer({ min: 1, max: QUEUE_LIMITS.maxPopCount }),
    drop: fc.boolean(),
  }),
);

t.test('every command round-trips, and re-encodes to the same bytes', async (t) => {
  fc.assert(
    fc.property(queueCommand, (c) => {
      const bytes = encodeQueueCommand(c);
      const decoded = decodeQueueCommand(bytes);
      t.same(decoded, c);
      t.equal(hex(encodeQueueCommand(decoded)), hex(bytes));
    }),
    { numRuns: 800 },
  );
  const long: QueueCommand = {
    op: 'push',
    queue: '😀'.repeat(256),
    payloads: [new Uint8Array(MAX_PAYLOAD_BYTES).fill(7), new Uint8Array(0)],
    dedupKey: '𝄞'.repeat(256),
    delayMs: QUEUE_LIMITS.maxMs,
  };
  t.same(decodeQueueCommand(encodeQueueCommand(long)), long, 'the longest name, key and payload');
});

t.test('the encoding is the documented one', async (t) => {
  t.equal(hex(encodeQueueCommand({ op: 'tick' })), '0107');
  t.equal(
    hex(encodeQueueCommand({ op: 'redrive', queue: 'q', count: 3, drop: true })),
    '0108' + '0171' + '03' + '01',
  );
  t.equal(
    hex(encodeQueueCommand({ op: 'push', queue: 'q', payloads: [utf8.encode('hi')], delayMs: 0 })),
    '0101' + '0171' + '00' + '00' + '01' + '026869',
  );
  t.equal(
    hex(
      encodeQueueCommand({
        op: 'push',
        queue: 'q',
        payloads: [utf8.encode('hi')],
        dedupKey: 'k',
        delayMs: 300,
      }),
    ),
    '0101' + '0171' + 'ac02' + '01016b' + '01' + '026869',
  );
  t.equal(
    hex(
      encodeQueueCommand({ op: 'push', queue: 'q', payloads: [utf8.encode('hi')], delayMs: 0, maxLength: 5 }),
    ),
    '0101' + '0171' + '00' + '02' + '01' + '026869' + '05',
    "flags bit 2: the proposing node's queue-max-length, after the payloads",
  );
  t.equal(hex(encodeQueueCommand({ op: 'pop', queue: 'q', count: 3 })), '0102' + '0171' + '03' + '00');
  t.equal(
    hex(encodeQueueCommand({ op: 'pop', queue: 'q', count: 3, visibilityMs: 5 })),
    '0102' + '0171' + '03' + '0105',
  );
  t.equal(
    hex(encodeQueueCommand({ op: 'ack', queue: 'q', ids: ['1-0', '130-9999'] })),
    '0103' + '0171' + '02' + '0100' + '8201' + '8f4e',
  );
  t.equal(
    hex(encodeQueueCommand({ op: 'nack', queue: 'q', id: '2-1', delayMs: 0 })),
    '0104' + '0171' + '0201' + '00',
  );
  t.equal(
    hex(encodeQueueCommand({ op: 'extend', queue: 'q', id: '2-1', ms: 9 })),
    '0105' + '0171' + '0201' + '09',
  );
  t.equal(hex(encodeQueueCommand({ op: 'config', queue: 'q' })), '0106' + '0171' + '00');
  t.equal(
    hex(encodeQueueCommand({ op: 'config', queue: 'q', maxDeliveries: 0, maxLen: 2 })),
    '0106' + '0171' + '05' + '00' + '02',
  );
  t.equal(
    hex(encodeQueueCommand({ op: 'config', queue: 'q', visibilityMs: 1 })),
    '0106' + '0171' + '02' + '01',
  );
});

function rejects(t: Test, bytes: Uint8Array | string, pattern?: RegExp): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'hex') : bytes;
  try {
    const c = decodeQueueCommand(b);
    t.fail(`decoded ${hex(b)} to ${JSON.stringify(c)}`);
  } catch (e) {
    t.type(e, QueueCodecError);
    t.type(e, CodecError);
    if (pattern !== undefined) t.match((e as Error).message, pattern);
  }
}

t.test('garbage is refused with a QueueCodecError', async (t) => {
  rejects(t, '', /truncated/);
  rejects(t, '02', /version 2/);
  rejects(t, '0100', /op 0/);
  rejects(t, '0109', /op 9/);
  rejects(t, '010700', /trailing/);
  rejects(t, '0102' + '00', /queue name length 0/);
  rejects(t, '0102' + '0171' + '00' + '00', /count 0 outside/);
  rejects(t, '0102' + '0171' + '914e' + '00', /count 10001 outside/);
  rejects(t, '0102' + '0171' + '01' + '0100', /visibilityMs 0/);
  rejects(t, '0102' + '0171' + '01' + '02', /invalid boolean/);
  rejects(t, '0101' + '0171' + '00' + '00' + '00', /number of payloads 0/);
  rejects(t, '0101' + '0171' + '00' + '00' + '05' + '00', /cannot fit/);
  const w = new ByteWriter(8);
  w.varint(QUEUE_LIMITS.maxMs + 1);
  rejects(t, '0101' + '0171' + hex(w.finish()) + '00' + '01' + '00', /delayMs 604800001 outside/);
  rejects(t, '0103' + '0171' + '01' + '0000', /index 0/);
  rejects(t, '0103' + '0171' + '01' + '01904e', /position 10000/);
  rejects(t, '0103' + '0171' + '00', /number of ids 0/);
  rejects(t, '0106' + '0171' + '08', /mask 8/);
  rejects(t, '0106' + '0171' + '02' + '00', /visibilityMs 0/);
  rejects(t, '0104' + '0171' + '0100', /truncated/);
  rejects(t, '0101' + '02c3' + '00' + '00' + '01' + '00', /UTF-8/);
  // A payload over the limit.
  const big = encodeQueueCommand({
    op: 'push',
    queue: 'q',
    payloads: [new Uint8Array(MAX_PAYLOAD_BYTES)],
    delayMs: 0,
  });
  const grown = new Uint8Array(big.length + 1);
  grown.set(big.subarray(0, 7));
  // 524288 + 1 as a varint: 81 80 20.
  grown.set([0x81, 0x80, 0x20], 7);
  grown.set(big.subarray(10), 10);
  rejects(t, grown, /payload of 524289 bytes/);
});

t.test('every truncation of a valid command is refused', async (t) => {
  fc.assert(
    fc.property(queueCommand, (c) => {
      const bytes = encodeQueueCommand(c);
      for (let n = 0; n < bytes.length; n++) {
        let threw = false;
        try {
          decodeQueueCommand(bytes.subarray(0, n));
        } catch (e) {
          threw = e instanceof QueueCodecError;
        }
        if (!threw) throw new Error(`a prefix of ${n} bytes of ${hex(bytes)} decoded`);
      }
    }),
    { numRuns: 200 },
  );
  t.pass('all refused');
});

t.test('random bytes either throw QueueCodecError or decode to a canonical command', async (t) => {
  const prefixed = fc
    .tuple(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 24 }))
    .map(([op, rest]) => Uint8Array.of(1, op, ...rest));
  let decoded = 0;
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 32 }), prefixed), (bytes) => {
      let c: QueueCommand;
      try {
        c = decodeQueueCommand(bytes);
      } catch (e) {
        if (!(e instanceof QueueCodecError)) throw e;
        return;
      }
      decoded += 1;
      if (hex(encodeQueueCommand(c)) !== hex(bytes)) throw new Error(`${hex(bytes)} is not canonical`);
    }),
    { numRuns: 5000 },
  );
  t.ok(decoded > 0, `some random inputs decoded (${decoded})`);
});

t.test('encode refuses invalid commands with the decoder error', async (t) => {
  const bad: unknown[] = [
    { op: 'pop', queue: 'q', count: 1.5 },
    { op: 'push', queue: 'q', payloads: [], delayMs: 0 },
    {
      op: 'push',
      queue: 'q',
      payloads: Array.from({ length: QUEUE_LIMITS.maxPushPayloads + 1 }, () => new Uint8Array(0)),
      delayMs: 0,
    },
    {
      op: 'push',
      queue: 'q',
      payloads: Array.from({ length: 129 }, () => new Uint8Array(MAX_PAYLOAD_BYTES)),
      delayMs: 0,
    },
    { op: 'push', queue: 'q', payloads: [new Uint8Array(1)], dedupKey: '', delayMs: 0 },
    { op: 'push', queue: '\ud800', payloads: [new Uint8Array(1)], delayMs: 0 },
    { op: 'ack', queue: 'q', ids: ['1-0', '01-0'] },
    { op: 'ack', queue: 'q', ids: Array.from({ length: QUEUE_LIMITS.maxAckIds + 1 }, () => '1-0') },
    { op: 'nack', queue: 'q', id: '1-10000', delayMs: 0 },
    { op: 'nack', queue: 'q', id: '9007199254740992-0', delayMs: 0 },
    { op: 'extend', queue: 'q', id: '1-0', ms: -1 },
    { op: 'config', queue: 'q', maxDeliveries: QUEUE_LIMITS.maxMaxDeliveries + 1 },
    { op: 'config', queue: 'q', maxLen: -1 },
    { op: 'nope' },
    null,
  ];
  for (const [i, c] of bad.entries()) {
    t.throws(() => encodeQueueCommand(c as QueueCommand), QueueCodecError, `bad command ${i}`);
    t.throws(() => validateQueueCommand(c as QueueCommand), QueueCodecError, `bad command ${i}`);
  }
});

t.test('message ids', async (t) => {
  t.same(parseMessageId('1-0'), { index: 1, pos: 0 });
  t.same(parseMessageId('9007199254740991-9999'), { index: Number.MAX_SAFE_INTEGER, pos: 9999 });
  for (const bad of [
    '0-0',
    '1-',
    '-1',
    '1-01',
    '01-1',
    '1-10000',
    '1.5-0',
    ' 1-0',
    '1-0 ',
    'a-b',
    '9007199254740992-0',
  ])
    t.equal(parseMessageId(bad), undefined, bad);
  t.equal(formatMessageId(12, 3), '12-3');
});
