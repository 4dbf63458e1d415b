import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/lib/errors.js';
import { type DecoderLimits, RequestDecoder } from '../../src/resp/decoder.js';
import { cutsArb, editsArb, mutate, split } from './bytes.js';
import { check, type FuzzProperty } from './property.js';

/**
 * The RESP request decoder (src/resp/decoder.ts) under arbitrary client bytes: it yields
 * commands or exactly one `ProtocolError`, throws nothing, buffers no more than its limits
 * allow, and a stream means the same whether it arrives in one chunk, in random chunks or a
 * byte at a time (the fast path and the resumable state machine must agree).
 */

/** Small enough that random streams hit every limit. */
const TIGHT: DecoderLimits = { maxBulkBytes: 16, maxArgs: 4, maxInlineBytes: 32 };
/** Roomy enough that valid commands pass, so mutations land deep inside them. */
const ROOMY: DecoderLimits = { maxBulkBytes: 4096, maxArgs: 64, maxInlineBytes: 4096 };

type Event = { command: string[] } | { error: string };

interface Decoded {
  events: Event[];
  pendingBytes: number;
  maxPendingBytes: number;
}

function decode(chunks: readonly Buffer[], limits: DecoderLimits, authenticated: boolean): Decoded {
  const events: Event[] = [];
  const decoder = new RequestDecoder(
    limits,
    (args) => events.push({ command: args.map((a) => a.toString('latin1')) }),
    (err) => {
      check(err instanceof ProtocolError, `onError got ${String(err)}, not a ProtocolError`);
      events.push({ error: err.message });
    },
  );
  decoder.authenticated = authenticated;
  let maxPendingBytes = 0;
  for (const chunk of chunks) {
    decoder.write(chunk);
    maxPendingBytes = Math.max(maxPendingBytes, decoder.pendingBytes);
  }
  return { events, pendingBytes: decoder.pendingBytes, maxPendingBytes };
}

/** The limits in force: Redis's pre-AUTH ones (10 args of 16 KiB) cap the configured ones. */
function effective(l: DecoderLimits, authenticated: boolean): DecoderLimits {
  if (authenticated) return l;
  return { ...l, maxArgs: Math.min(l.maxArgs, 10), maxBulkBytes: Math.min(l.maxBulkBytes, 16384) };
}

/** An inline line waiting for its LF, or all arguments of a multibulk but the last bytes. */
const pendingBound = (l: DecoderLimits) => Math.max(l.maxInlineBytes + 1, l.maxArgs * l.maxBulkBytes + 2);

function multibulk(args: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), Buffer.from(a), Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Every argument double-quoted, odd bytes as `\xHH`: what redis-cli would type for it. */
function inline(args: readonly Uint8Array[], ending: string): Buffer {
  const quoted = args.map((arg) => {
    const body = Array.from(arg, (b) =>
      b >= 0x30 && b <= 0x7a && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`,
    );
    return `"${body.join('')}"`;
  });
  return Buffer.from(`${quoted.join(' ')}${ending}`, 'latin1');
}

const argArb = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.constantFrom(...['PING', 'LOCK.ACQUIRE', '\r\n', '*1', '$-1', '"', "'", ''].map((s) => Buffer.from(s))),
);
const requestArb = fc.record({
  args: fc.array(argArb, { minLength: 1, maxLength: 6 }),
  form: fc.constantFrom('multibulk', 'inline-crlf', 'inline-lf'),
});
type Request = { args: Uint8Array[]; form: string };

function encodeRequest({ args, form }: Request): Buffer {
  return form === 'multibulk' ? multibulk(args) : inline(args, form === 'inline-crlf' ? '\r\n' : '\n');
}

/** Tokens that make up RESP headers, so random soups often look almost valid. */
const soupArb = fc
  .array(
    fc.constantFrom('*', '$', '-', '1', '9', '0', '2', '\r', '\n', ' ', '"', "'", '\\', 'x', 'A', '\0'),
    {
      maxLength: 80,
    },
  )
  .map((tokens) => Buffer.from(tokens.join(''), 'latin1'));

const hostileArb: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(requestArb, { maxLength: 5 }), editsArb())
      .map(([requests, edits]) => mutate(Buffer.concat(requests.map(encodeRequest)), edits)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 2, arbitrary: soupArb },
);

const hostile: FuzzProperty = {
  name: 'resp/hostile',
  async setup() {
    return {
      property: fc.property(
        hostileArb,
        cutsArb,
        fc.constantFrom(TIGHT, ROOMY),
        fc.boolean(),
        (bytes, cuts, limits, authenticated) => {
          const whole = decode([bytes], limits, authenticated);
          const cut = decode(split(bytes, cuts), limits, authenticated);
          deepStrictEqual(cut.events, whole.events, 'the same events whether whole or cut');
          check(cut.pendingBytes === whole.pendingBytes, 'the same bytes pending whether whole or cut');
          if (bytes.length <= 120) {
            const bytewise = decode(split(bytes, [...bytes.keys()]), limits, authenticated);
            deepStrictEqual(bytewise.events, whole.events, 'the same events byte by byte');
          }
          const l = effective(limits, authenticated);
          const bound = pendingBound(l);
          check(cut.maxPendingBytes <= bound, () => `${cut.maxPendingBytes} bytes pending, bound ${bound}`);
          const errorAt = whole.events.findIndex((e) => 'error' in e);
          check(errorAt < 0 || errorAt === whole.events.length - 1, 'nothing after the protocol error');
          for (const e of whole.events) {
            if ('error' in e) {
              check(/^Protocol error: /.test(e.error), `error text ${e.error}`);
              continue;
            }
            check(e.command.length >= 1 && e.command.length <= l.maxArgs, 'argument count within the limit');
            check(
              e.command.every((a) => a.length <= l.maxBulkBytes),
              'argument size within the limit',
            );
          }
        },
      ),
    };
  },
};

const roundTrip: FuzzProperty = {
  name: 'resp/round-trip',
  async setup() {
    return {
      property: fc.property(fc.array(requestArb, { maxLength: 8 }), cutsArb, (requests, cuts) => {
        const bytes = Buffer.concat(requests.map(encodeRequest));
        const { events, pendingBytes } = decode(split(bytes, cuts), ROOMY, true);
        const expected = requests.map((r) => ({
          command: r.args.map((a) => Buffer.from(a).toString('latin1')),
        }));
        deepStrictEqual(events, expected);
        check(pendingBytes === 0, 'nothing left pending after whole commands');
      }),
    };
  },
};

export const respProperties: readonly FuzzProperty[] = [hostile, roundTrip];
