import assert from 'node:assert/strict';
import fc from 'fast-check';
import Parser from 'redis-parser';
import t from 'tap';
import { encodeReply, formatDouble, ReplyBuffer } from '../../src/resp/encoder.js';
import {
  array,
  bool,
  bulk,
  double,
  error,
  int,
  map,
  NULL,
  OK,
  PONG,
  push,
  type Reply,
  set,
  simple,
  verbatim,
} from '../../src/resp/reply.js';

/** Each row: a reply, its RESP2 bytes, its RESP3 bytes. */
const WIRE: readonly [string, Reply, string, string][] = [
  ['simple string', simple('QUEUED'), '+QUEUED\r\n', '+QUEUED\r\n'],
  ['shared OK', OK, '+OK\r\n', '+OK\r\n'],
  ['shared PONG', PONG, '+PONG\r\n', '+PONG\r\n'],
  ['error', error('ERR unknown command'), '-ERR unknown command\r\n', '-ERR unknown command\r\n'],
  ['integer', int(42), ':42\r\n', ':42\r\n'],
  ['zero', int(0), ':0\r\n', ':0\r\n'],
  ['negative integer', int(-1234567), ':-1234567\r\n', ':-1234567\r\n'],
  ['largest safe integer', int(2 ** 53 - 1), ':9007199254740991\r\n', ':9007199254740991\r\n'],
  ['power of ten', int(1_000_000), ':1000000\r\n', ':1000000\r\n'],
  ['bigint', int(-(2n ** 63n)), ':-9223372036854775808\r\n', ':-9223372036854775808\r\n'],
  ['bulk string', bulk('hello'), '$5\r\nhello\r\n', '$5\r\nhello\r\n'],
  ['UTF-8 bulk string counts bytes', bulk('héllo€'), '$9\r\nhéllo€\r\n', '$9\r\nhéllo€\r\n'],
  ['binary bulk', bulk(Buffer.from('a\r\nb')), '$4\r\na\r\nb\r\n', '$4\r\na\r\nb\r\n'],
  ['empty bulk', bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
  ['null', NULL, '$-1\r\n', '_\r\n'],
  ['unshared null', { t: 'null' }, '$-1\r\n', '_\r\n'],
  ['array', array([int(1), bulk('a')]), '*2\r\n:1\r\n$1\r\na\r\n', '*2\r\n:1\r\n$1\r\na\r\n'],
  ['empty array', array([]), '*0\r\n', '*0\r\n'],
  ['nested array', array([array([NULL])]), '*1\r\n*1\r\n$-1\r\n', '*1\r\n*1\r\n_\r\n'],
  [
    'map',
    map({ a: int(1), b: OK }),
    '*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n+OK\r\n',
    '%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n+OK\r\n',
  ],
  ['set', set([bulk('x'), bulk('y')]), '*2\r\n$1\r\nx\r\n$1\r\ny\r\n', '~2\r\n$1\r\nx\r\n$1\r\ny\r\n'],
  ['double', double(3.5), '$3\r\n3.5\r\n', ',3.5\r\n'],
  ['integral double', double(10), '$2\r\n10\r\n', ',10\r\n'],
  ['tiny double', double(1.5e-7), '$6\r\n1.5e-7\r\n', ',1.5e-7\r\n'],
  ['inf', double(Number.POSITIVE_INFINITY), '$3\r\ninf\r\n', ',inf\r\n'],
  ['-inf', double(Number.NEGATIVE_INFINITY), '$4\r\n-inf\r\n', ',-inf\r\n'],
  ['nan', double(Number.NaN), '$3\r\nnan\r\n', ',nan\r\n'],
  ['negative zero', double(-0), '$2\r\n-0\r\n', ',-0\r\n'],
  ['true', bool(true), ':1\r\n', '#t\r\n'],
  ['false', bool(false), ':0\r\n', '#f\r\n'],
  [
    'verbatim',
    verbatim('# Server\r\nid:1'),
    '$14\r\n# Server\r\nid:1\r\n',
    '=18\r\ntxt:# Server\r\nid:1\r\n',
  ],
  ['markdown verbatim', verbatim('*hi*', 'mkd'), '$4\r\n*hi*\r\n', '=8\r\nmkd:*hi*\r\n'],
  [
    'push',
    push([bulk('message'), bulk('ch'), bulk('hi')]),
    '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
    '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
  ],
];

t.test('every reply type, exact bytes', async (t) => {
  for (const [name, reply, resp2, resp3] of WIRE) {
    t.equal(encodeReply(reply, 2).toString(), resp2, `${name} in RESP2`);
    t.equal(encodeReply(reply, 3).toString(), resp3, `${name} in RESP3`);
  }
});

t.test('CR and LF cannot break out of one-line replies', async (t) => {
  t.equal(encodeReply(error('ERR bad\r\n+OK'), 3).toString(), '-ERR bad  +OK\r\n');
  t.equal(encodeReply(simple('a\nb\rc'), 2).toString(), '+a b c\r\n');
});

t.test('values the wire cannot carry are refused loudly', async (t) => {
  t.throws(() => encodeReply(int(1.5), 3), /not a safe integer/);
  t.throws(() => encodeReply(int(2 ** 53), 3), /not a safe integer/);
  t.throws(() => encodeReply(int(2n ** 63n), 3), /int64/);
  t.throws(() => encodeReply(verbatim('x', 'text'), 3), /3 bytes/);
});

t.test('a refused reply leaves nothing half-written behind', async (t) => {
  const out = new ReplyBuffer();
  out.append(OK, 3);
  t.throws(() => out.append(array([bulk('x'.repeat(10_000)), int(0.5)]), 3));
  t.equal(out.byteLength, 5);
  t.equal(out.take()?.toString(), '+OK\r\n');
  t.equal(encodeReply(int(1), 3).toString(), ':1\r\n', 'the shared encodeReply buffer too');
});

t.test('formatDouble spells specials like Redis', async (t) => {
  t.equal(formatDouble(Number.NaN), 'nan');
  t.equal(formatDouble(-0), '-0');
  t.equal(formatDouble(0.1 + 0.2), '0.30000000000000004');
  t.equal(formatDouble(1e21), '1e+21');
});

t.test('ReplyBuffer', async (t) => {
  t.test('take returns everything since the last take, then null', async (t) => {
    const out = new ReplyBuffer();
    t.equal(out.take(), null);
    out.append(OK, 2);
    out.append(int(7), 3);
    out.appendRaw(Buffer.from('+RAW\r\n'));
    t.equal(out.byteLength, 5 + 4 + 6);
    t.equal(out.take()?.toString(), '+OK\r\n:7\r\n+RAW\r\n');
    t.equal(out.byteLength, 0);
    t.equal(out.take(), null);
  });

  t.test('a taken buffer never changes afterwards, from a kept slab or a dropped one', async (t) => {
    const out = new ReplyBuffer();
    for (const size of [10, 5000, 100_000, 10]) {
      const value = 'v'.repeat(size);
      out.append(bulk(value), 3);
      const taken = out.take();
      const expected = `$${size}\r\n${value}\r\n`;
      out.append(bulk('w'.repeat(size)), 3);
      out.append(bulk('z'.repeat(200_000)), 3);
      t.equal(taken?.toString(), expected, `${size} bytes`);
      out.take();
    }
  });

  t.test('taken views of a slab stay intact while later replies fill it and the next ones', async (t) => {
    const out = new ReplyBuffer();
    const taken: { bytes: Buffer; expected: string }[] = [];
    let expected = '';
    for (let i = 0; i < 3000; i++) {
      out.append(int(i), 2);
      expected += `:${i}\r\n`;
      if (i % 3 === 2) {
        taken.push({ bytes: out.take()!, expected });
        expected = '';
      }
    }
    t.ok(taken.every((flush) => flush.bytes.toString() === flush.expected));
  });

  t.test('grows across many appends without losing bytes', async (t) => {
    const out = new ReplyBuffer();
    const expected: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const reply = array([int(i), bulk(`value-${i}`), map({ k: bool(i % 2 === 0) })]);
      out.append(reply, 3);
      expected.push(encodeReply(reply, 3));
    }
    t.same(out.take(), Buffer.concat(expected));
  });
});

