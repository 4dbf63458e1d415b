import fc from 'fast-check';
import t from 'tap';
import { CodecError } from '../../src/lib/byte-codec.js';
import type { Reply } from '../../src/resp/reply.js';
import { decodeReplyValue, encodeReplyValue } from '../../src/resp/reply-codec.js';

const text = fc.string({ maxLength: 20 });
const reply: fc.Arbitrary<Reply> = fc.letrec<{ r: Reply }>((tie) => ({
  r: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('simple' as const), v: text }),
    fc.record({ t: fc.constant('error' as const), v: text }),
    fc.record({
      t: fc.constant('int' as const),
      v: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n })),
    }),
    fc.record({
      t: fc.constant('bulk' as const),
      v: fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
    }),
    fc.constant({ t: 'null' as const }),
    fc.record({ t: fc.constant('double' as const), v: fc.double({ noNaN: true }) }),
    fc.record({ t: fc.constant('bool' as const), v: fc.boolean() }),
    fc.record({ t: fc.constant('verbatim' as const), format: fc.constant('txt'), v: text }),
    fc.record({
      t: fc.constantFrom('array' as const, 'set' as const, 'push' as const),
      v: fc.array(tie('r'), { maxLength: 4 }),
    }),
    fc.record({
      t: fc.constant('map' as const),
      v: fc.array(fc.tuple(tie('r'), tie('r')), { maxLength: 3 }),
    }),
  ) as fc.Arbitrary<Reply>,
})).r;

/** Integers that fit a safe number come back as numbers: normalise before comparing. */
function normal(r: Reply): unknown {
  switch (r.t) {
    case 'int':
      return { t: 'int', v: String(r.v) };
    case 'bulk':
      return { t: 'bulk', v: [...Buffer.from(r.v)] };
    case 'double':
      return { t: 'double', v: Object.is(r.v, -0) ? 0 : r.v };
    case 'array':
    case 'set':
    case 'push':
      return { t: r.t, v: r.v.map(normal) };
    case 'map':
      return { t: 'map', v: r.v.map(([k, v]) => [normal(k), normal(v)]) };
    default:
      return r;
  }
}

t.test('replies round-trip', (t) => {
  fc.assert(fc.property(reply, (r) => t.same(normal(decodeReplyValue(encodeReplyValue(r))), normal(r))));
  t.end();
});

t.test('garbage throws CodecError only', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      try {
        decodeReplyValue(bytes);
      } catch (e) {
        return e instanceof CodecError;
      }
      return true;
    }),
  );
  const deep = new Uint8Array(200).fill(7);
  t.throws(() => decodeReplyValue(deep), CodecError, 'nesting is bounded');
  t.end();
});
