import assert from 'node:assert/strict';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { type DecoderLimits, RequestDecoder } from '../../src/resp/decoder.js';

const TEST_LIMITS: DecoderLimits = { maxBulkBytes: 1024, maxArgs: 16, maxInlineBytes: 256 };

/** What a decoder reported, in order: each command as latin1 strings (one char per byte), or an error. */
type Event = { command: string[] } | { error: string };

interface Decoded {
  events: Event[];
  /** After the last write. */
  pendingBytes: number;
  /** The most seen after any write. */
  maxPendingBytes: number;
}

/** Feeds `chunks` in order and records the callbacks. */
function decodeChunks(
  chunks: readonly Buffer[],
  limits: DecoderLimits = TEST_LIMITS,
  setup: (decoder: RequestDecoder) => void = () => {},
): Decoded {
  const events: Event[] = [];
  const decoder = new RequestDecoder(
    limits,
    (args) => events.push({ command: args.map((arg) => arg.toString('latin1')) }),
    (err) => events.push({ error: err.message }),
  );
  setup(decoder);
  let maxPendingBytes = 0;
  for (const chunk of chunks) {
    decoder.write(chunk);
    maxPendingBytes = Math.max(maxPendingBytes, decoder.pendingBytes);
  }
  return { events, pendingBytes: decoder.pendingBytes, maxPendingBytes };
}

/** The two feeds every decoder test runs with (node-redis style): all at once, and one byte per write. */
const FEEDS: Readonly<Record<string, (bytes: Buffer) => Buffer[]>> = {
  whole: (bytes) => [bytes],
  'byte by byte': (bytes) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)),
};

