import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import type { Reply } from './reply.js';

/**
 * A `Reply` as bytes, protocol-independent: how a forwarded command's answer crosses the bus,
 * and how a state machine keeps the answer to a request it may be asked to repeat. The
 * receiving connection still chooses RESP2 or RESP3 when it writes the reply out.
 */

const TAGS = {
  simple: 1,
  error: 2,
  int: 3,
  bigint: 4,
  bulk: 5,
  null: 6,
  array: 7,
  map: 8,
  set: 9,
  double: 10,
  bool: 11,
  verbatim: 12,
  push: 13,
} as const;

/** Nesting deeper than this is refused on decode (no reply we send comes close). */
const MAX_DEPTH = 32;
const MAX_TEXT_BYTES = 512 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

export function encodeReplyValue(reply: Reply): Uint8Array {
  const w = new ByteWriter(64);
  write(w, reply);
  return w.finish();
}

export function decodeReplyValue(bytes: Uint8Array): Reply {
  const r = new ByteReader(bytes);
  const reply = read(r, 0);
  r.expectEnd();
  return reply;
}

function text(w: ByteWriter, s: string): void {
  w.bytes(utf8Encoder.encode(s));
}

function readText(r: ByteReader): string {
  const b = r.bytes();
  if (b.byteLength > MAX_TEXT_BYTES) throw new CodecError('reply text too long');
  try {
    return utf8.decode(b);
  } catch {
    throw new CodecError('reply text is not valid UTF-8');
  }
}

function write(w: ByteWriter, reply: Reply): void {
  switch (reply.t) {
    case 'simple':
    case 'error':
      w.byte(TAGS[reply.t]);
      text(w, reply.v);
      return;
    case 'int':
      if (typeof reply.v === 'bigint' || !Number.isSafeInteger(reply.v) || reply.v < 0) {
        w.byte(TAGS.bigint);
        text(w, reply.v.toString());
      } else {
        w.byte(TAGS.int);
        w.varint(reply.v);
      }
      return;
    case 'bulk':
      w.byte(TAGS.bulk);
      w.bytes(typeof reply.v === 'string' ? utf8Encoder.encode(reply.v) : reply.v);
      return;
    case 'null':
      w.byte(TAGS.null);
      return;
    case 'array':
    case 'set':
    case 'push':
      w.byte(TAGS[reply.t]);
      w.varint(reply.v.length);
      for (const item of reply.v) write(w, item);
      return;
    case 'map':
      w.byte(TAGS.map);
      w.varint(reply.v.length);
      for (const [k, v] of reply.v) {
        write(w, k);
        write(w, v);
      }
      return;
    case 'double':
      w.byte(TAGS.double);
      text(w, String(reply.v));
      return;
    case 'bool':
      w.byte(TAGS.bool);
      w.bool(reply.v);
      return;
    case 'verbatim':
      w.byte(TAGS.verbatim);
      text(w, reply.format);
      text(w, reply.v);
      return;
  }
}

function read(r: ByteReader, depth: number): Reply {
  if (depth > MAX_DEPTH) throw new CodecError(`reply nested deeper than ${MAX_DEPTH}`);
  const tag = r.byte();
  switch (tag) {
    case TAGS.simple:
      return { t: 'simple', v: readText(r) };
    case TAGS.error:
      return { t: 'error', v: readText(r) };
    case TAGS.int:
      return { t: 'int', v: r.varint() };
    case TAGS.bigint: {
      const s = readText(r);
      if (!/^-?\d{1,40}$/.test(s)) throw new CodecError(`invalid integer ${JSON.stringify(s)}`);
      const n = BigInt(s);
      return { t: 'int', v: Number.isSafeInteger(Number(n)) ? Number(n) : n };
    }
    case TAGS.bulk:
      return { t: 'bulk', v: Buffer.from(r.bytes()) };
    case TAGS.null:
      return { t: 'null' };
    case TAGS.array:
    case TAGS.set:
    case TAGS.push: {
      const n = r.count(1);
      const items: Reply[] = [];
      for (let i = 0; i < n; i++) items.push(read(r, depth + 1));
      const t = tag === TAGS.array ? 'array' : tag === TAGS.set ? 'set' : 'push';
      return { t, v: items };
    }
    case TAGS.map: {
      const n = r.count(2);
      const pairs: (readonly [Reply, Reply])[] = [];
      for (let i = 0; i < n; i++) pairs.push([read(r, depth + 1), read(r, depth + 1)]);
      return { t: 'map', v: pairs };
    }
    case TAGS.double: {
      const v = Number(readText(r));
      return { t: 'double', v };
    }
    case TAGS.bool:
      return { t: 'bool', v: r.bool() };
    case TAGS.verbatim: {
      const format = readText(r);
      return { t: 'verbatim', format, v: readText(r) };
    }
    default:
      throw new CodecError(`unknown reply tag ${tag}`);
  }
}
