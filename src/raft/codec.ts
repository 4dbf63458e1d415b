import type {
  ConfChange,
  ConfChangeType,
  ConfState,
  Entry,
  EntryType,
  Message,
  MessageType,
  NodeId,
  SnapshotMetadata,
} from './types.js';

/**
 * The binary form of Raft messages and configuration changes. Stable: a version byte leads,
 * and the numeric codes below never change meaning. Integers are unsigned LEB128 varints (at
 * most 2^53 − 1), strings and byte arrays are length-prefixed. The decoder trusts nothing: every
 * length is checked against the bytes that remain before anything is allocated, so garbage
 * throws a `CodecError` in time linear in the input.
 */
export const CODEC_VERSION = 1;

export const MAX_NODE_ID_BYTES = 255;

export class CodecError extends Error {
  override name = 'CodecError';
}

const MESSAGE_CODES: Record<MessageType, number> = {
  append: 1,
  appendResponse: 2,
  vote: 3,
  voteResponse: 4,
  preVote: 5,
  preVoteResponse: 6,
  heartbeat: 7,
  heartbeatResponse: 8,
  snapshot: 9,
  snapshotResponse: 10,
  timeoutNow: 11,
  readIndex: 12,
  readIndexResponse: 13,
};
const MESSAGE_TYPES = invert(MESSAGE_CODES);

const ENTRY_CODES: Record<EntryType, number> = { normal: 0, confChange: 1 };
const ENTRY_TYPES = invert(ENTRY_CODES);

const CONF_CHANGE_CODES: Record<ConfChangeType, number> = {
  addLearner: 0,
  addVoter: 1,
  promote: 2,
  remove: 3,
};
const CONF_CHANGE_TYPES = invert(CONF_CHANGE_CODES);

/** Fewest bytes an encoded entry can take (term, index, type, data length). */
const MIN_ENTRY_BYTES = 4;
/** Fewest bytes an encoded node id can take (length, one byte). */
const MIN_NODE_ID_BYTES = 2;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer(64 + m.from.length * 3 + m.to.length * 3 + payloadBytesHint(m));
  w.byte(CODEC_VERSION);
  w.byte(MESSAGE_CODES[m.type]);
  w.varint(m.groupId);
  w.string(m.from);
  w.string(m.to);
  w.varint(m.term);
  switch (m.type) {
    case 'append':
      w.varint(m.prevIndex);
      w.varint(m.prevTerm);
      w.varint(m.commit);
      w.varint(m.entries.length);
      for (const e of m.entries) writeEntry(w, e);
      break;
    case 'appendResponse':
      w.varint(m.index);
      w.bool(m.reject);
      w.varint(m.hintIndex);
      w.varint(m.hintTerm);
      break;
    case 'vote':
    case 'preVote':
      w.varint(m.lastIndex);
      w.varint(m.lastTerm);
      w.bool(m.transfer);
      break;
    case 'voteResponse':
    case 'preVoteResponse':
      w.bool(m.reject);
      break;
    case 'heartbeat':
      w.varint(m.commit);
      w.varint(m.seq);
      w.varint(m.sentTick);
      break;
    case 'heartbeatResponse':
      w.varint(m.seq);
      w.varint(m.sentTick);
      break;
    case 'snapshot':
      writeSnapshotMetadata(w, m.snapshot);
      w.varint(m.offset);
      w.bytes(m.data);
      break;
    case 'snapshotResponse':
      w.varint(m.snapshotIndex);
      w.varint(m.offset);
      w.bool(m.reject);
      break;
    case 'timeoutNow':
      break;
    case 'readIndex':
      w.bytes(m.context);
      break;
    case 'readIndexResponse':
      w.varint(m.index);
      w.bytes(m.context);
      break;
  }
  return w.finish();
}

export function decodeMessage(bytes: Uint8Array): Message {
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== CODEC_VERSION) throw new CodecError(`unsupported message version ${version}`);
  const code = r.byte();
  const type = MESSAGE_TYPES.get(code);
  if (type === undefined) throw new CodecError(`unknown message type code ${code}`);
  const groupId = r.varint();
  if (groupId > 0xffff_ffff) throw new CodecError(`group id ${groupId} out of range`);
  const header = { groupId, from: r.nodeId(), to: r.nodeId(), term: r.varint() };
  const m = decodeBody(r, type, header);
  r.expectEnd();
  return m;
}

type Header = { groupId: number; from: NodeId; to: NodeId; term: number };

