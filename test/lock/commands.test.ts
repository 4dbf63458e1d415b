import fc from 'fast-check';
import t, { type Test } from 'tap';
import { CodecError } from '../../src/lib/byte-codec.js';
import {
  decodeLockCommand,
  encodeLockCommand,
  LockCodecError,
  type LockCommand,
} from '../../src/lock/commands.js';

const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

const utf8 = new TextEncoder();
/** Any well-formed string of 1..512 UTF-8 bytes, beyond ASCII too. */
const name = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
  .filter((s) => utf8.encode(s).byteLength <= 512);
const owner = name.filter((s) => !/[\s\p{Cc}]/u.test(s));
const mode = fc.constantFrom('shared' as const, 'exclusive' as const);
const ttlMs = fc.integer({ min: 1, max: 86_400_000 });

const lockCommand: fc.Arbitrary<LockCommand> = fc.oneof(
  record({
    op: fc.constant('acquire' as const),
    name,
    owner,
    mode,
    ttlMs,
    waitMs: fc.integer({ min: 0, max: 86_400_000 }),
  }),
  record({ op: fc.constant('release' as const), name, owner }),
  record({
    op: fc.constant('release' as const),
    name,
    owner,
    token: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  }),
  record({ op: fc.constant('renew' as const), name, owner, ttlMs }),
  record({ op: fc.constant('cancel' as const), name, owner }),
  fc.constant({ op: 'tick' as const }),
);

t.test('every command round-trips', async (t) => {
  fc.assert(
    fc.property(lockCommand, (c) => {
      t.same(decodeLockCommand(encodeLockCommand(c)), c);
    }),
    { numRuns: 1000 },
  );
  // The longest names and owners, in 4-byte characters.
  const long: LockCommand = { op: 'renew', name: '😀'.repeat(128), owner: '𝄞'.repeat(128), ttlMs: 5 };
  t.same(decodeLockCommand(encodeLockCommand(long)), long);
});

t.test('encodings are small', async (t) => {
  t.equal(encodeLockCommand({ op: 'tick' }).byteLength, 2);
  const acquire: LockCommand = {
    op: 'acquire',
    name: 'resource1',
    owner: 'clientA',
    mode: 'exclusive',
    ttlMs: 30_000,
    waitMs: 0,
  };
  t.equal(encodeLockCommand(acquire).byteLength, 2 + 10 + 8 + 1 + 3 + 1);
  t.equal(
    encodeLockCommand({ op: 'release', name: 'r', owner: 'o', token: 1000 }).byteLength,
    2 + 2 + 2 + 1 + 2,
  );
});