/** RESP multibulk encoding of one command, as clients send it. */
function multibulk(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

interface Case {
  input: string | Buffer;
  events: Event[];
  pendingBytes?: number;
  limits?: DecoderLimits;
  setup?: (decoder: RequestDecoder) => void;
}

/** Every decoder case runs twice: the whole input in one write, then one byte per write. */
function decodes(parent: Test, name: string, c: Case): void {
  parent.test(name, async (t) => {
    const bytes = typeof c.input === 'string' ? Buffer.from(c.input, 'latin1') : c.input;
    for (const [feedName, feed] of Object.entries(FEEDS)) {
      const decoded = decodeChunks(feed(bytes), c.limits, c.setup);
      t.same(decoded.events, c.events, `${feedName}: events`);
      t.equal(decoded.pendingBytes, c.pendingBytes ?? 0, `${feedName}: pendingBytes`);
    }
  });
}

const cmd = (...command: string[]): Event => ({ command });
const protocolError = (reason: string): Event => ({ error: `Protocol error: ${reason}` });

t.test('multibulk', async (t) => {
  decodes(t, 'a single command', { input: '*1\r\n$4\r\nPING\r\n', events: [cmd('PING')] });
  decodes(t, 'pipelined commands come out one by one, in order', {
    input: Buffer.concat([multibulk('SET', 'k', 'v'), multibulk('GET', 'k'), multibulk('PING')]),
    events: [cmd('SET', 'k', 'v'), cmd('GET', 'k'), cmd('PING')],
  });
  decodes(t, 'a binary payload may contain CRLF, NUL and high bytes', {
    input: multibulk('SET', 'k', Buffer.from([0x0d, 0x0a, 0x00, 0xff, 0x0d, 0x0a])),
    events: [cmd('SET', 'k', '\r\n\0\xff\r\n')],
  });
  decodes(t, 'an empty bulk string is an empty argument', {
    input: '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n',
    events: [cmd('ECHO', '')],
  });
  decodes(t, 'a zero-length multibulk is ignored, as in Redis', {
    input: '*0\r\n*1\r\n$4\r\nPING\r\n',
    events: [cmd('PING')],
  });
  decodes(t, 'a negative multibulk length is ignored, as in Redis', {
    input: '*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n',
    events: [cmd('PING')],
  });
  decodes(t, 'the byte after a header CR and the two after a payload are skipped unchecked, as in Redis', {
    input: '*1\rX$4\rXPINGxx*1\r\n$4\r\nPING\r\n',
    events: [cmd('PING'), cmd('PING')],
  });
  decodes(t, 'an incomplete command is held and counted in pendingBytes', {
    input: '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab',
    events: [],
    pendingBytes: 3 + 1 + 2,
  });
  decodes(t, 'an argument of exactly maxBulkBytes is accepted', {
    input: multibulk('ECHO', 'x'.repeat(TEST_LIMITS.maxBulkBytes)),
    events: [cmd('ECHO', 'x'.repeat(TEST_LIMITS.maxBulkBytes))],
  });
  decodes(t, 'a command of exactly maxArgs arguments is accepted', {
    input: multibulk(...Array.from({ length: TEST_LIMITS.maxArgs }, () => 'a')),
    events: [cmd(...Array.from({ length: TEST_LIMITS.maxArgs }, () => 'a'))],
  });
});

t.test('multibulk errors carry Redis messages and stop the decoder', async (t) => {
  decodes(t, 'out of range multibulk length', {
    input: '*20000000\r\n',
    events: [protocolError('invalid multibulk length')],
  });
  decodes(t, 'wrong multibulk payload header', {
    input: '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n',
    events: [protocolError("expected '$', got 'f'")],
  });
  decodes(t, 'multibulk request not followed by bulk arguments', {
    input: '*1\r\nfoo\r\n',
    events: [protocolError("expected '$', got 'f'")],
  });
  decodes(t, 'negative bulk length', {
    input: '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n',
    events: [protocolError('invalid bulk length')],
  });
  decodes(t, 'non-number bulk length', {
    input: '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n',
    events: [protocolError('invalid bulk length')],
  });
  for (const header of ['*\r\n', '*01\r\n', '*-0\r\n', '*+1\r\n', '*1 \r\n', '*1\n$4\r\n']) {
    decodes(t, `multibulk length ${JSON.stringify(header)} is not a number Redis accepts`, {
      input: header,
      events: [protocolError('invalid multibulk length')],
    });
  }
  for (const header of ['$\r\n', '$01\r\n', '$-1\r\n', '$1x\r\n']) {
    decodes(t, `bulk length ${JSON.stringify(header)} is not a length Redis accepts`, {
      input: `*1\r\n${header}`,
      events: [protocolError('invalid bulk length')],
    });
  }
  decodes(t, 'nothing is decoded after an error', {
    input: Buffer.concat([multibulk('PING'), Buffer.from('*1\r\n:1\r\n'), multibulk('PING')]),
    events: [cmd('PING'), protocolError("expected '$', got ':'")],
  });
  decodes(t, 'an illegal byte is reported as itself', {
    input: '*1\r\n\x00',
    events: [protocolError("expected '$', got '\0'")],
  });
});

t.test('limits are enforced before the data is buffered', async (t) => {
  decodes(t, 'a bulk length over maxBulkBytes is refused at its first excess digit', {
    input: '*1\r\n$99999',
    events: [protocolError('invalid bulk length')],
  });
  decodes(t, 'the classic huge bulk header', {
    input: '*1\r\n$999999999999\r\n',
    events: [protocolError('invalid bulk length')],
  });
  decodes(t, 'maxBulkBytes + 1 is refused', {
    input: `*1\r\n$${TEST_LIMITS.maxBulkBytes + 1}\r\n`,
    events: [protocolError('invalid bulk length')],
  });
  decodes(t, 'a multibulk length over maxArgs is refused at its first excess digit', {
    input: '*99999999',
    events: [protocolError('invalid multibulk length')],
  });
  decodes(t, 'maxArgs + 1 is refused', {
    input: `*${TEST_LIMITS.maxArgs + 1}\r\n`,
    events: [protocolError('invalid multibulk length')],
  });
  decodes(t, 'a negative multibulk length of 19 digits is refused', {
    input: '*-1000000000000000000\r\n',
    events: [protocolError('invalid multibulk length')],
  });
  const unauthenticated = (decoder: RequestDecoder) => {
    decoder.authenticated = false;
  };
  decodes(t, 'before AUTH, more than 10 arguments are refused like Redis does', {
    input: '*11\r\n',
    setup: unauthenticated,
    events: [protocolError('unauthenticated multibulk length')],
  });
  decodes(t, 'before AUTH, an argument over 16 KiB is refused like Redis does', {
    input: '*1\r\n$16385\r\n',
    limits: { ...TEST_LIMITS, maxBulkBytes: 1 << 20 },
    setup: unauthenticated,
    events: [protocolError('unauthenticated bulk length')],
  });
  decodes(t, 'before AUTH, small commands pass', {
    input: multibulk('AUTH', 'secret'),
    setup: unauthenticated,
    events: [cmd('AUTH', 'secret')],
  });
  t.test('a command pipelined right after AUTH gets the full limits', async (t) => {
    const eleven = Array.from({ length: 11 }, () => 'a');
    const input = Buffer.concat([multibulk('AUTH', 'secret'), multibulk(...eleven)]);
    for (const [feedName, feed] of Object.entries(FEEDS)) {
      const events: Event[] = [];
      const decoder = new RequestDecoder(
        TEST_LIMITS,
        (args) => {
          events.push({ command: args.map((arg) => arg.toString('latin1')) });
          decoder.authenticated = true;
        },
        (err) => events.push({ error: err.message }),
      );
      decoder.authenticated = false;
      for (const chunk of feed(input)) decoder.write(chunk);
      t.same(events, [cmd('AUTH', 'secret'), cmd(...eleven)], feedName);
    }
  });
});

t.test('inline commands', async (t) => {
  decodes(t, 'a bare word', { input: 'PING\r\n', events: [cmd('PING')] });
  decodes(t, 'a lone LF ends a line too', {
    input: 'PING\nECHO x\n',
    events: [cmd('PING'), cmd('ECHO', 'x')],
  });
  decodes(t, 'empty and blank lines are skipped', {
    input: '\r\n\n   \t\r\nPING\r\n',
    events: [cmd('PING')],
  });
  decodes(t, 'runs of spaces and tabs separate arguments', {
    input: '  SET\t k   v  \r\n',
    events: [cmd('SET', 'k', 'v')],
  });
  decodes(t, 'a CR inside the line separates arguments', { input: 'A\rB\r\n', events: [cmd('A', 'B')] });
  decodes(t, 'a NUL ends the line content, as for Redis C strings', {
    input: 'PING\0ignored "\r\n',
    events: [cmd('PING')],
  });
  decodes(t, 'a request not starting with * is inline, even +PING', {
    input: '+PING\r\n',
    events: [cmd('+PING')],
  });
  decodes(t, 'double quotes group words', { input: 'SET a "b c"\r\n', events: [cmd('SET', 'a', 'b c')] });
  decodes(t, 'double quotes understand C escapes and \\xHH', {
    input: 'ECHO "\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\\\q"\r\n',
    events: [cmd('ECHO', 'AJ\n\r\t\b\x07"\\q')],
  });
  decodes(t, 'an incomplete \\x escape is an escaped x', {
    input: 'ECHO "\\xZZ" "\\x4"\r\n',
    events: [cmd('ECHO', 'xZZ', 'x4')],
  });
  decodes(t, "single quotes are literal except for \\'", {
    input: "SET k 'it\\'s \\n \"'\r\n",
    events: [cmd('SET', 'k', 'it\'s \\n "')],
  });
  decodes(t, 'a quote may open in the middle of a token', {
    input: 'SET a"b c" \'\'\r\n',
    events: [cmd('SET', 'ab c', '')],
  });
  decodes(t, 'inline and multibulk commands mix in one pipeline', {
    input: Buffer.concat([Buffer.from('PING\r\n'), multibulk('ECHO', 'x'), Buffer.from('PING\n')]),
    events: [cmd('PING'), cmd('ECHO', 'x'), cmd('PING')],
  });
  decodes(t, 'a line waiting for its LF is counted in pendingBytes', {
    input: 'SET k v',
    events: [],
    pendingBytes: 7,
  });
});

t.test('inline errors', async (t) => {
  for (const line of ['ECHO "abc', "ECHO 'abc", 'ECHO "a"b', "ECHO 'a'b", 'ECHO "\\"', 'ECHO "a"\'b\'']) {
    decodes(t, `unbalanced quotes: ${line}`, {
      input: `${line}\r\n`,
      events: [protocolError('unbalanced quotes in request')],
    });
  }
  const longest = 'x'.repeat(TEST_LIMITS.maxInlineBytes);
  decodes(t, 'a line of exactly maxInlineBytes is accepted', {
    input: `${longest}\r\n`,
    events: [cmd(longest)],
  });
  decodes(t, 'a longer line is refused', {
    input: `${longest}y\r\n`,
    events: [protocolError('too big inline request')],
  });
  decodes(t, 'a line is refused before its end once it cannot fit', {
    input: `${longest}yz`,
    events: [protocolError('too big inline request')],
  });
  decodes(t, 'more than maxArgs inline arguments are refused', {
    input: `${'a '.repeat(TEST_LIMITS.maxArgs + 1)}\r\n`,
    events: [protocolError('too many arguments in inline request')],
  });
  decodes(t, 'an inline argument over maxBulkBytes is refused', {
    input: 'ECHO abcdefghi\r\n',
    limits: { ...TEST_LIMITS, maxBulkBytes: 8 },
    events: [protocolError('too big argument in inline request')],
  });
});

t.test('a large argument split over many writes is joined once and intact', async (t) => {
  const payload = Buffer.alloc(100_000, 0x61);
  const input = Buffer.concat([multibulk('SET', 'k', payload), multibulk('PING')]);
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += 1000) chunks.push(input.subarray(at, at + 1000));
  const { events } = decodeChunks(chunks, { ...TEST_LIMITS, maxBulkBytes: 1 << 20 });
  t.same(events, [cmd('SET', 'k', payload.toString('latin1')), cmd('PING')]);
});

