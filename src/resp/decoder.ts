import { ProtocolError } from '../lib/errors.js';
import { splitInlineArgs } from './inline.js';

/**
 * Request decoder: bytes from one client connection in, one `onCommand(args)` per complete
 * command out. It accepts what redis-server's `processInputBuffer` accepts: a request starting
 * with `*` is a RESP array of bulk strings, anything else is an inline line. It is its own
 * resumable state machine (with a straight-line fast path for commands that arrive whole) rather
 * than redis-parser, because enforcing the limits needs every header of every argument checked
 * before its payload is buffered, and that walk is the whole parse: redis-parser behind such a scan
 * measured half as fast (docs/protocol.md).
 */

export interface DecoderLimits {
  /** Largest single argument (Redis `proto-max-bulk-len`). */
  maxBulkBytes: number;
  /** Most arguments in one command (the multibulk length). */
  maxArgs: number;
  /** Longest inline command line, line ending excluded (Redis: 64 KiB). */
  maxInlineBytes: number;
}

/** Redis's limits for a connection that has not authenticated yet (`authRequired(c)`). */
const UNAUTHENTICATED_MAX_ARGS = 10;
const UNAUTHENTICATED_MAX_BULK_BYTES = 16384;

/** Redis keeps multibulk lengths in an int. */
const INT_MAX = 2 ** 31 - 1;
/** A negative multibulk length is ignored; this many digits always fit Redis's long long. */
const NEGATIVE_COUNT_MAX_DIGITS = 18;

const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const CR = 0x0d;
const LF = 0x0a;

enum State {
  /** Between commands: the next byte says multibulk (`*`) or inline. */
  CommandStart,
  /** After `*`: the multibulk length, up to `\r`. */
  Count,
  /** The byte after the count's `\r`, skipped unchecked like Redis does. */
  CountEnd,
  /** Expecting the `$` of the next argument. */
  BulkType,
  /** After `$`: the bulk length, up to `\r`. */
  BulkLength,
  /** The byte after the bulk length's `\r`, skipped unchecked. */
  BulkLengthEnd,
  /** The payload plus two trailing bytes (Redis skips them without checking for `\r\n`). */
  BulkData,
}

export class RequestDecoder {
  readonly #maxInlineBytes: number;
  readonly #onCommand: (args: Buffer[]) => void;
  readonly #onError: (err: ProtocolError) => void;
  /** Lengths above these are invalid, whatever the connection's state. */
  readonly #maxArgs: number;
  readonly #maxBulkBytes: number;
  /** The limits in force now: tighter than the above before AUTH. */
  #argsLimit: number;
  #bulkLimit: number;
  #authenticated = true;
  #failed = false;
  #state = State.CommandStart;
  /** The number being read in Count or BulkLength, its digit count and sign. */
  #number = 0;
  #digits = 0;
  #negative = false;
  #argsExpected = 0;
  #args: Buffer[] = [];
  #argsBytes = 0;
  /** Received bytes of an unfinished payload (BulkData) or inline line (CommandStart), in order. */
  #parts: Buffer[] = [];
  #partsBytes = 0;
  /** Where the last #readWholeNumber ended: a second return value without an allocation. */
  #wholeNumberEnd = 0;

  /**
   * `onCommand` gets views into the received bytes, not copies: a handler that keeps an argument
   * beyond the call must copy it, or it pins the whole socket chunk in memory. Neither callback may
   * throw or re-enter `write`.
   */
  constructor(
    limits: DecoderLimits,
    onCommand: (args: Buffer[]) => void,
    onError: (err: ProtocolError) => void,
  ) {
    this.#maxInlineBytes = limits.maxInlineBytes;
    this.#onCommand = onCommand;
    this.#onError = onError;
    this.#maxArgs = Math.min(limits.maxArgs, INT_MAX);
    this.#maxBulkBytes = limits.maxBulkBytes;
    this.#argsLimit = this.#maxArgs;
    this.#bulkLimit = this.#maxBulkBytes;
  }

  /**
   * Until set to true, commands are held to Redis's pre-AUTH limits (10 arguments, 16 KiB each),
   * refused with Redis's `unauthenticated multibulk/bulk length` errors. Default true: no AUTH.
   */
  get authenticated(): boolean {
    return this.#authenticated;
  }

