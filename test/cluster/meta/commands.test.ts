import fc from 'fast-check';
import t, { type Test } from 'tap';
import {
  decodeMetaCommand,
  encodeMetaCommand,
  type MemberAddress,
  MetaCodecError,
  type MetaCommand,
} from '../../../src/cluster/meta/commands.js';
import { CodecError } from '../../../src/lib/byte-codec.js';
import { addr } from './helpers.js';

const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

const utf8 = new TextEncoder();
/** Any printable id or host of 1..255 UTF-8 bytes, beyond ASCII too. */
const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => !/[\s\p{Cc}\p{Cs}]/u.test(s) && utf8.encode(s).byteLength <= 255);
const port = fc.integer({ min: 1, max: 65_535 });
const address: fc.Arbitrary<MemberAddress> = record({
  id: name,
  host: name,
  port,
  busPort: port,
  httpPort: fc.integer({ min: 0, max: 65_535 }),
});
const idOp = fc.constantFrom(
  'leave' as const,
  'remove' as const,
  'down' as const,
  'up' as const,
  'evict' as const,
);
const confIds = fc.uniqueArray(name, { minLength: 1, maxLength: 12 });

const command: fc.Arbitrary<MetaCommand> = fc.oneof(
  record({
    op: fc.constant('init' as const),
    partitions: fc.integer({ min: 1, max: 65_535 }),
    replicas: fc.integer({ min: 1, max: 255 }),
    metaVotersMax: fc.integer({ min: 1, max: 255 }),
    founder: address,
  }),
  record({ op: fc.constant('join' as const), member: address }),
  record({ op: idOp, id: name }),
  fc.tuple(fc.integer({ min: 0, max: 65_535 }), confIds, fc.nat()).map(([group, ids, split]): MetaCommand => {
    const v = 1 + (split % ids.length);
    return { op: 'conf', group, voters: ids.slice(0, v), learners: ids.slice(v) };
  }),
  record({
    op: fc.constant('cache-reset' as const),
    epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  }),
);

t.test('every command round-trips', async (t) => {
  fc.assert(
    fc.property(command, (c) => {
      t.same(decodeMetaCommand(encodeMetaCommand(c)), c);
    }),
    { numRuns: 500 },
  );
});

t.test('encodings are small', async (t) => {
  t.ok(encodeMetaCommand({ op: 'down', id: 'n3' }).byteLength <= 6);
  t.ok(encodeMetaCommand({ op: 'join', member: addr('n12') }).byteLength <= 24);
  t.ok(
    encodeMetaCommand({ op: 'conf', group: 7, voters: ['n1', 'n2', 'n3'], learners: ['n4'] }).byteLength <=
      20,
  );
});

/** The decoder's only failure is a MetaCodecError (itself a CodecError), with a message. */
function rejects(t: Test, bytes: Uint8Array, pattern?: RegExp): void {
  try {
    decodeMetaCommand(bytes);
    t.fail(`decoded ${Buffer.from(bytes).toString('hex')}`);
  } catch (e) {
    t.type(e, MetaCodecError);
    t.type(e, CodecError);
    if (pattern !== undefined) t.match((e as Error).message, pattern);
  }
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

t.test('garbage is rejected with one clear error', async (t) => {
  rejects(t, new Uint8Array(0), /truncated/);
  rejects(t, hex('02 05 02 6e31'), /version 2/);
  rejects(t, hex('01 0a 02 6e31'), /unknown meta command op 10/);
  rejects(t, hex('01 00'), /unknown meta command op 0/);
  rejects(t, hex('01 05 02 6e31 00'), /trailing/);
  rejects(t, hex('01 05 05 6e31'), /truncated/);
  rejects(t, hex('01 05 00'), /node id length 0/);
  rejects(t, hex('01 05 02 ff fe'), /UTF-8/);
  rejects(t, hex('01 05 02 6e 20'), /whitespace/);
  rejects(t, hex('01 05 01 0a'), /whitespace or control/);
  // A non-canonical varint (group 0 written in two bytes).
  rejects(t, hex('01 08 80 00 01 02 6e31 00'), /non-canonical/);
});

t.test('every field is validated', async (t) => {
  const bad: [MetaCommand, RegExp][] = [
    [{ op: 'init', partitions: 0, replicas: 3, metaVotersMax: 5, founder: addr('n1') }, /partitions 0/],
    [{ op: 'init', partitions: 16, replicas: 0, metaVotersMax: 5, founder: addr('n1') }, /replicas 0/],
    [{ op: 'init', partitions: 16, replicas: 3, metaVotersMax: 0, founder: addr('n1') }, /metaVotersMax 0/],
    [
      { op: 'init', partitions: 70_000, replicas: 3, metaVotersMax: 5, founder: addr('n1') },
      /partitions 70000/,
    ],
    [{ op: 'join', member: { ...addr('n1'), port: 0 } }, /port 0/],
    [{ op: 'join', member: { ...addr('n1'), busPort: 65_536 } }, /busPort 65536/],
    [{ op: 'join', member: { ...addr('n1'), httpPort: -1 } }, /httpPort -1/],
    [{ op: 'join', member: { ...addr('n1'), port: 1.5 } }, /port 1.5/],
    [{ op: 'join', member: { ...addr('n1'), host: '' } }, /host must be 1..255/],
    [{ op: 'join', member: { ...addr('n1'), id: 'x'.repeat(256) } }, /node id must be 1..255/],
    [{ op: 'leave', id: 'a b' }, /whitespace/],
    [{ op: 'down', id: '\ud800' }, /control/],
    [{ op: 'conf', group: 1, voters: [], learners: ['n1'] }, /at least one voter/],
    [{ op: 'cache-reset', epoch: 0 }, /epoch 0/],
    [{ op: 'cache-reset', epoch: 2.5 }, /epoch 2.5/],
    [{ op: 'conf', group: 1, voters: ['n1'], learners: ['n1'] }, /'n1' twice/],
    [{ op: 'conf', group: 1, voters: ['n1', 'n1'], learners: [] }, /'n1' twice/],
    [{ op: 'conf', group: -1, voters: ['n1'], learners: [] }, /group -1/],
    [{ op: 'nope', id: 'n1' } as unknown as MetaCommand, /unknown meta command op 'nope'/],
  ];
  for (const [c, pattern] of bad) {
    t.throws(() => encodeMetaCommand(c), pattern, `encode ${JSON.stringify(c)}`);
  }
  // The decoder applies the same checks to what it reads: a join with port 0.
  rejects(t, hex('01 02 02 6e31 01 68 00 01 01'), /port 0 outside 1..65535/);
  // A conf with no voters.
  rejects(t, hex('01 08 01 00 01 02 6e31'), /at least one voter/);
});

t.test('random bytes decode to a valid command or throw MetaCodecError, nothing else', async (t) => {
  const valid = fc.tuple(command, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([c, at, b]) => {
    const bytes = encodeMetaCommand(c).slice();
    bytes[at % bytes.length] = b;
    return bytes;
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), valid), (bytes) => {
      let decoded: MetaCommand;
      try {
        decoded = decodeMetaCommand(bytes);
      } catch (e) {
        return e instanceof MetaCodecError && (e as Error).message.length > 0;
      }
      // The encoding is canonical: whatever decodes re-encodes to the same bytes.
      return Buffer.from(encodeMetaCommand(decoded)).equals(Buffer.from(bytes));
    }),
    { numRuns: 2000 },
  );
  t.pass('property held');
});
