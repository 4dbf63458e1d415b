import { assert, unreachable } from '../lib/assert.js';
import { OK, PONG, type Reply } from './reply.js';

/**
 * Reply encoder: a Reply value to RESP3 bytes, or to RESP2 bytes for connections that never sent
 * `HELLO 3` (the downgrades are Redis's). Replies are written straight into a per-connection slab
 * and handed out as views of it, because allocating and copying a Buffer per reply costs more than
 * the encoding itself (docs/protocol.md has the measurements against respjs).
 */

export type Protocol = 2 | 3;

const CR = 0x0d;
const LF = 0x0a;
const ZERO = 0x30;
const MINUS = 0x2d;

/** A slab for many small replies, small enough to keep one per idle client. */
const SLAB_BYTES = 4096;
/** A slab grown past this is dropped at take(), so one huge reply does not pin memory for good. */
const KEEP_SLAB_BYTES = 16384;
/** Strings up to this length are copied by a JS loop if ASCII: cheaper than a call into C++. */
const SHORT_STRING = 32;
/** The longest `<type><int64>\r\n` header. */
const HEADER_BYTES = 23;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const NULL_BY_PROTOCOL: Readonly<Record<Protocol, Buffer>> = {
  2: Buffer.from('$-1\r\n'),
  3: Buffer.from('_\r\n'),
};
const OK_BYTES = Buffer.from('+OK\r\n');
const PONG_BYTES = Buffer.from('+PONG\r\n');

/** Encodes one reply into a Buffer of its own (the caller may keep or mutate it). */
export function encodeReply(reply: Reply, proto: Protocol): Buffer {
  encodeSlab.append(reply, proto);
  return encodeSlab.take() ?? Buffer.alloc(0);
}

/**
 * Accumulates replies for one connection and hands out one Buffer per flush (one socket.write per
 * event-loop turn). Taken Buffers are views of a slab that is only ever written past them, so the
 * socket may hold them as long as it needs.
 */
export class ReplyBuffer {
  #slab: Buffer | null = null;
  /** Pending bytes are `#slab[#start, #end)`; everything before #start has been taken. */
  #start = 0;
  #end = 0;

  /** All or nothing: a reply the wire cannot carry throws and leaves the pending bytes as they were. */
  append(reply: Reply, proto: Protocol): void {
    const pending = this.byteLength;
    try {
      this.#item(reply, proto);
    } catch (err) {
      this.#end = this.#start + pending;
      throw err;
    }
  }

  appendRaw(bytes: Buffer): void {
    const slab = this.#reserve(bytes.length);
    slab.set(bytes, this.#end);
    this.#end += bytes.length;
  }

  /** Pending bytes (the server compares this to the client's output-buffer limit). */
  get byteLength(): number {
    return this.#end - this.#start;
  }

  /** Everything appended since the last take, or null if nothing. */
  take(): Buffer | null {
    const slab = this.#slab;
    if (slab === null || this.#end === this.#start) return null;
    const taken = slab.subarray(this.#start, this.#end);
    this.#start = this.#end;
    if (slab.length > KEEP_SLAB_BYTES) this.#slab = null;
    return taken;
  }

  /** Room for `bytes` more; a new slab gets the pending bytes, the old one stays with its takers. */
  #reserve(bytes: number): Buffer {
    const slab = this.#slab;
    if (slab !== null && this.#end + bytes <= slab.length) return slab;
    const pending = this.#end - this.#start;
    const grown = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (pending + bytes)));
    if (slab !== null) grown.set(slab.subarray(this.#start, this.#end));
    this.#slab = grown;
    this.#start = 0;
    this.#end = pending;
    return grown;
  }

  #item(reply: Reply, proto: Protocol): void {
    if (reply === OK) this.appendRaw(OK_BYTES);
    else if (reply === PONG) this.appendRaw(PONG_BYTES);
    else this.#reply(reply, proto);
  }

  #reply(reply: Reply, proto: Protocol): void {
    switch (reply.t) {
      case 'simple':
        this.#line(0x2b, sanitizeLine(reply.v));
        break;
      case 'error':
        this.#line(MINUS, sanitizeLine(reply.v));
        break;
      case 'int':
        this.#int(reply.v);
        break;
      case 'bulk':
        this.#bulk(0x24, reply.v);
        break;
      case 'null':
        this.appendRaw(NULL_BY_PROTOCOL[proto]);
        break;
      case 'array':
        this.#aggregate(0x2a, reply.v, proto);
        break;
      case 'set':
        this.#aggregate(proto === 3 ? 0x7e : 0x2a, reply.v, proto);
        break;
      case 'push':
        this.#aggregate(proto === 3 ? 0x3e : 0x2a, reply.v, proto);
        break;
      case 'map':
        this.#map(reply.v, proto);
        break;
      case 'double':
        this.#double(reply.v, proto);
        break;
      case 'bool':
        this.#bool(reply.v, proto);
        break;
      case 'verbatim':
        this.#verbatim(reply.format, reply.v, proto);
        break;
      default:
        unreachable(reply, 'unknown reply type');
    }
  }

  #aggregate(type: number, items: readonly Reply[], proto: Protocol): void {
    this.#header(type, items.length);
    for (const item of items) this.#item(item, proto);
  }

