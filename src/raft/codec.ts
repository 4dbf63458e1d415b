import { CodecError, ByteReader as Reader, ByteWriter as Writer } from '../lib/byte-codec.js';
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

export { CodecError };

/**
 * The binary form of Raft messages and configuration changes. Stable: a version byte leads,
 * and the numeric codes below never change meaning. Integers are unsigned LEB128 varints (at
 * most 2^53 − 1), strings and byte arrays are length-prefixed. The decoder trusts nothing: every
 * length is checked against the bytes that remain before anything is allocated, so garbage
 * throws a `CodecError` in time linear in the input.
 */
export const CODEC_VERSION = 1;

export const MAX_NODE_ID_BYTES = 255;

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

export function encodeMessage(m: Message): Uint8Array {
  const w = new Writer(64 + m.from.length * 3 + m.to.length * 3 + payloadBytesHint(m));
  w.byte(CODEC_VERSION);
  w.byte(MESSAGE_CODES[m.type]);
  w.varint(m.groupId);
  w.string(m.from, MAX_NODE_ID_BYTES, 'node id');
  w.string(m.to, MAX_NODE_ID_BYTES, 'node id');
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
  const header = {
    groupId,
    from: r.string(MAX_NODE_ID_BYTES, 'node id'),
    to: r.string(MAX_NODE_ID_BYTES, 'node id'),
    term: r.varint(),
  };
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
  w.string(cc.nodeId, MAX_NODE_ID_BYTES, 'node id');
  return w.finish();
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  const r = new Reader(bytes);
  const version = r.byte();
  if (version !== CODEC_VERSION) throw new CodecError(`unsupported conf change version ${version}`);
  const code = r.byte();
  const type = CONF_CHANGE_TYPES.get(code);
  if (type === undefined) throw new CodecError(`unknown conf change type code ${code}`);
  const nodeId = r.string(MAX_NODE_ID_BYTES, 'node id');
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
  for (const id of ids) w.string(id, MAX_NODE_ID_BYTES, 'node id');
}

function readIds(r: Reader): NodeId[] {
  const count = r.count(MIN_NODE_ID_BYTES);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(r.string(MAX_NODE_ID_BYTES, 'node id'));
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

function invert<K extends string>(codes: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(codes).map(([k, v]) => [v as number, k as K]));
}
