import type { Entry } from './types.js';

/**
 * What an entry costs against the byte limits (message size, in-flight window, apply batch,
 * uncommitted tail): its payload plus a fixed allowance for the term, index and type, so that
 * a flood of empty entries is still bounded.
 */
export const ENTRY_OVERHEAD_BYTES = 24;

export function entryBytes(entry: Entry): number {
  return entry.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

export function entriesBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const e of entries) total += entryBytes(e);
  return total;
}

/**
 * The longest prefix of `entries` within `maxBytes`, but never empty when `entries` is not:
 * one oversized entry must still make progress.
 */
export function limitBytes(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length <= 1) return entries;
  let total = entryBytes(entries[0]!);
  let n = 1;
  while (n < entries.length) {
    total += entryBytes(entries[n]!);
    if (total > maxBytes) break;
    n++;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
