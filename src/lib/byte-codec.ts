/**
 * The byte-level vocabulary of every binary codec in lockstep (Raft messages, entry envelopes,
 * forwarded requests): unsigned LEB128 varints up to 2^53 − 1, length-prefixed byte strings and
 * short UTF-8 strings. The reader trusts nothing: every length is checked against the bytes that
 * remain before anything is allocated, so garbage throws a `CodecError` in linear time.
 */

export class CodecError extends Error {
  override name = 'CodecError';
}

/** Default bound for `string()`: node ids and other identifiers. */
export const MAX_SHORT_STRING_BYTES = 255;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(capacity: number) {
    this.#buf = new Uint8Array(capacity);
  }

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#pos + n));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }

  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#pos++] = b;
  }

  bool(b: boolean): void {
    this.byte(b ? 1 : 0);
  }

  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new CodecError(`cannot encode ${n}: not a non-negative safe integer`);
    this.#reserve(8);
    // Division, not bit shifts: JavaScript shifts truncate to 32 bits.
    while (n >= 0x80) {
      this.#buf[this.#pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buf[this.#pos++] = n;
  }

  bytes(b: Uint8Array): void {
    this.varint(b.byteLength);
    this.#reserve(b.byteLength);
    this.#buf.set(b, this.#pos);
    this.#pos += b.byteLength;
  }

  /** A UTF-8 string of 1..maxBytes bytes (node ids, request ids). */
  string(s: string, maxBytes = MAX_SHORT_STRING_BYTES, what = 'string'): void {
    if (s.length > 0 && s.length <= maxBytes && isAscii(s)) {
      // Node ids are short and nearly always ASCII: skip TextEncoder, which dominates otherwise.
      this.varint(s.length);
      this.#reserve(s.length);
      for (let i = 0; i < s.length; i++) this.#buf[this.#pos++] = s.charCodeAt(i);
      return;
    }
    const encoded = utf8Encoder.encode(s);
    if (encoded.byteLength === 0 || encoded.byteLength > maxBytes) {
      throw new CodecError(`${what} must be 1..${maxBytes} UTF-8 bytes, got ${encoded.byteLength}`);
    }
    this.bytes(encoded);
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

export class ByteReader {
  readonly #buf: Uint8Array;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  #need(n: number, what: string): void {
    if (this.#buf.length - this.#pos < n) {
      throw new CodecError(
        `truncated input: ${what} needs ${n} bytes at offset ${this.#pos} of ${this.#buf.length}`,
      );
    }
  }

  byte(): number {
    this.#need(1, 'a byte');
    return this.#buf[this.#pos++]!;
  }

  bool(): boolean {
    const b = this.byte();
    if (b > 1) throw new CodecError(`invalid boolean ${b} at offset ${this.#pos - 1}`);
    return b === 1;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new CodecError(`varint ${value} exceeds 2^53 - 1`);
        if (i > 0 && b === 0) throw new CodecError(`non-canonical varint at offset ${this.#pos - 1}`);
        return value;
      }
      scale *= 0x80;
    }
    throw new CodecError(`varint longer than 8 bytes at offset ${this.#pos}`);
  }

  /** A list length, rejected when even the smallest items could not fit in what remains. */
  count(minItemBytes: number): number {
    const n = this.varint();
    if (n * minItemBytes > this.#buf.length - this.#pos) {
      throw new CodecError(
        `list of ${n} items cannot fit in ${this.#buf.length - this.#pos} remaining bytes`,
      );
    }
    return n;
  }

  /**
   * A length-prefixed byte string as a view into the input, not a copy: for a container whose
   * items are decoded (and copied) at once, like a batch of Raft messages.
   */
  bytesView(): Uint8Array {
    const n = this.varint();
    this.#need(n, 'a byte string');
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** A copy, so that decoded messages never alias a buffer the transport may reuse. */
  bytes(): Uint8Array {
    const n = this.varint();
    this.#need(n, 'a byte string');
    // Uint8Array's slice, which copies: on a Buffer (what the bus hands over) Buffer#slice is a view.
    const out = Uint8Array.prototype.slice.call(this.#buf, this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** A string written by `ByteWriter.string`: 1..maxBytes bytes of UTF-8. */
  string(maxBytes = MAX_SHORT_STRING_BYTES, what = 'string'): string {
    const n = this.varint();
    if (n === 0 || n > maxBytes) throw new CodecError(`${what} length ${n} outside 1..${maxBytes}`);
    this.#need(n, `a ${what}`);
    const raw = this.#buf.subarray(this.#pos, this.#pos + n);
    let s: string;
    if (n <= 1024 && raw.every((b) => b < 0x80)) {
      s = String.fromCharCode(...raw);
    } else {
      try {
        s = utf8Decoder.decode(raw);
      } catch {
        throw new CodecError(`${what} at offset ${this.#pos} is not valid UTF-8`);
      }
    }
    this.#pos += n;
    return s;
  }

  expectEnd(): void {
    if (this.#pos !== this.#buf.length) {
      throw new CodecError(`${this.#buf.length - this.#pos} trailing bytes after the message`);
    }
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}
