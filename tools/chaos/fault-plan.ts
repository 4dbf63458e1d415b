/**
 * The faults a nemesis can inject, as pure data: which shape, which nodes, and for partitions
 * which peers each node must refuse. Choosing them is seeded, so a run's fault schedule replays
 * from its seed (the timing of the system under test does not).
 */
import type { Random } from '../../src/lib/random.js';

export type FaultPlan =
  | { readonly kind: 'kill'; readonly node: string }
  | { readonly kind: 'pause'; readonly node: string }
  | { readonly kind: 'skew'; readonly node: string; readonly skewMs: number }
  | {
      readonly kind: 'partition';
      readonly shape: 'majority-minority' | 'isolate-leader' | 'bridge' | 'ring';
      /** node → the peers it cannot talk to (symmetric). */
      readonly blocked: ReadonlyMap<string, readonly string[]>;
      /**
       * Groups of nodes that can talk among themselves; a node reaches the union of the groups
       * it is in (they overlap for a bridge and a ring), as the history records it.
       */
      readonly components: readonly (readonly string[])[];
    };

export const FAULT_KINDS = [
  'kill',
  'pause',
  'skew',
  'majority-minority',
  'isolate-leader',
  'bridge',
  'ring',
] as const;

function shuffle<T>(random: Random, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Each node blocks every node outside the groups it is in. */
export function blockedBy(components: readonly (readonly string[])[]): Map<string, string[]> {
  const all = [...new Set(components.flat())];
  const blocked = new Map<string, string[]>();
  for (const n of all) {
    const reach = new Set(components.filter((c) => c.includes(n)).flat());
    blocked.set(
      n,
      all.filter((m) => !reach.has(m)),
    );
  }
  return blocked;
}

/**
 * Jepsen's bridge: two halves that cannot see each other and one node that sees both, so each
 * half can form a majority with the bridge but not both at once.
 */
export function bridgeGroups(order: readonly string[]): string[][] {
  const middle = Math.floor(order.length / 2);
  return [order.slice(0, middle + 1), order.slice(middle)];
}

/** A ring: each node talks only to its two neighbours, so no two nodes see the same majority. */
export function ringGroups(order: readonly string[]): string[][] {
  return order.map((node, i) => [node, order[(i + 1) % order.length]!]);
}

function partition(
  shape: Extract<FaultPlan, { kind: 'partition' }>['shape'],
  components: string[][],
): FaultPlan {
  return { kind: 'partition', shape, components, blocked: blockedBy(components) };
}

/**
 * Deals the fault kinds like cards: every kind once, in a seeded order, then a new shuffle, so
 * even a short run meets each kind of fault.
 */
export class FaultDealer {
  readonly #random: Random;
  readonly #nodes: readonly string[];
  #deck: (typeof FAULT_KINDS)[number][] = [];

  constructor(random: Random, nodes: readonly string[]) {
    this.#random = random;
    this.#nodes = nodes;
  }

  /** The next fault; `leader` is the metadata group's leader if known. */
  next(leader: string | undefined): FaultPlan {
    if (this.#deck.length === 0) this.#deck = shuffle(this.#random, FAULT_KINDS);
    return planFault(this.#deck.pop()!, this.#random, this.#nodes, leader);
  }
}

export function planFault(
  kind: (typeof FAULT_KINDS)[number],
  random: Random,
  nodes: readonly string[],
  leader: string | undefined,
): FaultPlan {
  const anyNode = nodes[random.int(0, nodes.length - 1)]!;
  // Faults aimed at the leader hurt most; aim half of the single-node ones there.
  const target = leader !== undefined && random.next() < 0.5 ? leader : anyNode;
  switch (kind) {
    case 'kill':
    case 'pause':
      return { kind, node: target };
    case 'skew': {
      const magnitudeMs = random.int(2, 30) * 1000;
      return { kind: 'skew', node: target, skewMs: random.next() < 0.5 ? -magnitudeMs : magnitudeMs };
    }
    case 'majority-minority': {
      const order = shuffle(random, nodes);
      const majority = Math.floor(nodes.length / 2) + 1;
      return partition(kind, [order.slice(0, majority), order.slice(majority)]);
    }
    case 'isolate-leader': {
      const alone = leader ?? anyNode;
      return partition(kind, [[alone], nodes.filter((n) => n !== alone)]);
    }
    case 'bridge':
      return partition(kind, bridgeGroups(shuffle(random, nodes)));
    case 'ring':
      return partition(kind, ringGroups(shuffle(random, nodes)));
  }
}

export function describePlan(fault: FaultPlan): string {
  switch (fault.kind) {
    case 'kill':
      return `kill -9 ${fault.node}`;
    case 'pause':
      return `SIGSTOP ${fault.node}`;
    case 'skew':
      return `clock of ${fault.node} ${fault.skewMs > 0 ? '+' : ''}${fault.skewMs} ms`;
    case 'partition':
      return `${fault.shape}: ${fault.components.map((c) => c.join(',')).join(' | ')}`;
  }
}