  set authenticated(value: boolean) {
    this.#authenticated = value;
    this.#argsLimit = value ? this.#maxArgs : Math.min(this.#maxArgs, UNAUTHENTICATED_MAX_ARGS);
    this.#bulkLimit = value
      ? this.#maxBulkBytes
      : Math.min(this.#maxBulkBytes, UNAUTHENTICATED_MAX_BULK_BYTES);
  }

  /** Feeds bytes; calls onCommand once per complete command, in order, synchronously. After onError has been called once, further input is ignored. */
  write(chunk: Buffer): void {
    if (this.#failed || chunk.length === 0) return;
    const buf = this.#partsBytes === 0 ? chunk : this.#joinParts(chunk);
    if (buf !== null) this.#parse(buf);
  }

  /** Bytes buffered for an incomplete command (for limits/backpressure accounting). */
  get pendingBytes(): number {
    return this.#argsBytes + this.#partsBytes;
  }

  /**
   * Adds `chunk` to the unfinished payload or line and returns the joined bytes once they complete
   * it, so that a large argument arriving in many chunks is copied once, not once per chunk.
   */
  #joinParts(chunk: Buffer): Buffer | null {
    const complete =
      this.#state === State.BulkData
        ? this.#partsBytes + chunk.length >= this.#number + 2
        : chunk.indexOf(LF) >= 0;
    this.#parts.push(chunk);
    this.#partsBytes += chunk.length;
    if (!complete) {
      if (this.#state === State.CommandStart) this.#checkPendingLine();
      return null;
    }
    const joined = Buffer.concat(this.#parts, this.#partsBytes);
    this.#parts = [];
    this.#partsBytes = 0;
    return joined;
  }

  #parse(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length && !this.#failed) {
      switch (this.#state) {
        case State.CommandStart:
          pos = buf[pos] === STAR ? this.#startMultibulk(buf, pos) : this.#readInline(buf, pos);
          break;
        case State.Count:
          pos = this.#readCount(buf, pos);
          break;
        case State.CountEnd:
          pos = this.#endCount(pos);
          break;
        case State.BulkType:
          pos = this.#readBulkType(buf, pos);
          break;
        case State.BulkLength:
          pos = this.#readBulkLength(buf, pos);
          break;
        case State.BulkLengthEnd:
          this.#state = State.BulkData;
          pos++;
          break;
        case State.BulkData:
          pos = this.#readBulkData(buf, pos);
          break;
      }
    }
  }

  #startMultibulk(buf: Buffer, pos: number): number {
    const next = this.#readWholeMultibulk(buf, pos);
    if (next >= 0) return next;
    this.#startNumber(State.Count);
    return pos + 1;
  }

