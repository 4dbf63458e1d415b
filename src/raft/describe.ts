import { decodeConfChange } from './codec.js';
import type { ConfState, Entry, Message, Ready, SnapshotMetadata } from './types.js';

/**
 * One-line, human-readable renderings of the core's data, for logs, the simulator's trace and
 * the scenario tests' expected output. Stable: scenario files depend on them.
 */

export function describeBytes(data: Uint8Array): string {
  if (
    data.byteLength > 0 &&
    data.byteLength <= 64 &&
    data.every((b) => b >= 0x20 && b < 0x7f && b !== 0x22)
  ) {
    return `"${String.fromCharCode(...data)}"`;
  }
  if (data.byteLength === 0) return '""';
  const hex = Array.from(data.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `0x${hex}${data.byteLength > 16 ? `…(${data.byteLength} bytes)` : ''}`;
}

export function describeEntry(e: Entry): string {
  if (e.type === 'confChange') {
    try {
      const cc = decodeConfChange(e.data);
      return `${e.term}/${e.index} confChange ${cc.type} ${cc.nodeId}`;
    } catch {
      return `${e.term}/${e.index} confChange ${describeBytes(e.data)}`;
    }
  }
  return `${e.term}/${e.index} ${describeBytes(e.data)}`;
}

export function describeConfState(c: ConfState): string {
  return `voters=(${c.voters.join(',')}) learners=(${c.learners.join(',')})`;
}

export function describeSnapshot(s: SnapshotMetadata): string {
  return `${s.term}/${s.index} ${describeConfState(s.confState)} bytes=${s.sizeBytes}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.prevTerm}/${m.prevIndex} commit=${m.commit} entries=[${m.entries.map(describeEntry).join(', ')}]`;
    case 'appendResponse':
      return m.reject
        ? `${head} reject index=${m.index} hint=${m.hintTerm}/${m.hintIndex}`
        : `${head} index=${m.index}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastTerm}/${m.lastIndex}${m.transfer ? ' transfer' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit} seq=${m.seq}`;
    case 'heartbeatResponse':
      return `${head} seq=${m.seq}`;
    case 'snapshot':
      return `${head} snap=${m.snapshot.term}/${m.snapshot.index} offset=${m.offset} bytes=${m.data.byteLength}/${m.snapshot.sizeBytes}`;
    case 'snapshotResponse':
      return `${head} snap=${m.snapshotIndex} offset=${m.offset}${m.reject ? ' reject' : ''}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${describeBytes(m.context)}`;
    case 'readIndexResponse':
      return `${head} index=${m.index} ctx=${describeBytes(m.context)}`;
  }
}

/** A Ready as indented lines; sections that are empty are left out. */
export function describeReady(rd: Ready, indent = '  '): string[] {
  const lines: string[] = [];
  const section = (title: string, items: readonly string[]): void => {
    if (items.length === 0) return;
    lines.push(`${indent}${title}:`);
    for (const item of items) lines.push(`${indent}  ${item}`);
  };
  if (rd.softState !== null) {
    lines.push(`${indent}state: ${rd.softState.role}, leader ${rd.softState.leaderId ?? 'none'}`);
  }
  if (rd.hardState !== null) {
    const hs = rd.hardState;
    lines.push(`${indent}hardState: term=${hs.term} vote=${hs.vote ?? 'none'} commit=${hs.commit}`);
  }
  if (rd.snapshot !== null) lines.push(`${indent}snapshot: ${describeSnapshot(rd.snapshot)}`);
  section(
    'snapshotChunks',
    rd.snapshotChunks.map((c) => `snap=${c.snapshot.index} offset=${c.offset} bytes=${c.data.byteLength}`),
  );
  section('entries', rd.entries.map(describeEntry));
  section('committed', rd.committedEntries.map(describeEntry));
  section('messages', rd.messages.map(describeMessage));
  section(
    'readStates',
    rd.readStates.map((r) => `index=${r.index} ctx=${describeBytes(r.context)}`),
  );
  return lines;
}