/** Runs per property; raise it for a soak, e.g. LOCKSTEP_FUZZ_RUNS=100000 npx tap test/resp. */
const RUNS = Number(process.env['LOCKSTEP_FUZZ_RUNS'] ?? 300);
const params = { numRuns: RUNS };

/**
 * A deliberately naive RESP3 reader, written from the spec and independent of the encoder, to read
 * back what the encoder wrote. Bulk payloads come back as Buffers; it throws on anything malformed,
 * trailing bytes included.
 */
function readReply(bytes: Buffer): Reply {
  const [reply, next] = readAt(bytes, 0);
  if (next !== bytes.length) throw new Error(`${bytes.length - next} trailing bytes`);
  return reply;
}

type Read = [Reply, number];

function readAt(bytes: Buffer, at: number): Read {
  const lineEnd = bytes.indexOf('\r\n', at);
  if (lineEnd < 0) throw new Error(`no CRLF after offset ${at}`);
  const type = String.fromCharCode(bytes[at]!);
  const line = bytes.toString('utf8', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return [{ t: 'simple', v: line }, next];
    case '-':
      return [{ t: 'error', v: line }, next];
    case ':':
      return [{ t: 'int', v: BigInt(line) }, next];
    case '_':
      return [{ t: 'null' }, next];
    case ',':
      return [{ t: 'double', v: Number(line.replace('inf', 'Infinity')) }, next];
    case '#':
      return [{ t: 'bool', v: line === 't' }, next];
    case '$':
    case '=':
      return readBlob(bytes, type, Number(line), next);
    case '*':
    case '~':
    case '>':
      return readItems(bytes, type, Number(line), next);
    case '%':
      return readMap(bytes, Number(line), next);
    default:
      throw new Error(`unknown type byte '${type}' at ${at}`);
  }
}