function rejects(t: Test, bytes: Uint8Array, pattern?: RegExp): void {
  try {
    decodeLockCommand(bytes);
    t.fail(`decoded ${Buffer.from(bytes).toString('hex')}`);
  } catch (e) {
    t.type(e, LockCodecError);
    t.type(e, CodecError);
    if (pattern !== undefined) t.match((e as Error).message, pattern);
  }
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

t.test('garbage is rejected with one clear error', async (t) => {
  rejects(t, new Uint8Array(0), /truncated/);
  rejects(t, hex('02 05'), /version 2/);
  rejects(t, hex('01 06'), /unknown lock command op 6/);
  rejects(t, hex('01 00'), /unknown lock command op 0/);
  rejects(t, hex('01 05 00'), /trailing/);
  rejects(t, hex('01 04 01 72 01 6f 00'), /trailing/);
  rejects(t, hex('01 04 05 72'), /truncated/);
  rejects(t, hex('01 04 00'), /lock name length 0/);
  rejects(t, hex('01 04 01 72 02 ff fe'), /owner .*UTF-8/);
  rejects(t, hex('01 04 01 72 02 6f 20'), /whitespace/);
  rejects(t, hex('01 01 01 72 01 6f 02 01 00'), /unknown lock mode 2/);
  rejects(t, hex('01 01 01 72 01 6f 01 00 00'), /ttlMs 0 outside/);
  rejects(t, hex('01 01 01 72 01 6f 01 01 80 00'), /non-canonical/);
  rejects(t, hex('01 02 01 72 01 6f 02 05'), /invalid boolean/);
  rejects(t, hex('01 02 01 72 01 6f 01 00'), /token 0 outside/);
  // 513 bytes of name.
  rejects(
    t,
    Uint8Array.from([1, 4, 0x81, 0x04, ...new Uint8Array(513).fill(0x61), 1, 0x6f]),
    /lock name length 513/,
  );
});

t.test('every field is validated on the way out too', async (t) => {
  const bad: [LockCommand, RegExp][] = [
    [{ op: 'acquire', name: 'r', owner: 'o', mode: 'exclusive', ttlMs: 0, waitMs: 0 }, /ttlMs 0/],
    [
      { op: 'acquire', name: 'r', owner: 'o', mode: 'exclusive', ttlMs: 86_400_001, waitMs: 0 },
      /ttlMs 86400001/,
    ],
    [{ op: 'acquire', name: 'r', owner: 'o', mode: 'exclusive', ttlMs: 1.5, waitMs: 0 }, /ttlMs 1.5/],
    [{ op: 'acquire', name: 'r', owner: 'o', mode: 'exclusive', ttlMs: 1, waitMs: -1 }, /waitMs -1/],
    [
      { op: 'acquire', name: 'r', owner: 'o', mode: 'exclusive', ttlMs: 1, waitMs: 86_400_001 },
      /waitMs 86400001/,
    ],
    [
      { op: 'acquire', name: 'r', owner: 'o', mode: 'read', ttlMs: 1, waitMs: 0 } as unknown as LockCommand,
      /mode "read"/,
    ],
    [{ op: 'release', name: 'r', owner: 'o', token: 0 }, /token 0/],
    [{ op: 'release', name: 'r', owner: 'o', token: 2 ** 53 }, /token 9007199254740992/],
    [{ op: 'renew', name: 'r', owner: 'o', ttlMs: 0 }, /ttlMs 0/],
    [{ op: 'cancel', name: '', owner: 'o' }, /lock name must be 1..512 UTF-8 bytes, got 0/],
    [{ op: 'cancel', name: 'é'.repeat(257), owner: 'o' }, /lock name must be 1..512 UTF-8 bytes, got 514/],
    [{ op: 'cancel', name: 'r', owner: 'x'.repeat(513) }, /owner must be 1..512/],
    [{ op: 'cancel', name: '\ud800', owner: 'o' }, /lock name is not well-formed/],
    [{ op: 'cancel', name: 'r', owner: 'a\nb' }, /owner "a\\nb" has whitespace/],
    [{ op: 'cancel', name: 42, owner: 'o' } as unknown as LockCommand, /lock name is not a string/],
    [{ op: 'nope' } as unknown as LockCommand, /unknown lock command op 'nope'/],
  ];
  for (const [c, pattern] of bad) t.throws(() => encodeLockCommand(c), pattern, JSON.stringify(c));
  // Names are keys: spaces and control characters are fine there.
  const spaced: LockCommand = { op: 'cancel', name: 'a b\n', owner: 'o' };
  t.same(decodeLockCommand(encodeLockCommand(spaced)), spaced);
});

t.test('random bytes decode to a valid command or throw LockCodecError, nothing else', async (t) => {
  const mutated = fc.tuple(lockCommand, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([c, at, b]) => {
    const bytes = encodeLockCommand(c).slice();
    bytes[at % bytes.length] = b;
    return bytes;
  });
  const truncated = fc.tuple(lockCommand, fc.nat()).map(([c, at]) => {
    const bytes = encodeLockCommand(c);
    return bytes.subarray(0, at % bytes.length);
  });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), mutated, truncated), (bytes) => {
      let decoded: LockCommand;
      try {
        decoded = decodeLockCommand(bytes);
      } catch (e) {
        return e instanceof LockCodecError && (e as Error).message.length > 0;
      }
      // Canonical: whatever decodes re-encodes to the same bytes.
      return Buffer.from(encodeLockCommand(decoded)).equals(Buffer.from(bytes));
    }),
    { numRuns: 3000 },
  );
  t.pass('property held');
});
