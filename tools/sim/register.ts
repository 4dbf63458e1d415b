import { assert } from '../../src/lib/assert.js';
import type { Entry } from '../../src/raft/types.js';

/**
 * The application the simulator replicates: one register. Every non-empty normal entry writes
 * its payload; a read returns the index of the last write applied, which names the write
 * uniquely and places it in the log order. Snapshots carry a checksum so that a snapshot
 * reassembled from chunks in the wrong order, or with a chunk missing, is detected.
 */
export class Register {
  appliedIndex = 0;
  lastWriteIndex = 0;
  value = '';

  apply(entry: Entry): void {
    assert(
      entry.index === this.appliedIndex + 1,
      `applied ${entry.index} after ${this.appliedIndex}: entries must apply in order without gaps`,
    );
    this.appliedIndex = entry.index;
    if (entry.type === 'normal' && entry.data.byteLength > 0) {
      this.lastWriteIndex = entry.index;
      this.value = latin1(entry.data);
    }
  }

  encode(paddingBytes: number): Uint8Array {
    const body = `${JSON.stringify({ a: this.appliedIndex, w: this.lastWriteIndex, v: this.value })}\n${'.'.repeat(paddingBytes)}`;
    return bytesOf(`${body}\n${fnv1a(body)}`);
  }

  static decode(data: Uint8Array): Register {
    const text = latin1(data);
    const cut = text.lastIndexOf('\n');
    assert(cut > 0, 'snapshot has no checksum line');
    const body = text.slice(0, cut);
    assert(text.slice(cut + 1) === fnv1a(body), 'snapshot checksum mismatch: chunks were lost or misordered');
    const state = JSON.parse(body.slice(0, body.indexOf('\n'))) as { a: number; w: number; v: string };
    const reg = new Register();
    reg.appliedIndex = state.a;
    reg.lastWriteIndex = state.w;
    reg.value = state.v;
    return reg;
  }
}

export function latin1(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

export function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