  /** RESP2 has no map: Redis sends the keys and values flattened into one array. */
  #map(entries: readonly (readonly [Reply, Reply])[], proto: Protocol): void {
    if (proto === 3) this.#header(0x25, entries.length);
    else this.#header(0x2a, entries.length * 2);
    for (const [key, value] of entries) {
      this.#item(key, proto);
      this.#item(value, proto);
    }
  }

  /** RESP2 has no double: Redis sends the same digits as a bulk string. */
  #double(value: number, proto: Protocol): void {
    if (proto === 3) this.#line(0x2c, formatDouble(value));
    else this.#bulk(0x24, formatDouble(value));
  }

  /** RESP2 has no boolean: Redis sends the integers 1 and 0. */
  #bool(value: boolean, proto: Protocol): void {
    if (proto === 3) this.#line(0x23, value ? 't' : 'f');
    else this.#header(0x3a, value ? 1 : 0);
  }

  /** RESP3 `=len\r\nfmt:text\r\n`; RESP2 clients get the text as a plain bulk string, as from Redis. */
  #verbatim(format: string, text: string, proto: Protocol): void {
    if (proto === 2) {
      this.#bulk(0x24, text);
      return;
    }
    assert(
      format.length === 3 && Buffer.byteLength(format) === 3,
      `verbatim format must be 3 bytes: '${format}'`,
    );
    this.#bulk(0x3d, `${format}:${text}`);
  }

  #int(value: number | bigint): void {
    if (typeof value === 'bigint') {
      assert(value >= INT64_MIN && value <= INT64_MAX, `integer reply out of int64 range: ${value}`);
      this.#line(0x3a, value.toString());
    } else {
      assert(Number.isSafeInteger(value), `integer reply is not a safe integer: ${value}`);
      this.#header(0x3a, value);
    }
  }

  /** Type byte, a safe integer in decimal, CRLF. */
  #header(type: number, value: number): void {
    const slab = this.#reserve(HEADER_BYTES);
    slab[this.#end] = type;
    this.#end = writeCrlf(slab, writeDecimal(slab, this.#end + 1, value));
  }

  /** A one-line reply: type byte, text, CRLF. The text must not contain CR or LF. */
  #line(type: number, text: string): void {
    const slab = this.#reserve(3 * text.length + 3);
    const at = this.#end;
    slab[at] = type;
    let end = text.length <= SHORT_STRING ? writeAscii(slab, at + 1, text) : -1;
    if (end < 0) end = at + 1 + slab.write(text, at + 1);
    this.#end = writeCrlf(slab, end);
  }

  #bulk(type: number, value: Buffer | string): void {
    if (typeof value !== 'string') {
      this.#header(type, value.length);
      const slab = this.#reserve(value.length + 2);
      slab.set(value, this.#end);
      this.#end = writeCrlf(slab, this.#end + value.length);
    } else if (value.length > SHORT_STRING || !this.#shortAsciiBulk(type, value)) {
      const bytes = Buffer.byteLength(value);
      this.#header(type, bytes);
      const slab = this.#reserve(bytes + 2);
      // Equal lengths mean pure ASCII, which latin1 copies byte for byte without UTF-8 encoding.
      const written = slab.write(value, this.#end, bytes === value.length ? 'latin1' : 'utf8');
      this.#end = writeCrlf(slab, this.#end + written);
    }
  }

  /** Writes a short string's bulk reply if it is all ASCII (its length is then its byte count). */
  #shortAsciiBulk(type: number, value: string): boolean {
    const slab = this.#reserve(HEADER_BYTES + value.length + 2);
    slab[this.#end] = type;
    const end = writeAscii(slab, writeCrlf(slab, writeDecimal(slab, this.#end + 1, value.length)), value);
    if (end < 0) return false;
    this.#end = writeCrlf(slab, end);
    return true;
  }
}

/** Shared by encodeReply calls: encoding is synchronous, so one slab serves them all. */
const encodeSlab = new ReplyBuffer();

/** Writes a safe integer in decimal at `at`, digit by digit to skip building a string; returns the end. */
function writeDecimal(target: Buffer, at: number, value: number): number {
  let start = at;
  let magnitude = value;
  if (value < 0) {
    target[start++] = MINUS;
    magnitude = -value;
  }
  let digits = 1;
  for (let power = 10; power <= magnitude; power *= 10) digits++;
  for (let i = start + digits - 1; i >= start; i--) {
    target[i] = ZERO + (magnitude % 10);
    magnitude = Math.floor(magnitude / 10);
  }
  return start + digits;
}

function writeCrlf(target: Buffer, at: number): number {
  target[at] = CR;
  target[at + 1] = LF;
  return at + 2;
}

/** Copies `text` to `at` if it is all ASCII and returns the end; otherwise -1 (bytes past `at` are junk). */
function writeAscii(target: Buffer, at: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return -1;
    target[at + i] = code;
  }
  return at + text.length;
}

/**
 * A CR or LF inside a one-line reply would end it early and desynchronise the client; Redis maps
 * them to spaces in error replies, and lockstep does the same for simple strings.
 */
function sanitizeLine(text: string): string {
  return text.includes('\r') || text.includes('\n') ? text.replace(/[\r\n]/g, ' ') : text;
}

/** Redis's d2string: shortest round-trip digits, and fixed spellings for inf, -inf, nan and -0. */
export function formatDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}
