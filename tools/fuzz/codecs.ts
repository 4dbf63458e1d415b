import fc from 'fast-check';
import { decodeCacheBatch, encodeCacheBatch } from '../../src/cache/codec.js';
import { decodeHello, encodeHello } from '../../src/cluster/bus/handshake.js';
import {
  decodeForwardReply,
  decodeForwardRequest,
  encodeForwardReply,
  encodeForwardRequest,
} from '../../src/cluster/forward-codec.js';
import { decodeMetaCommand, encodeMetaCommand } from '../../src/cluster/meta/commands.js';
import { CodecError } from '../../src/lib/byte-codec.js';
import { ProtocolError } from '../../src/lib/errors.js';
import { decodeLockCommand, encodeLockCommand } from '../../src/lock/commands.js';
import { LockTable } from '../../src/lock/state-machine.js';
import { decodeQueueCommand, encodeQueueCommand } from '../../src/queue/commands.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/queue/rows.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import { decodeConfChange, decodeMessage, encodeConfChange, encodeMessage } from '../../src/raft/codec.js';
import { decodeEnvelope, encodeEnvelope } from '../../src/raft-runtime/envelope.js';
import { decodeMessageBatch, encodeMessageBatch } from '../../src/raft-runtime/message-batch.js';
import { decodeReplyValue, encodeReplyValue } from '../../src/resp/reply-codec.js';
import { editsArb, mutate } from './bytes.js';
import * as values from './codec-values.js';
import { check, type FuzzProperty } from './property.js';

/**
 * Every binary codec whose bytes cross the bus or sit in a Raft entry or snapshot: a peer (or
 * a corrupted log) can hand any of them anything. For valid values, decode(encode(v)) encodes
 * back to the same bytes. For damaged and random bytes, decode returns a value or throws the
 * codec's own error class, nothing else; what it returns encodes again and is stable; its byte
 * fields do not alias the input (the transport's chunk), and for the codecs documented as
 * canonical, it re-encodes to exactly the input.
 */
