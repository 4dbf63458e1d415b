/**
 * A linearizability checker for registers (one per key), in the style of Wing & Gong's search
 * with Lowe's memoization, as Porcupine (anishathalye/porcupine) implements it: walk the
 * history's call/return events in time order, linearize a pending call when the register
 * allows it, backtrack at a return whose operation could not be placed, and never explore the
 * same (set of linearized operations, register value) twice.
 *
 * - Histories are partitioned by key: a register per key is linearizable iff each key is.
 * - An operation that never returned (`returnMs: null`: a timeout, a crash) may or may not
 *   have taken effect: a write is kept with an infinite return time; a read tells nothing and
 *   is dropped.
 * - Two operations are concurrent unless one returned strictly before the other was invoked:
 *   at equal times calls are ordered before returns.
 * - On failure the answer is a minimal failing sub-history of one key: operations are removed
 *   (a read alone, or a write together with every read of its value) while what is left stays
 *   non-linearizable, so every operation in the answer is needed for the violation.
 */

import { SeededRandom } from '../../src/lib/random.js';

export type RegisterValue = string | Uint8Array | null;

export interface Operation {
  readonly key: string;
  readonly kind: 'read' | 'write';
  /** Written, or returned by the read. */
  readonly value: RegisterValue;
  readonly invokeMs: number;
  /** `null`: never returned; the outcome is unknown. */
  readonly returnMs: number | null;
  /** Who ran it, for the report. */
  readonly client?: string;
}

export type CheckResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly key: string;
      /** A minimal failing sub-history (or the whole key's history if it was too long to shrink). */
      readonly ops: readonly Operation[];
      readonly description: string;
    };

export interface CheckOptions {
  /** The value of every register before the history: null (nil) unless told. */
  readonly initial?: RegisterValue;
  /** Shrink failing histories of at most this many operations (default 200). */
  readonly minimizeUpTo?: number;
}

