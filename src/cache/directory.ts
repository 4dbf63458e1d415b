import {
  type CacheMessage,
  CoherenceError,
  type DirEntry,
  EMPTY_ENTRY,
  type HomeMessage,
  type HomeState,
  homeStep,
  type NodeId,
  type Protocol,
  valueBytes,
} from './protocol.js';

/**
 * The home side of the cache (DESIGN.md §8): one `DirEntry` per key this node is home of,
 * each moved by `homeStep` (protocol.ts), which also serialises the key's requests (a busy
 * entry queues them). Pure: `receive` returns the messages to send.
 *
 * The memory copies are bounded by bytes. Only an idle entry — state I (no owner, no sharers),
 * no transaction in flight, nothing queued — may lose its memory copy, and losing it drops the
 * entry: the key's value is simply gone, a later GetS is granted E with nil ("not found"),
 * exactly as if the key had never been written. Entries with copies out in caches keep their
 * memory (a clean owner's PutE and S sharers rely on it being current), so the bound can be
 * exceeded while many keys are cached somewhere; the least recently used idle entries go first.
 */

export function canDropMemory(entry: DirEntry): boolean {
  return entry.state === 'I' && entry.busy === null && entry.queue.length === 0;
}

export interface DirectoryOptions {
  readonly node: NodeId;
  readonly protocol: Protocol;
  /** Bound on the memory copies (keys plus values); idle entries beyond it are dropped. */
  readonly maxMemoryBytes?: number;
}

export interface DirectoryCounters {
  getS: number;
  getM: number;
  /** PutS/PutE/PutM/PutO served, and of those the stale ones (overtaken by a forward). */
  puts: number;
  stalePuts: number;
  /** Requests that arrived while their key was busy. */
  queued: number;
  /** The longest queue any key has had. */
  maxQueue: number;
  forwards: number;
  invalidations: number;
  /** Owners' evictions (PutM, PutO; a clean PutE too) and MESI WbData taken into memory. */
  writebacks: number;
  /** Memory copies dropped by the byte bound. */
  memoryDrops: number;
}

/** Per-entry overhead counted against `maxMemoryBytes` besides key and value bytes. */
export const ENTRY_OVERHEAD_BYTES = 96;

export class Directory {
  readonly node: NodeId;
  readonly protocol: Protocol;
  readonly #maxBytes: number;
  /** In least-recently-used order (a touched key moves to the end). */
  readonly #entries = new Map<string, DirEntry>();
  /** The subset of `#entries` that `canDropMemory`, also in LRU order. */
  readonly #idle = new Set<string>();
  #bytes = 0;
  readonly #counters: DirectoryCounters = {
    getS: 0,
    getM: 0,
    puts: 0,
    stalePuts: 0,
    queued: 0,
    maxQueue: 0,
    forwards: 0,
    invalidations: 0,
    writebacks: 0,
    memoryDrops: 0,
  };

  constructor(options: DirectoryOptions) {
    this.node = options.node;
    this.protocol = options.protocol;
    this.#maxBytes = options.maxMemoryBytes ?? Number.POSITIVE_INFINITY;
  }

  /** A message for this node as the key's home (`isHomeMessage(m)`). */
  receive(message: HomeMessage): { readonly send: readonly CacheMessage[] } {
    if (message.to !== this.node) {
      throw new CoherenceError(`home ${this.node}: ${message.type} addressed to ${message.to}`);
    }
    const { key } = message;
    const before = this.#entries.get(key) ?? EMPTY_ENTRY;
    const r = homeStep(this.protocol, before, message, { node: this.node });
    this.#count(r.rules, r.actions, r.send, r.entry);
    this.#put(key, r.entry);
    this.#trim();
    return { send: r.send };
  }

  entry(key: string): DirEntry | undefined {
    return this.#entries.get(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  get memoryBytes(): number {
    return this.#bytes;
  }

  /** Entries per state, and how many are busy. */
  entriesByState(): Partial<Record<HomeState, number>> {
    const out: Partial<Record<HomeState, number>> = {};
    for (const e of this.#entries.values()) out[e.state] = (out[e.state] ?? 0) + 1;
    return out;
  }

  counters(): Readonly<DirectoryCounters> {
    return { ...this.#counters };
  }

  /**
   * Forget the entries of the keys `pred` selects (a ring change moved their home away; the
   * caches forget their lines too). Returns how many went. Queued requests are dropped with
   * them: the service fails the operations behind them on the requesting nodes.
   */
  dropWhere(pred: (key: string) => boolean): number {
    let n = 0;
    for (const [key, e] of this.#entries) {
      if (!pred(key)) continue;
      this.#bytes -= entryBytes(key, e);
      this.#entries.delete(key);
      this.#idle.delete(key);
      n++;
    }
    return n;
  }

  #put(key: string, e: DirEntry): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#bytes -= entryBytes(key, old);
    this.#entries.delete(key);
    this.#idle.delete(key);
    if (canDropMemory(e) && e.memory === null) return; // nothing to remember: same as absent
    this.#entries.set(key, e);
    this.#bytes += entryBytes(key, e);
    if (canDropMemory(e)) this.#idle.add(key);
  }

  #trim(): void {
    for (const key of this.#idle) {
      if (this.#bytes <= this.#maxBytes) return;
      const e = this.#entries.get(key)!;
      this.#bytes -= entryBytes(key, e);
      this.#entries.delete(key);
      this.#idle.delete(key);
      this.#counters.memoryDrops++;
    }
  }

  #count(
    rules: readonly string[],
    actions: readonly string[],
    send: readonly CacheMessage[],
    after: DirEntry,
  ): void {
    const c = this.#counters;
    for (const rule of rules) {
      const event = rule.slice(rule.indexOf(':') + 1);
      if (event === 'GetS') c.getS++;
      else if (event === 'GetM' || event === 'GetMOwner') c.getM++;
      else if (event === 'Request') c.queued++;
      else if (event.startsWith('Put')) {
        c.puts++;
        if (event === 'PutStale') c.stalePuts++;
      }
    }
    for (const a of actions) {
      if (a === 'fwdGetS' || a === 'fwdGetM') c.forwards++;
      else if (a === 'takeWriteback') c.writebacks++;
    }
    for (const m of send) if (m.type === 'Inv') c.invalidations++;
    c.maxQueue = Math.max(c.maxQueue, after.queue.length);
  }
}

function entryBytes(key: string, e: DirEntry): number {
  return ENTRY_OVERHEAD_BYTES + Buffer.byteLength(key, 'utf8') + valueBytes(e.memory);
}
