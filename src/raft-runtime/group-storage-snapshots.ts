import { assert } from '../lib/assert.js';
import type { ConfState, SnapshotMetadata } from '../raft/types.js';
import type { RaftStatements, SnapshotRow } from './raft-db-statements.js';

/** Snapshot bytes stored as pieces (see raft-db-schema.ts for why not one BLOB). */

export function writeSnapshotPieces(
  st: RaftStatements,
  groupId: number,
  index: number,
  data: Uint8Array,
  pieceBytes: number,
): void {
  for (let offset = 0; offset < data.byteLength; offset += pieceBytes) {
    st.insertSnapshotPiece.run(groupId, index, offset, data.subarray(offset, offset + pieceBytes));
  }
}

/** Bytes `[start, end)` of a stored snapshot, `end` at most its size. */
export function readSnapshotRange(
  st: RaftStatements,
  groupId: number,
  index: number,
  start: number,
  end: number,
): Uint8Array {
  const out = new Uint8Array(end - start);
  if (end <= start) return out;
  let filled = 0;
  for (const [pieceOffset, piece] of st.selectSnapshotPieces.iterate({
    group: groupId,
    snap: index,
    start,
    end,
  })) {
    const from = Math.max(start, pieceOffset);
    const to = Math.min(end, pieceOffset + piece.byteLength);
    assert(from === start + filled, `snapshot ${index} of group ${groupId} has a hole at byte ${from}`);
    out.set(piece.subarray(from - pieceOffset, to - pieceOffset), filled);
    filled += to - from;
  }
  assert(filled === out.byteLength, `snapshot ${index} of group ${groupId} is short: ${filled} bytes`);
  return out;
}

/** The whole of a stored snapshot, checked against its recorded size. */
export function readSnapshot(
  st: RaftStatements,
  groupId: number,
  index: number,
  sizeBytes: number,
): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  let filled = 0;
  for (const [pieceOffset, piece] of st.selectAllSnapshotPieces.iterate(groupId, index)) {
    assert(pieceOffset === filled, `snapshot ${index} of group ${groupId} has a hole at byte ${filled}`);
    assert(filled + piece.byteLength <= sizeBytes, `snapshot ${index} of group ${groupId} is too long`);
    out.set(piece, filled);
    filled += piece.byteLength;
  }
  assert(filled === sizeBytes, `snapshot ${index} of group ${groupId} is short: ${filled} of ${sizeBytes}`);
  return out;
}

export function insertSnapshotMeta(st: RaftStatements, groupId: number, meta: SnapshotMetadata): void {
  st.insertSnapshot.run(groupId, meta.index, meta.term, JSON.stringify(meta.confState), meta.sizeBytes);
}

export function snapshotMetaOf(row: SnapshotRow): SnapshotMetadata {
  const conf = JSON.parse(row.conf_state) as ConfState;
  assert(Array.isArray(conf.voters) && Array.isArray(conf.learners), 'stored confState is malformed');
  return {
    index: row.snap_index,
    term: row.snap_term,
    confState: { voters: conf.voters, learners: conf.learners },
    sizeBytes: row.size_bytes,
  };
}
