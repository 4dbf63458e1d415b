import type { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry, NodeId, SnapshotMetadata } from '../../src/raft/types.js';
import { latin1, type Register } from './register.js';

/** A broken safety property. The simulator stops at the first one and prints its seed. */
export class Violation extends Error {
  override name = 'Violation';
  constructor(
    readonly invariant: string,
    message: string,
  ) {
    super(`${invariant}: ${message}`);
  }
}

interface CommittedEntry {
  readonly term: number;
  readonly key: string;
  /** The lowest term of a replica seen knowing this entry committed: it committed in a term ≤ this. */
  byTerm: number;
}

const BOOTSTRAP_KEY = 'bootstrap';

/**
 * The safety properties of Raft (paper Figure 3), checked incrementally as the simulated
 * runtimes persist, commit and apply, so that every step costs time proportional to what it
 * changed:
 * - election safety: at most one leader per term;
 * - log matching: an (index, term) pair names one entry, always preceded by the same term;
 * - leader completeness: a new leader holds every entry committed in an earlier term, and
 *   (checked the moment a leader commits) no voter that could win an election lacks it;
 * - state-machine safety: no two replicas apply different entries at an index, and only
 *   committed ones;
 * - durability: the highest committed entry is always on some replica's disk.
 */
export class SafetyChecker {
  readonly #leaders = new Map<number, NodeId>();
  /** `index/term` → entry key and the term before it. */
  readonly #entries = new Map<string, string>();
  readonly #committed: (CommittedEntry | undefined)[] = [];
  #commitHigh = 1;
  readonly #applied: (string | undefined)[] = [];

  constructor() {
    // The bootstrap snapshot (index 1, term 1) is committed by construction.
    this.#committed[1] = { term: 1, key: BOOTSTRAP_KEY, byTerm: 0 };
    this.#entries.set('1/1', BOOTSTRAP_KEY);
  }

  get commitHigh(): number {
    return this.#commitHigh;
  }

  committedEntry(index: number): { term: number; key: string } | undefined {
    return this.#committed[index];
  }

  onRole(id: NodeId, isLeader: boolean, term: number): void {
    if (!isLeader) return;
    const other = this.#leaders.get(term);
    if (other === undefined) this.#leaders.set(term, id);
    else if (other !== id)
      throw new Violation('election safety', `${other} and ${id} both lead term ${term}`);
  }

  /** Called after `storage.append(entries)`. */
  onAppend(id: NodeId, storage: MemoryStorage, entries: readonly Entry[]): void {
    const first = storage.firstIndex();
    for (const e of entries) {
      if (e.index < first) continue;
      const prevTerm = storage.term(e.index - 1);
      const record = `${entryKey(e)}|${prevTerm}`;
      const name = `${e.index}/${e.term}`;
      const known = this.#entries.get(name);
      if (known === undefined) this.#entries.set(name, record);
      else if (known !== record && known !== BOOTSTRAP_KEY) {
        throw new Violation('log matching', `${id} holds ${name} as ${record}, another replica as ${known}`);
      }
    }
  }

  /** `id` persisted commit index `to` (was `from`) while at `term`. */
  onCommit(id: NodeId, storage: MemoryStorage, from: number, to: number, term: number): void {
    const lo = Math.max(from + 1, storage.firstIndex());
    if (lo > to) return;
    const entries = storage.entries(lo, to + 1, Number.POSITIVE_INFINITY);
    for (const e of entries) this.#recordCommitted(id, e.index, e.term, entryKey(e), term);
    if (to > this.#commitHigh) this.#commitHigh = to;
  }

  #recordCommitted(id: NodeId, index: number, term: number, key: string, byTerm: number): void {
    const known = this.#committed[index];
    if (known === undefined) {
      this.#committed[index] = { term, key, byTerm };
      return;
    }
    if (known.term !== term || known.key !== key) {
      throw new Violation(
        'committed entry lost',
        `${id} committed ${term}/${index} (${key}) where ${known.term}/${index} (${known.key}) was committed`,
      );
    }
    if (byTerm < known.byTerm) known.byTerm = byTerm;
  }

