import fc from 'fast-check';
import { commandTable } from '../../src/commands/table.js';
import type { ArgSpec, CommandSpec } from '../../src/commands/types.js';
import { editsArb, mutate } from './bytes.js';

/**
 * Argument vectors for every command in the command table, derived from its declared argument
 * spec (src/commands/types.ts): valid-shaped ones (tokens, keys, integers where the spec says),
 * the same with the vector damaged (arguments dropped, repeated, swapped, replaced, bytes
 * edited), and random ones. Values come from small pools full of edge cases (bounds of every
 * limit, non-canonical integers, bytes that are not UTF-8, CR/LF), and keys from a pool small
 * enough that commands meet each other's state: a release finds the lock an acquire took.
 */

/** Keys every command shares; the harness fingerprints the cache lines of these. */
export const KEYS = ['a', 'b', 'q', 'é', 'k:1'] as const;

const str = (...xs: string[]) => xs.map((x) => Buffer.from(x));

/**
 * Stands for a value the node replied recently (a message id, a fencing token), filled in by
 * the harness (`fillRecent`): so that acks, nacks and releases name things that exist.
 */
const RECENT = (k: number) => Buffer.from(`\0recent:${k}\0`);
const RECENT_PATTERN = /^\0recent:(\d+)\0$/;
const RECENTS = [0, 1, 2, 3].map(RECENT);

/** Replaces every RECENT placeholder with one of `recent` (or a plausible default). */
export function fillRecent(argv: readonly Buffer[], recent: readonly string[]): Buffer[] {
  return argv.map((arg) => {
    const m = arg.length < 16 ? RECENT_PATTERN.exec(arg.toString('latin1')) : null;
    if (m === null) return arg;
    return Buffer.from(recent.length === 0 ? '1-0' : recent[Number(m[1]) % recent.length]!);
  });
}
const STRINGS: readonly Buffer[] = [
  ...RECENTS,
  ...str('', 'a', 'x y', 'n1', 'n2', 'owner-1', '1-0', '2-0', '3-1', '0-0', '1-10000', '9007199254740991-0'),
  ...str('*', 'a*', '[', '\\', '\r\n', '\0', 'é', 'OWNER', 'TTL', '127.0.0.1:6379', 'h:99999', '3', 'HELP'),
  Buffer.from([0xff, 0xfe, 0x80]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.alloc(513, 0x6f),
  Buffer.alloc(1025, 0x71),
];
/** Integers by their edges: 0, ±1, the bounds of ms limits, 2^53, and what only looks numeric. */
const INTEGERS: readonly Buffer[] = [
  ...RECENTS,
  ...str(
    '0',
    '1',
    '2',
    '3',
    '5',
    '10',
    '-1',
    '86400000',
    '86400001',
    '604800000',
    '604800001',
    '1000000',
    '1000000001',
    '10000',
    '10001',
    '9007199254740991',
    '9007199254740992',
    '99999999999999999',
    '-9007199254740991',
    '01',
    '+1',
    '-0',
    '1.5',
    '1e3',
    ' 1',
    'abc',
    '',
  ),
];
/** Small integers, over-weighted in valid-shaped commands so that waits and blocks stay short. */
const SHORT_MS = str('0', '1', '5', '20');

/** Every token the table declares, so damaged vectors put keywords where values belong. */
const TOKENS: readonly string[] = (() => {
  const out = new Set<string>();
  const walk = (args: readonly ArgSpec[]): void => {
    for (const a of args) {
      if (a.token !== undefined) out.add(a.token);
      walk(a.arguments ?? []);
    }
  };
  for (const spec of commandTable.all()) walk(spec.arguments);
  return [...out];
})();

/** Commands as a client names them: `CLIENT SETNAME` is two words, `lock.acquire` one. */
interface Target {
  readonly words: readonly string[];
  readonly spec: CommandSpec;
}

const TARGETS: readonly Target[] = [...commandTable.all()]
  .filter((spec) => !spec.subcommands?.length)
  .map((spec) => ({ words: spec.name.split('|'), spec }));

/** Every command name and subcommand, for the report. */
export const COMMAND_NAMES: readonly string[] = TARGETS.map((t) => t.spec.name);

const bytesArb = fc.uint8Array({ maxLength: 24 }).map((b) => Buffer.from(b));
const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const randomCase = (word: string): fc.Arbitrary<Buffer> =>
  fc
    .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
    .map((ups) =>
      Buffer.from([...word].map((c, i) => (ups[i] ? c.toUpperCase() : c.toLowerCase())).join('')),
    );

function valueArb(type: ArgSpec['type']): fc.Arbitrary<Buffer> {
  switch (type) {
    case 'key':
      return fc.oneof({ weight: 6, arbitrary: pick(KEYS).map((k) => Buffer.from(k)) }, pick(STRINGS));
    case 'integer':
    case 'double':
      return fc.oneof({ weight: 3, arbitrary: pick(SHORT_MS) }, { weight: 2, arbitrary: pick(INTEGERS) });
    case 'pattern':
      return pick(str('*', 'a*', '?', '[a-', '\\', 'q', '[^]]*'));
    default:
      return fc.oneof({ weight: 3, arbitrary: pick(STRINGS) }, bytesArb);
  }
}

/** One argument of the spec as words: its token (in any case) and value, or the children of a block. */
function argArb(a: ArgSpec): fc.Arbitrary<Buffer[]> {
  const token = a.token === undefined ? fc.constant<Buffer[]>([]) : randomCase(a.token).map((t) => [t]);
  let value: fc.Arbitrary<Buffer[]>;
  if (a.type === 'pure-token') value = fc.constant([]);
  else if (a.type === 'oneof') value = fc.oneof(...(a.arguments ?? []).map(argArb));
  else if (a.type === 'block') value = argsArb(a.arguments ?? []);
  else value = valueArb(a.type).map((v) => [v]);
  const one = fc.tuple(token, value).map(([t, v]) => [...t, ...v]);
  const some = a.multiple ? fc.array(one, { minLength: 1, maxLength: 3 }).map((xs) => xs.flat()) : one;
  return a.optional ? fc.option(some, { nil: [] as Buffer[], freq: 2 }) : some;
}

function argsArb(args: readonly ArgSpec[]): fc.Arbitrary<Buffer[]> {
  if (args.length === 0) return fc.constant([]);
  return fc.tuple(...args.map(argArb)).map((parts) => parts.flat());
}

/** A command as its spec describes it. */
const validShaped: fc.Arbitrary<Buffer[]> = fc.oneof(
  ...TARGETS.map((t) =>
    fc
      .tuple(fc.tuple(...t.words.map(randomCase)), argsArb(t.spec.arguments))
      .map(([words, args]) => [...words, ...args]),
  ),
);

type VectorEdit =
  | {
      kind: 'drop' | 'repeat' | 'bytes';
      at: number;
      edits: ReturnType<typeof editsArb> extends fc.Arbitrary<infer E> ? E : never;
    }
  | { kind: 'swap'; at: number; other: number }
  | { kind: 'replace' | 'insert'; at: number; value: Buffer };

const vectorEditArb: fc.Arbitrary<VectorEdit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('drop' as const, 'repeat' as const, 'bytes' as const),
    at: fc.nat(),
    edits: editsArb(2),
  }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({
    kind: fc.constantFrom('replace' as const, 'insert' as const),
    at: fc.nat(),
    value: fc.oneof(
      pick(TOKENS).map((t) => Buffer.from(t)),
      pick(INTEGERS),
      pick(STRINGS),
      bytesArb,
    ),
  }),
);