  /**
   * The fast path: a well-formed multibulk command that is wholly in `buf` is parsed straight
   * through, without saving state between fields. Anything else (incomplete, malformed, over a
   * limit, or merely unusual like `*0` or a bare `\r`) returns -1 and goes through the state
   * machine, which stays the reference; the byte-by-byte tests compare the two.
   */
  #readWholeMultibulk(buf: Buffer, pos: number): number {
    const count = this.#readWholeNumber(buf, pos + 1, this.#argsLimit);
    let at = this.#wholeNumberEnd;
    // Each argument takes at least 6 bytes (`$0\r\n\r\n`): a command that cannot be complete is
    // left to the state machine before an array is sized by the count a client claims.
    if (count <= 0 || count * 6 > buf.length - at) return -1;
    const args = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) {
      if (buf[at] !== DOLLAR) return -1;
      const length = this.#readWholeNumber(buf, at + 1, this.#bulkLimit);
      at = this.#wholeNumberEnd;
      if (length < 0 || at + length + 2 > buf.length) return -1;
      args[i] = buf.subarray(at, at + length);
      at += length + 2;
    }
    this.#emit(args);
    return at;
  }

  /**
   * A canonical decimal (no sign, no leading zero) up to `max`, then `\r\n`, all within `buf`:
   * returns it and sets #wholeNumberEnd past the `\n`; otherwise -1.
   */
  #readWholeNumber(buf: Buffer, from: number, max: number): number {
    let value = 0;
    let at = from;
    for (let c = buf[at]; c !== CR; c = buf[++at]) {
      if (c === undefined || c < ZERO || c > NINE || value > max) return -1;
      value = value * 10 + (c - ZERO);
    }
    const digits = at - from;
    if (digits === 0 || value > max || (buf[from] === ZERO && digits > 1) || buf[at + 1] !== LF) return -1;
    this.#wholeNumberEnd = at + 2;
    return value;
  }

  #startNumber(state: State): void {
    this.#state = state;
    this.#number = 0;
    this.#digits = 0;
    this.#negative = false;
  }

  #readCount(buf: Buffer, from: number): number {
    for (let pos = from; pos < buf.length; pos++) {
      const c = buf[pos]!;
      if (c === CR) return this.#endCountLine(pos);
      if (c === MINUS && this.#digits === 0 && !this.#negative) {
        this.#negative = true;
      } else if (!this.#addDigit(c, this.#negative ? Number.POSITIVE_INFINITY : this.#maxArgs)) {
        return this.#fail('invalid multibulk length');
      } else if (this.#negative && this.#digits > NEGATIVE_COUNT_MAX_DIGITS) {
        return this.#fail('invalid multibulk length');
      }
    }
    return buf.length;
  }

  /**
   * Accumulates one digit as Redis's string2ll would accept it (no leading zeros, no "-0"),
   * refusing as soon as the value passes `max` so an oversize length is caught before its `\r`.
   */
  #addDigit(c: number, max: number): boolean {
    if (c < ZERO || c > NINE) return false;
    if (this.#digits > 0 && this.#number === 0) return false;
    if (c === ZERO && this.#negative && this.#digits === 0) return false;
    this.#number = this.#number * 10 + (c - ZERO);
    this.#digits++;
    return this.#number <= max;
  }

  #endCountLine(crAt: number): number {
    if (this.#digits === 0) return this.#fail('invalid multibulk length');
    if (!this.#negative && this.#number > this.#argsLimit)
      return this.#fail('unauthenticated multibulk length');
    this.#state = State.CountEnd;
    return crAt + 1;
  }

  /** Zero and negative counts end the request without a command, as in Redis. */
  #endCount(pos: number): number {
    if (this.#negative || this.#number === 0) {
      this.#state = State.CommandStart;
    } else {
      this.#argsExpected = this.#number;
      this.#state = State.BulkType;
    }
    return pos + 1;
  }

  #readBulkType(buf: Buffer, pos: number): number {
    const c = buf[pos]!;
    if (c !== DOLLAR) return this.#fail(`expected '$', got '${String.fromCharCode(c)}'`);
    this.#startNumber(State.BulkLength);
    return pos + 1;
  }

  #readBulkLength(buf: Buffer, from: number): number {
    for (let pos = from; pos < buf.length; pos++) {
      const c = buf[pos]!;
      if (c === CR) return this.#endBulkLengthLine(pos);
      if (!this.#addDigit(c, this.#maxBulkBytes)) return this.#fail('invalid bulk length');
    }
    return buf.length;
  }

  #endBulkLengthLine(crAt: number): number {
    if (this.#digits === 0) return this.#fail('invalid bulk length');
    if (this.#number > this.#bulkLimit) return this.#fail('unauthenticated bulk length');
    this.#state = State.BulkLengthEnd;
    return crAt + 1;
  }

  #readBulkData(buf: Buffer, pos: number): number {
    const length = this.#number;
    if (buf.length - pos < length + 2) {
      this.#parts.push(buf.subarray(pos));
      this.#partsBytes = buf.length - pos;
      return buf.length;
    }
    this.#args.push(buf.subarray(pos, pos + length));
    this.#argsBytes += length;
    if (this.#args.length < this.#argsExpected) {
      this.#state = State.BulkType;
    } else {
      const args = this.#args;
      this.#args = [];
      this.#argsBytes = 0;
      this.#emit(args);
    }
    return pos + length + 2;
  }

  /** An inline line: up to `\n`, a `\r` before it dropped; empty lines are skipped like in Redis. */
  #readInline(buf: Buffer, pos: number): number {
    const newline = buf.indexOf(LF, pos);
    if (newline < 0) {
      this.#parts.push(buf.subarray(pos));
      this.#partsBytes = buf.length - pos;
      this.#checkPendingLine();
      return buf.length;
    }
    const end = newline > pos && buf[newline - 1] === CR ? newline - 1 : newline;
    if (end - pos > this.#maxInlineBytes) return this.#fail('too big inline request');
    const args = splitInlineArgs(buf.subarray(pos, end));
    if (args === null) return this.#fail('unbalanced quotes in request');
    if (args.length > this.#argsLimit) return this.#fail('too many arguments in inline request');
    for (const arg of args) {
      if (arg.length > this.#bulkLimit) return this.#fail('too big argument in inline request');
    }
    if (args.length > 0) this.#emit(args);
    return newline + 1;
  }

  /** A line still without `\n` that is already too long even if its last byte is the `\r`. */
  #checkPendingLine(): void {
    if (this.#partsBytes > this.#maxInlineBytes + 1) this.#fail('too big inline request');
  }

  #emit(args: Buffer[]): void {
    this.#state = State.CommandStart;
    this.#onCommand(args);
  }

  /**
   * Reports once and stops: the connection is closed after the error reply, like in Redis. The
   * returned position is past any buffer, which ends the parse loop.
   */
  #fail(reason: string): number {
    this.#failed = true;
    this.#args = [];
    this.#argsBytes = 0;
    this.#parts = [];
    this.#partsBytes = 0;
    this.#onError(new ProtocolError(`Protocol error: ${reason}`));
    return Number.POSITIVE_INFINITY;
  }
}