  /** A snapshot was taken or installed: it must agree with the committed log and the applied writes. */
  onSnapshot(id: NodeId, meta: SnapshotMetadata, register: Register): void {
    const known = this.#committed[meta.index];
    if (known !== undefined && known.term !== meta.term) {
      throw new Violation(
        'snapshot',
        `${id} has snapshot ${meta.term}/${meta.index}, committed is term ${known.term}`,
      );
    }
    if (register.appliedIndex !== meta.index) {
      throw new Violation(
        'snapshot',
        `${id} snapshot at ${meta.index} holds state applied to ${register.appliedIndex}`,
      );
    }
    if (register.lastWriteIndex > 0 && this.#applied[register.lastWriteIndex] !== `n:${register.value}`) {
      throw new Violation(
        'snapshot',
        `${id} snapshot's last write ${register.lastWriteIndex} is not what was applied there`,
      );
    }
  }

  /** `id` just became leader of `term`; its log is persisted in `storage`. */
  onBecameLeader(id: NodeId, storage: MemoryStorage, term: number): void {
    const last = storage.lastIndex();
    for (let i = storage.firstIndex(); i <= this.#commitHigh; i++) {
      const c = this.#committed[i];
      if (c === undefined || c.byTerm >= term) continue;
      if (i > last || storage.term(i) !== c.term) {
        throw new Violation(
          'leader completeness',
          `${id} leads term ${term} without ${c.term}/${i}, committed by term ${c.byTerm}`,
        );
      }
    }
  }

  /**
   * Leader `id` persisted a commit index of `index` under a configuration with `voters`. In
   * Raft the entry then sits on a quorum of those voters together with an entry of the
   * leader's term (§5.4.2), so any voter whose log is at least as up-to-date as a quorum's —
   * anyone who could win an election — holds it too (§5.4.3). Committing by counting
   * replicas of an older term's entry breaks exactly this, before any log is overwritten.
   */
  onLeaderCommit(
    id: NodeId,
    index: number,
    voters: readonly NodeId[],
    storages: ReadonlyMap<NodeId, MemoryStorage>,
  ): void {
    const c = this.#committed[index];
    if (c === undefined) return;
    const tails = voters.map((v) => lastEntry(storages.get(v)!));
    const quorum = Math.floor(voters.length / 2) + 1;
    voters.forEach((voter, i) => {
      if (holds(storages.get(voter)!, index, c.term)) return;
      const mine = tails[i]!;
      const electors = tails.filter(
        (t) => mine.term > t.term || (mine.term === t.term && mine.index >= t.index),
      );
      if (electors.length >= quorum) {
        throw new Violation(
          'leader completeness',
          `${id} committed ${c.term}/${index}, but ${voter} (log ending ${mine.term}/${mine.index}) lacks it ` +
            `and could win an election in (${voters.join(',')})`,
        );
      }
    });
  }

  onApply(id: NodeId, entry: Entry): void {
    const key = entryKey(entry);
    const committed = this.#committed[entry.index];
    if (committed === undefined || committed.term !== entry.term || committed.key !== key) {
      throw new Violation(
        'state machine safety',
        `${id} applied ${entry.term}/${entry.index} (${key}), not committed`,
      );
    }
    const applied = this.#applied[entry.index];
    if (applied === undefined) this.#applied[entry.index] = key;
    else if (applied !== key) {
      throw new Violation(
        'state machine safety',
        `${id} applied ${key} at ${entry.index}, another replica ${applied}`,
      );
    }
  }

  /** The highest committed entry must survive on some replica's disk, crashed or not. */
  checkDurable(storages: readonly MemoryStorage[]): void {
    const index = this.#commitHigh;
    const c = this.#committed[index];
    if (c === undefined) return;
    for (const s of storages) if (holds(s, index, c.term)) return;
    throw new Violation('committed entry lost', `no replica stores committed entry ${c.term}/${index}`);
  }
}

function holds(s: MemoryStorage, index: number, term: number): boolean {
  if (s.snapshot().index >= index) return true;
  return index >= s.firstIndex() && index <= s.lastIndex() && s.term(index) === term;
}

function lastEntry(s: MemoryStorage): { index: number; term: number } {
  const index = s.lastIndex();
  return { index, term: s.term(index) };
}

export function entryKey(e: Entry): string {
  return `${e.type === 'normal' ? 'n' : 'c'}:${latin1(e.data)}`;
}