function readBlob(bytes: Buffer, type: string, length: number, at: number): Read {
  const end = at + length;
  if (bytes.toString('latin1', end, end + 2) !== '\r\n')
    throw new Error(`blob at ${at} not followed by CRLF`);
  const payload = bytes.subarray(at, end);
  if (type === '$') return [{ t: 'bulk', v: payload }, end + 2];
  const text = payload.toString('utf8');
  return [{ t: 'verbatim', format: text.slice(0, 3), v: text.slice(4) }, end + 2];
}

function readItems(bytes: Buffer, type: string, count: number, at: number): Read {
  const items: Reply[] = [];
  let next = at;
  for (let i = 0; i < count; i++) {
    const [item, after] = readAt(bytes, next);
    items.push(item);
    next = after;
  }
  const t = type === '*' ? 'array' : type === '~' ? 'set' : 'push';
  return [{ t, v: items }, next];
}

function readMap(bytes: Buffer, count: number, at: number): Read {
  const [flat, next] = readItems(bytes, '*', count * 2, at);
  const items = (flat as { v: readonly Reply[] }).v;
  const entries: [Reply, Reply][] = [];
  for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
  return [{ t: 'map', v: entries }, next];
}

/** A reply in comparable form: strings as Buffers, CR/LF in lines as spaces, ints as bigints, doubles as text. */
function canonical(reply: Reply): unknown {
  switch (reply.t) {
    case 'simple':
    case 'error':
      return { t: reply.t, v: reply.v.replace(/[\r\n]/g, ' ') };
    case 'int':
      return { t: 'int', v: BigInt(reply.v) };
    case 'bulk':
      return { t: 'bulk', v: Buffer.from(reply.v) };
    case 'double':
      return { t: 'double', v: formatDouble(reply.v) };
    case 'array':
    case 'set':
    case 'push':
      return { t: reply.t, v: reply.v.map(canonical) };
    case 'map':
      return { t: 'map', v: reply.v.map(([k, v]) => [canonical(k), canonical(v)]) };
    default:
      return reply;
  }
}