/** Edits never touch the command name (index 0): that would mostly test "unknown command". */
function applyEdits(argv: readonly Buffer[], edits: readonly VectorEdit[]): Buffer[] {
  const out = [...argv];
  for (const e of edits) {
    const i = 1 + (e.at % Math.max(1, out.length - 1));
    if (e.kind === 'insert') out.splice(Math.min(i, out.length), 0, e.value);
    else if (i >= out.length) continue;
    else if (e.kind === 'drop') out.splice(i, 1);
    else if (e.kind === 'repeat') out.splice(i, 0, out[i]!);
    else if (e.kind === 'bytes') out[i] = mutate(out[i]!, e.edits);
    else if (e.kind === 'replace') out[i] = e.value;
    else if (e.kind === 'swap') {
      const j = 1 + (e.other % Math.max(1, out.length - 1));
      if (j < out.length) [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

/** A random vector: a real command name (or junk) and arguments from the pools. */
const randomVector: fc.Arbitrary<Buffer[]> = fc
  .tuple(
    fc.oneof(
      { weight: 4, arbitrary: pick(TARGETS).chain((t) => fc.tuple(...t.words.map(randomCase))) },
      bytesArb.map((b) => [b]),
    ),
    fc.array(
      fc.oneof(
        pick(STRINGS),
        pick(INTEGERS),
        pick(TOKENS).map((t) => Buffer.from(t)),
        bytesArb,
      ),
      {
        maxLength: 6,
      },
    ),
  )
  .map(([words, args]) => [...words, ...args]);

/** One argument vector, never empty (the decoder never emits an empty command). */
export const commandArb: fc.Arbitrary<Buffer[]> = fc.oneof(
  { weight: 5, arbitrary: validShaped },
  {
    weight: 4,
    arbitrary: fc
      .tuple(validShaped, fc.array(vectorEditArb, { minLength: 1, maxLength: 3 }))
      .map(([argv, edits]) => applyEdits(argv, edits)),
  },
  { weight: 1, arbitrary: randomVector },
);