/** Runs per property; raise it for a soak, e.g. LOCKSTEP_FUZZ_RUNS=100000 npx tap test/resp. */
const RUNS = Number(process.env['LOCKSTEP_FUZZ_RUNS'] ?? 300);
const params = { numRuns: RUNS };

const ROOMY: DecoderLimits = { maxBulkBytes: 1 << 20, maxArgs: 64, maxInlineBytes: 1 << 20 };
/** Small enough that random streams hit every limit often. */
const TIGHT: DecoderLimits = { maxBulkBytes: 16, maxArgs: 4, maxInlineBytes: 32 };

/** Splits `bytes` at the given offsets (taken modulo its length), as TCP might deliver them. */
function chunk(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const offset of [...offsets, bytes.length]) {
    chunks.push(bytes.subarray(from, offset));
    from = offset;
  }
  return chunks;
}

/** An inline line for `args`: every argument double-quoted, odd bytes as \xHH escapes. */
function inline(args: readonly Buffer[], ending: string): Buffer {
  const quoted = args.map((arg) => {
    const body = Array.from(arg, (byte) =>
      byte >= 0x30 && byte <= 0x7a && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`,
    );
    return `"${body.join('')}"`;
  });
  return Buffer.from(`${quoted.join(' ')}${ending}`, 'latin1');
}

const argArb = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(...['PING', 'SET', '\r\n', '*1', '$', '"', ''].map((s) => Buffer.from(s))),
);
const commandArb = fc.array(argArb.map(Buffer.from), { minLength: 1, maxLength: 8 });
const framedArb = fc.record({
  args: commandArb,
  form: fc.constantFrom('multibulk', 'inline-crlf', 'inline-lf'),
});
const cutsArb = fc.array(fc.nat(), { maxLength: 40 });

function encodeRequest({ args, form }: { args: Buffer[]; form: string }): Buffer {
  if (form === 'multibulk') return multibulk(...args);
  return inline(args, form === 'inline-crlf' ? '\r\n' : '\n');
}

const latin1 = (args: readonly Buffer[]) => args.map((arg) => arg.toString('latin1'));

t.test('encoded commands decode back exactly, however the bytes are cut', async (t) => {
  fc.assert(
    fc.property(fc.array(framedArb, { maxLength: 12 }), cutsArb, (commands, cuts) => {
      const bytes = Buffer.concat(commands.map(encodeRequest));
      const { events, pendingBytes } = decodeChunks(chunk(bytes, cuts), ROOMY);
      assert.deepEqual(
        events,
        commands.map((c) => ({ command: latin1(c.args) })),
      );
      assert.equal(pendingBytes, 0);
    }),
    params,
  );
  t.pass(`${RUNS} runs`);
});

/** A valid stream with random damage: bytes flipped, inserted, deleted, or the tail cut off. */
const damagedArb = fc
  .tuple(
    fc.array(framedArb, { maxLength: 6 }),
    fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'cut')), {
      maxLength: 4,
    }),
  )
  .map(([commands, edits]) => {
    const bytes = Array.from(Buffer.concat(commands.map(encodeRequest)));
    for (const [at, byte, edit] of edits) {
      const i = at % (bytes.length + 1);
      if (edit === 'flip') bytes[i] = byte;
      else if (edit === 'insert') bytes.splice(i, 0, byte);
      else if (edit === 'delete') bytes.splice(i, 1);
      else bytes.length = i;
    }
    return Buffer.from(bytes);
  });
const hostileArb = fc.oneof(
  damagedArb,
  fc.uint8Array({ maxLength: 200 }).map(Buffer.from),
  fc
    .array(fc.constantFrom('*', '$', '-', '1', '9', '0', '\r', '\n', ' ', '"', "'", '\\', 'x', 'A'), {
      maxLength: 80,
    })
    .map((tokens) => Buffer.from(tokens.join(''), 'latin1')),
);

/** An inline line waiting for its LF (and its CR), or all arguments but the last byte and CR/LF. */
const pendingBound = (l: DecoderLimits) => Math.max(l.maxInlineBytes + 1, l.maxArgs * l.maxBulkBytes + 1);

t.test('hostile input never throws, errors once and last, and stays within the limits', async (t) => {
  fc.assert(
    fc.property(hostileArb, cutsArb, (bytes, cuts) => {
      const whole = decodeChunks([bytes], TIGHT);
      const cut = decodeChunks(chunk(bytes, cuts), TIGHT);
      assert.deepEqual(cut.events, whole.events, 'the same events whether whole or cut');
      assert.equal(cut.pendingBytes, whole.pendingBytes, 'the same bytes pending whether whole or cut');
      assert.ok(cut.maxPendingBytes <= pendingBound(TIGHT), `at most ${pendingBound(TIGHT)} bytes pending`);
      const errorAt = whole.events.findIndex((e) => 'error' in e);
      if (errorAt >= 0) assert.equal(errorAt, whole.events.length - 1, 'nothing after the error');
      for (const event of whole.events) {
        if ('error' in event) {
          assert.match(event.error, /^Protocol error: /);
        } else {
          assert.ok(event.command.length >= 1 && event.command.length <= TIGHT.maxArgs, 'argument count');
          assert.ok(
            event.command.every((arg) => arg.length <= TIGHT.maxBulkBytes),
            'argument size',
          );
        }
      }
    }),
    params,
  );
  t.pass(`${RUNS} runs`);
});