interface Codec<T> {
  readonly name: string;
  readonly value: fc.Arbitrary<T>;
  encode(v: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** What a refusal may throw. */
  readonly error: abstract new (
    ...args: never[]
  ) => Error;
  /** The codec promises that whatever decodes re-encodes to the very same bytes. */
  readonly canonical: boolean;
  /** A decoded value may fall outside what the encoder accepts (checked later by the caller). */
  readonly decodesUnencodable?: boolean;
  /** More work a replica does with a decoded value (apply commands to a restored snapshot). */
  use?(v: T): void;
}

const codec = <T>(c: Codec<T>): Codec<unknown> => c as Codec<unknown>;

/** A tick at every applied index: the table must keep working after any snapshot it accepted. */
const useLockTable = (t: LockTable): void => {
  t.apply({ op: 'tick' }, { index: Number.MAX_SAFE_INTEGER - 1, timeMs: 2 ** 40 });
  t.snapshot();
};
const useQueueState = (s: QueueStateMachine): void => {
  s.apply({ op: 'tick' }, { index: Number.MAX_SAFE_INTEGER - 1, timeMs: 2 ** 40 });
  s.rows();
};

const CODECS: readonly Codec<unknown>[] = [
  codec({
    name: 'raft-message',
    value: values.raftMessage,
    encode: encodeMessage,
    decode: decodeMessage,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'raft-message-batch',
    value: fc.array(values.raftMessage, { maxLength: 3 }),
    encode: encodeMessageBatch,
    decode: decodeMessageBatch,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'raft-conf-change',
    value: values.confChange,
    encode: encodeConfChange,
    decode: decodeConfChange,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'entry-envelope',
    value: values.envelope,
    encode: encodeEnvelope,
    decode: decodeEnvelope,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'forward-request',
    value: values.forwardRequest,
    encode: encodeForwardRequest,
    decode: decodeForwardRequest,
    error: CodecError,
    canonical: true,
  }),
  // Not canonical: a redirect's "has leader" flag reads any value but 1 as "no leader".
  codec({
    name: 'forward-reply',
    value: values.forwardReply,
    encode: encodeForwardReply,
    decode: decodeForwardReply,
    error: CodecError,
    canonical: false,
  }),
  // Not canonical: integers and doubles travel as text, which has many spellings of one number.
  codec({
    name: 'reply-value',
    value: values.replyValue,
    encode: encodeReplyValue,
    decode: decodeReplyValue,
    error: CodecError,
    canonical: false,
  }),
  codec({
    name: 'cache-batch',
    value: fc.record({ epoch: fc.nat(), messages: fc.array(values.cacheMessage, { maxLength: 3 }) }),
    encode: encodeCacheBatch,
    decode: decodeCacheBatch,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'lock-command',
    value: values.lockCommand,
    encode: encodeLockCommand,
    decode: decodeLockCommand,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'queue-command',
    value: values.queueCommand,
    encode: encodeQueueCommand,
    decode: decodeQueueCommand,
    error: CodecError,
    canonical: true,
  }),
  codec({
    name: 'meta-command',
    value: values.metaCommand,
    encode: encodeMetaCommand,
    decode: decodeMetaCommand,
    error: CodecError,
    canonical: true,
  }),
  // Not canonical: names are decoded leniently (invalid UTF-8 becomes U+FFFD). An empty cluster
  // name decodes too, and is refused by the comparison with the local one (bus/connection.ts).
  codec({
    name: 'bus-hello',
    value: values.hello,
    encode: encodeHello,
    decode: decodeHello,
    error: ProtocolError,
    canonical: false,
    decodesUnencodable: true,
  }),
  codec({
    name: 'lock-snapshot',
    value: values.lockTable,
    encode: (t) => t.snapshot(),
    decode: (b) => LockTable.restore(b),
    error: CodecError,
    canonical: true,
    use: useLockTable,
  }),
  codec({
    name: 'queue-snapshot',
    value: values.queueState,
    encode: (s) => encodeSnapshot(s.rows()),
    decode: (b) => {
      const rows = decodeSnapshot(b);
      return QueueStateMachine.fromRows(rows.queues, rows.messages, rows.dedup);
    },
    error: CodecError,
    canonical: true,
    use: useQueueState,
  }),
];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function property(c: Codec<unknown>) {
  return fc.property(
    c.value,
    editsArb(),
    fc.uint8Array({ maxLength: 200 }),
    fc.boolean(),
    (v, edits, random, useRandom) => {
      const valid = c.encode(v);
      const back = c.encode(c.decode(valid));
      if (c.canonical) check(hex(back) === hex(valid), 'a valid value round-trips to the same bytes');
      else check(hex(c.encode(c.decode(back))) === hex(back), 'a valid value round-trips stably');

      // What the transport hands over: a Buffer view into a larger chunk.
      const damaged = useRandom ? Buffer.from(random) : mutate(valid, edits);
      const chunk = Buffer.concat([Buffer.from([0xee]), damaged, Buffer.from([0xee])]);
      const input = chunk.subarray(1, 1 + damaged.length);
      let decoded: unknown;
      try {
        decoded = c.decode(input);
      } catch (err) {
        check(err instanceof c.error, () => `decode threw ${String(err)}, not a ${c.error.name}`);
        return;
      }
      let again: Uint8Array;
      try {
        again = c.encode(decoded);
      } catch (err) {
        check(c.decodesUnencodable === true, () => `a decoded value does not encode: ${String(err)}`);
        return;
      }
      check(hex(c.encode(c.decode(again))) === hex(again), 'what decodes re-encodes stably');
      if (c.canonical) check(hex(again) === hex(input), 'what decodes re-encodes to the same bytes');
      chunk.fill(0xa5);
      check(hex(c.encode(decoded)) === hex(again), 'the decoded value does not alias the input bytes');
      c.use?.(decoded);
    },
  );
}

export const codecProperties: readonly FuzzProperty[] = CODECS.map((c) => ({
  name: `codec/${c.name}`,
  async setup() {
    return { property: property(c) };
  },
}));
