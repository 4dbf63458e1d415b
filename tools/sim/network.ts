import type { Random } from '../../src/lib/random.js';
import type { NodeId } from '../../src/raft/types.js';

/**
 * Which links are cut. Links are directed, so a partition can be asymmetric: A hears B while
 * B does not hear A (a half-broken NIC, a one-way firewall rule).
 */
export class Partitions {
  readonly #cut = new Set<string>();

  get active(): boolean {
    return this.#cut.size > 0;
  }

  blocked(from: NodeId, to: NodeId): boolean {
    return this.#cut.size > 0 && this.#cut.has(`${from}>${to}`);
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Cuts every link between the two sides, both ways. */
  split(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    this.heal();
    for (const a of sideA) {
      for (const b of sideB) {
        this.#cut.add(`${a}>${b}`);
        this.#cut.add(`${b}>${a}`);
      }
    }
  }

  /** Cuts each directed link with probability `p`. */
  cutRandomly(ids: readonly NodeId[], p: number, random: Random): void {
    this.heal();
    for (const a of ids) {
      for (const b of ids) {
        if (a !== b && random.next() < p) this.#cut.add(`${a}>${b}`);
      }
    }
  }

  describe(): string {
    return this.#cut.size === 0 ? 'none' : [...this.#cut].sort().join(' ');
  }
}