const stringArb = fc.string({ unit: 'binary-ascii', maxLength: 20 });
const replyArb: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    stringArb.map((v): Reply => ({ t: 'simple', v })),
    stringArb.map((v): Reply => ({ t: 'error', v })),
    fc
      .oneof(fc.integer(), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }))
      .map((v): Reply => ({ t: 'int', v })),
    fc
      .oneof(
        fc.string({ unit: 'grapheme', maxLength: 20 }),
        fc.uint8Array({ maxLength: 20 }).map(Buffer.from),
      )
      .map((v): Reply => ({ t: 'bulk', v })),
    fc.constant<Reply>({ t: 'null' }),
    fc.double().map((v): Reply => ({ t: 'double', v })),
    fc.boolean().map((v): Reply => ({ t: 'bool', v })),
    fc
      .tuple(fc.constantFrom('txt', 'mkd'), fc.string({ unit: 'grapheme', maxLength: 20 }))
      .map(([format, v]): Reply => ({ t: 'verbatim', format, v })),
    fc.array(tie('reply'), { maxLength: 4 }).map((v): Reply => ({ t: 'array', v })),
    fc.array(tie('reply'), { maxLength: 4 }).map((v): Reply => ({ t: 'set', v })),
    fc.array(tie('reply'), { maxLength: 4 }).map((v): Reply => ({ t: 'push', v })),
    fc.array(fc.tuple(tie('reply'), tie('reply')), { maxLength: 3 }).map((v): Reply => ({ t: 'map', v })),
  ),
})).reply;

t.test('RESP3 replies read back as what was encoded', async (t) => {
  fc.assert(
    fc.property(replyArb, (reply) => {
      assert.deepEqual(canonical(readReply(encodeReply(reply, 3))), canonical(reply));
    }),
    params,
  );
  t.pass(`${RUNS} runs`);
});

/** What redis-parser (returnBuffers) yields for the RESP2 form of a reply, Buffers as latin1. */
function resp2View(reply: Reply): unknown {
  switch (reply.t) {
    case 'simple':
      return Buffer.from(reply.v.replace(/[\r\n]/g, ' ')).toString('latin1');
    case 'error':
      return { error: reply.v.replace(/[\r\n]/g, ' ') };
    case 'int':
      return String(reply.v);
    case 'bulk':
      return Buffer.from(reply.v).toString('latin1');
    case 'null':
      return null;
    case 'double':
      return formatDouble(reply.v);
    case 'bool':
      return reply.v ? '1' : '0';
    case 'verbatim':
      return Buffer.from(reply.v).toString('latin1');
    case 'map':
      return reply.v.flatMap(([k, v]) => [resp2View(k), resp2View(v)]);
    default:
      return reply.v.map(resp2View);
  }
}

function parsedView(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map(parsedView);
  return value;
}

t.test('RESP2 replies parse with redis-parser, the parser Node clients use', async (t) => {
  fc.assert(
    fc.property(fc.array(replyArb, { minLength: 1, maxLength: 5 }), (replies) => {
      const parsed: unknown[] = [];
      const parser = new Parser({
        returnBuffers: true,
        stringNumbers: true,
        returnReply: (value: unknown) => parsed.push(parsedView(value)),
        returnError: (err: Error) => parsed.push(parsedView(err)),
      });
      const out = new ReplyBuffer();
      for (const reply of replies) out.append(reply, 2);
      parser.execute(out.take()!);
      assert.deepEqual(parsed, replies.map(resp2View));
    }),
    params,
  );
  t.pass(`${RUNS} runs`);
});