function decodeBody(r: Reader, type: MessageType, h: Header): Message {
  const { groupId, from, to, term } = h;
  switch (type) {
    case 'append': {
      const prevIndex = r.varint();
      const prevTerm = r.varint();
      const commit = r.varint();
      const count = r.count(MIN_ENTRY_BYTES);
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) entries.push(readEntry(r));
      return { type, groupId, from, to, term, prevIndex, prevTerm, commit, entries };
    }
    case 'appendResponse':
      return {
        type,
        groupId,
        from,
        to,
        term,
        index: r.varint(),
        reject: r.bool(),
        hintIndex: r.varint(),
        hintTerm: r.varint(),
      };
    case 'vote':
    case 'preVote':
      return {
        type,
        groupId,
        from,
        to,
        term,
        lastIndex: r.varint(),
        lastTerm: r.varint(),
        transfer: r.bool(),
      };
    case 'voteResponse':
    case 'preVoteResponse':
      return { type, groupId, from, to, term, reject: r.bool() };
    case 'heartbeat':
      return { type, groupId, from, to, term, commit: r.varint(), seq: r.varint(), sentTick: r.varint() };
    case 'heartbeatResponse':
      return { type, groupId, from, to, term, seq: r.varint(), sentTick: r.varint() };
    case 'snapshot': {
      const snapshot = readSnapshotMetadata(r);
      const offset = r.varint();
      const data = r.bytes();
      if (offset + data.byteLength > snapshot.sizeBytes) {
        throw new CodecError(
          `snapshot chunk [${offset}, +${data.byteLength}) beyond size ${snapshot.sizeBytes}`,
        );
      }
      return { type, groupId, from, to, term, snapshot, offset, data };
    }
    case 'snapshotResponse':
      return {
        type,
        groupId,
        from,
        to,
        term,
        snapshotIndex: r.varint(),
        offset: r.varint(),
        reject: r.bool(),
      };
    case 'timeoutNow':
      return { type, groupId, from, to, term };
    case 'readIndex':
      return { type, groupId, from, to, term, context: r.bytes() };
    case 'readIndexResponse':
      return { type, groupId, from, to, term, index: r.varint(), context: r.bytes() };
  }
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new Writer(8 + cc.nodeId.length * 3);
  w.byte(CODEC_VERSION);
  w.byte(CONF_CHANGE_CODES[cc.type]);
  w.string(cc.nodeId);
  return w.finish();
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== CODEC_VERSION) throw new CodecError(`unsupported conf change version ${version}`);
  const code = r.byte();
  const type = CONF_CHANGE_TYPES.get(code);
  if (type === undefined) throw new CodecError(`unknown conf change type code ${code}`);
  const nodeId = r.nodeId();
  r.expectEnd();
  return { type, nodeId };
}

function writeEntry(w: Writer, e: Entry): void {
  w.varint(e.term);
  w.varint(e.index);
  w.byte(ENTRY_CODES[e.type]);
  w.bytes(e.data);
}

function readEntry(r: Reader): Entry {
  const term = r.varint();
  const index = r.varint();
  const code = r.byte();
  const type = ENTRY_TYPES.get(code);
  if (type === undefined) throw new CodecError(`unknown entry type code ${code}`);
  return { term, index, type, data: r.bytes() };
}

function writeSnapshotMetadata(w: Writer, s: SnapshotMetadata): void {
  w.varint(s.index);
  w.varint(s.term);
  w.varint(s.sizeBytes);
  writeIds(w, s.confState.voters);
  writeIds(w, s.confState.learners);
}

function readSnapshotMetadata(r: Reader): SnapshotMetadata {
  const index = r.varint();
  const term = r.varint();
  const sizeBytes = r.varint();
  const confState: ConfState = { voters: readIds(r), learners: readIds(r) };
  return { index, term, sizeBytes, confState };
}

function writeIds(w: Writer, ids: readonly NodeId[]): void {
  w.varint(ids.length);
  for (const id of ids) w.string(id);
}

function readIds(r: Reader): NodeId[] {
  const count = r.count(MIN_NODE_ID_BYTES);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(r.nodeId());
  return ids;
}

function payloadBytesHint(m: Message): number {
  switch (m.type) {
    case 'append': {
      let total = 0;
      for (const e of m.entries) total += e.data.byteLength + 32;
      return total;
    }
    case 'snapshot':
      return (
        m.data.byteLength +
        32 +
        (m.snapshot.confState.voters.length + m.snapshot.confState.learners.length) * 64
      );
    case 'readIndex':
    case 'readIndexResponse':
      return m.context.byteLength;
    default:
      return 0;
  }
}

class Writer {
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

  string(s: string): void {
    if (s.length > 0 && s.length <= MAX_NODE_ID_BYTES && isAscii(s)) {
      // Node ids are short and nearly always ASCII: skip TextEncoder, which dominates otherwise.
      this.varint(s.length);
      this.#reserve(s.length);
      for (let i = 0; i < s.length; i++) this.#buf[this.#pos++] = s.charCodeAt(i);
      return;
    }
    const encoded = utf8Encoder.encode(s);
    if (encoded.byteLength === 0 || encoded.byteLength > MAX_NODE_ID_BYTES) {
      throw new CodecError(`node id must be 1..${MAX_NODE_ID_BYTES} UTF-8 bytes, got ${encoded.byteLength}`);
    }
    this.bytes(encoded);
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

class Reader {
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

  /** A copy, so that decoded messages never alias a buffer the transport may reuse. */
  bytes(): Uint8Array {
    const n = this.varint();
    this.#need(n, 'a byte string');
    const out = this.#buf.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  nodeId(): NodeId {
    const n = this.varint();
    if (n === 0 || n > MAX_NODE_ID_BYTES)
      throw new CodecError(`node id length ${n} outside 1..${MAX_NODE_ID_BYTES}`);
    this.#need(n, 'a node id');
    const raw = this.#buf.subarray(this.#pos, this.#pos + n);
    let id: string;
    if (raw.every((b) => b < 0x80)) {
      id = String.fromCharCode(...raw);
    } else {
      try {
        id = utf8Decoder.decode(raw);
      } catch {
        throw new CodecError(`node id at offset ${this.#pos} is not valid UTF-8`);
      }
    }
    this.#pos += n;
    return id;
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

function invert<K extends string>(codes: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(codes).map(([k, v]) => [v as number, k as K]));
}