export function valueKey(v: RegisterValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return `s:${v}`;
  return `b:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
}

function show(v: RegisterValue): string {
  if (v === null) return 'nil';
  return typeof v === 'string' ? JSON.stringify(v) : `<${valueKey(v).slice(2)}>`;
}

export function checkLinearizable(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const initial = options.initial ?? null;
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    if (op.kind === 'read' && op.returnMs === null) continue;
    let list = byKey.get(op.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }
  for (const key of [...byKey.keys()].sort()) {
    const ops = byKey.get(key)!;
    if (isLinearizableRegister(ops, initial)) continue;
    const minimal = ops.length <= (options.minimizeUpTo ?? 200) ? minimize(ops, initial) : ops;
    return { ok: false, key, ops: minimal, description: describe(key, minimal, initial, ops.length) };
  }
  return { ok: true };
}

/** The WGL search for one register. */
export function isLinearizableRegister(ops: readonly Operation[], initial: RegisterValue = null): boolean {
  const n = ops.length;
  if (n === 0) return true;
  for (const op of ops) {
    if (op.returnMs !== null && op.returnMs < op.invokeMs) {
      throw new Error(`operation returns (${op.returnMs}) before it is invoked (${op.invokeMs})`);
    }
  }
  // Events: 2i is op i's call, 2i+1 its return. Sorted by time, calls first at equal times.
  const time = (e: number): number => {
    const op = ops[e >> 1]!;
    return e & 1 ? (op.returnMs ?? Number.POSITIVE_INFINITY) : op.invokeMs;
  };
  const events = Array.from({ length: 2 * n }, (_, e) => e).sort(
    (a, b) => time(a) - time(b) || (a & 1) - (b & 1) || a - b,
  );
  // A doubly linked list over the events, with a head sentinel (index 2n).
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = HEAD;
  for (const e of events) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  const lift = (call: number): void => {
    for (const e of [call, call + 1]) {
      next[prev[e]!] = next[e]!;
      if (next[e]! !== -1) prev[next[e]!] = prev[e]!;
    }
  };
  const unlift = (call: number): void => {
    for (const e of [call + 1, call]) {
      if (next[e]! !== -1) prev[next[e]!] = e;
      next[prev[e]!] = e;
    }
  };
  const keys = ops.map((op) => valueKey(op.value));
  let state = valueKey(initial);
  // The set of linearized operations, memoized by a Zobrist hash (XOR of a random 64-bit word
  // per operation, as two 32-bit halves) rather than the set itself: a chaos run's key has tens
  // of thousands of operations, and a bitset per explored state ran out of memory. A collision
  // (odds about states² / 2^64) could only prune a branch, never accept a bad history.
  const [zHigh, zLow] = zobristWords(n);
  let hashHigh = 0;
  let hashLow = 0;
  const seen = new Set<string>();
  const stack: { call: number; state: string }[] = [];
  let entry = next[HEAD]!;
  while (next[HEAD]! !== -1) {
    if (entry === -1) throw new Error('linearizability search ran off the list');
    if ((entry & 1) === 0) {
      const i = entry >> 1;
      const op = ops[i]!;
      const ok = op.kind === 'write' || keys[i] === state;
      if (ok) {
        const after = op.kind === 'write' ? keys[i]! : state;
        const high = (hashHigh ^ zHigh[i]!) >>> 0;
        const low = (hashLow ^ zLow[i]!) >>> 0;
        const memo = `${high}.${low}|${after}`;
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ call: entry, state });
          state = after;
          hashHigh = high;
          hashLow = low;
          lift(entry);
          entry = next[HEAD]!;
          continue;
        }
      }
      entry = next[entry]!;
    } else {
      // A return whose call is still in the list: nothing placed so far lets it go here.
      const top = stack.pop();
      if (top === undefined) return false;
      state = top.state;
      hashHigh = (hashHigh ^ zHigh[top.call >> 1]!) >>> 0;
      hashLow = (hashLow ^ zLow[top.call >> 1]!) >>> 0;
      unlift(top.call);
      entry = next[top.call]!;
    }
  }
  return true;
}

/** Two random 32-bit words per operation, from a fixed seed so that a check replays exactly. */
function zobristWords(n: number): [Uint32Array, Uint32Array] {
  const random = new SeededRandom(0x5eed);
  const high = new Uint32Array(n);
  const low = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    high[i] = random.int(0, 0xffffffff);
    low[i] = random.int(0, 0xffffffff);
  }
  return [high, low];
}

/** Remove what is not needed for the violation, a group at a time, until nothing can go. */
function minimize(ops: readonly Operation[], initial: RegisterValue): Operation[] {
  let current = [...ops];
  for (let changed = true; changed; ) {
    changed = false;
    const groups: Operation[][] = [];
    for (const op of current) if (op.kind === 'read') groups.push([op]);
    for (const op of current) {
      if (op.kind !== 'write') continue;
      const k = valueKey(op.value);
      groups.push([op, ...current.filter((r) => r.kind === 'read' && valueKey(r.value) === k)]);
    }
    for (const g of groups) {
      const rest = current.filter((op) => !g.includes(op));
      if (rest.length > 0 && !isLinearizableRegister(rest, initial)) {
        current = rest;
        changed = true;
        break;
      }
    }
  }
  return current;
}

function describe(key: string, ops: readonly Operation[], initial: RegisterValue, total: number): string {
  const sorted = [...ops].sort((a, b) => a.invokeMs - b.invokeMs);
  const lines = sorted.map((op) => {
    const ret = op.returnMs === null ? '?' : String(op.returnMs);
    const who = op.client === undefined ? '' : `${op.client} `;
    const what = op.kind === 'write' ? `write(${show(op.value)})` : `read() → ${show(op.value)}`;
    return `  [${op.invokeMs}, ${ret}] ${who}${what}`;
  });
  const written = new Set(ops.filter((op) => op.kind === 'write').map((op) => valueKey(op.value)));
  written.add(valueKey(initial));
  const phantom = sorted.find((op) => op.kind === 'read' && !written.has(valueKey(op.value)));
  const why =
    phantom !== undefined
      ? `read ${show(phantom.value)}, which no write wrote`
      : 'no order of these operations respects both real time and the register';
  return `key ${JSON.stringify(key)} is not linearizable (${ops.length} of its ${total} operations): ${why}\n${lines.join('\n')}`;
}

/**
 * Records a history as clients run: `invoke` when a request is sent, `ok` with what came back,
 * `unknown` when the outcome cannot be known (timeout, connection lost).
 */
export class HistoryRecorder {
  readonly #ops: Operation[] = [];
  readonly #open = new Map<number, Omit<Operation, 'returnMs'>>();
  #next = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  invoke(client: string, key: string, kind: 'read' | 'write', value: RegisterValue = null): number {
    const id = this.#next++;
    this.#open.set(id, { client, key, kind, value, invokeMs: this.now() });
    return id;
  }

  /** A read's value, or nothing for a write. */
  ok(id: number, value?: RegisterValue): void {
    const op = this.#take(id);
    this.#ops.push({ ...op, value: op.kind === 'read' ? (value ?? null) : op.value, returnMs: this.now() });
  }

  unknown(id: number): void {
    this.#ops.push({ ...this.#take(id), returnMs: null });
  }

  /** Everything recorded; operations still open count as unknown. */
  history(): Operation[] {
    return [...this.#ops, ...[...this.#open.values()].map((op) => ({ ...op, returnMs: null }))];
  }

  #take(id: number): Omit<Operation, 'returnMs'> {
    const op = this.#open.get(id);
    if (op === undefined) throw new Error(`operation ${id} is not open`);
    this.#open.delete(id);
    return op;
  }
}
