import { AssertionError } from '../../src/lib/assert.js';
import { SeededRandom } from '../../src/lib/random.js';
import { decodeMessage, encodeMessage } from '../../src/raft/codec.js';
import { describeMessage } from '../../src/raft/describe.js';
import type { MemoryStorage } from '../../src/raft/storage.js';
import type { ConfChange, Message, NodeId } from '../../src/raft/types.js';
import { EventQueue } from './event-queue.js';
import { type Operation, RegisterHistory } from './history.js';
import { SafetyChecker, Violation } from './invariants.js';
import { Partitions } from './network.js';
import { type NodeContext, SimNode } from './node.js';
import { BASE_TICK_US, deriveOptions, type SimOptions, type SimOverrides } from './options.js';

type SimEvent =
  | { readonly kind: 'tick'; readonly node: number }
  | { readonly kind: 'deliver'; readonly to: number; readonly bytes: Uint8Array }
  | { readonly kind: 'action' }
  | { readonly kind: 'restart'; readonly node: number }
  | { readonly kind: 'crash'; readonly node: number }
  | { readonly kind: 'read'; readonly node: number };

export interface SimStats {
  steps: number;
  simulatedMs: number;
  messagesSent: number;
  messagesDropped: number;
  crashes: number;
  pauses: number;
  partitions: number;
  confChangesProposed: number;
  transfersRequested: number;
  snapshotsInstalled: number;
  snapshotsTaken: number;
  writesCompleted: number;
  readsCompleted: number;
  maxTerm: number;
  /** Ticks the healed cluster needed to elect a leader and commit the final writes. */
  livenessTicks: number;
}

export interface SimResult {
  readonly seed: number;
  readonly options: SimOptions;
  readonly ok: boolean;
  readonly violation: { readonly invariant: string; readonly message: string; readonly step: number } | null;
  readonly stats: SimStats;
}

export interface RunOptions extends SimOverrides {
  /** Receives a line per event, Ready and core transition: for replaying one seed. */
  readonly trace?: (line: string) => void;
}

/** Writes the healed cluster must commit in the liveness phase. */
const LIVENESS_WRITES = 3;

/**
 * A deterministic simulation of one Raft group (TigerBeetle's VOPR, in spirit). One seed
 * derives the cluster (1–7 nodes, some of them spares to add later), the clocks (each node
 * ticks at its own rate) and every decision. The run is a safety phase followed by a
 * liveness phase.
 *
 * Safety phase: clients write and read through ReadIndex while the simulator drops, delays,
 * duplicates and reorders messages (every message goes through the wire codec), cuts links
 * (isolating a node or the leader, splitting the group, or one-way), crashes nodes (often the
 * leader, sometimes right after it appended) and restarts them from storage, pauses processes,
 * changes membership and transfers leadership. A crash happens between Ready cycles and loses
 * everything the runtime had not written: the Raft instance, the applied state (rebuilt from
 * the snapshot), staged snapshot chunks, pending requests. After every step the invariants of
 * invariants.ts and the linearizability of history.ts are checked.
 *
 * Liveness phase: every fault is healed (links become ordered and lossless, nodes restart);
 * within a bounded number of ticks a leader must commit new writes and every member must
 * apply everything the leader committed.
 */
export function runSimulation(seed: number, runOptions: RunOptions = {}): SimResult {
  const sim = new Simulation(deriveOptions(seed, runOptions), runOptions.trace);
  return sim.run();
}

class Simulation {
  readonly #o: SimOptions;
  readonly #random: SeededRandom;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #checker = new SafetyChecker();
  readonly #history = new RegisterHistory();
  readonly #partitions = new Partitions();
  readonly #nodes: SimNode[];
  readonly #storages = new Map<NodeId, MemoryStorage>();
  readonly #trace: ((line: string) => void) | undefined;
  readonly #stats: SimStats = {
    steps: 0,
    simulatedMs: 0,
    messagesSent: 0,
    messagesDropped: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    confChangesProposed: 0,
    transfersRequested: 0,
    snapshotsInstalled: 0,
    snapshotsTaken: 0,
    writesCompleted: 0,
    readsCompleted: 0,
    maxTerm: 0,
    livenessTicks: 0,
  };
  #nowUs = 0;
  #faultsOn = true;
  readonly #lastDeliveryUs = new Map<string, number>();
  /** Per node: simulated time until which the process is frozen (a GC pause, SIGSTOP). */
  readonly #pausedUntilUs: number[];
  #livenessWrites: { op: Operation; proposedAtUs: number }[] = [];

  constructor(options: SimOptions, trace: ((line: string) => void) | undefined) {
    this.#o = options;
    this.#random = new SeededRandom(options.seed);
    this.#trace = trace;
    const voters = Array.from({ length: options.initialVoters }, (_, i) => `n${i + 1}`);
    const ctx: NodeContext = {
      options,
      checker: this.#checker,
      history: this.#history,
      send: (m) => this.#send(m),
      logger: trace === undefined ? undefined : (line) => trace(`${this.#clock()} raft ${line}`),
      stats: this.#stats,
      storages: this.#storages,
    };
    this.#pausedUntilUs = new Array<number>(options.nodeCount).fill(0);
    this.#nodes = [];
    for (let i = 0; i < options.nodeCount; i++) {
      const node = new SimNode(ctx, i, i < options.initialVoters ? { voters, learners: [] } : null);
      this.#nodes.push(node);
      this.#storages.set(node.id, node.storage);
    }
    for (let i = 0; i < options.nodeCount; i++) {
      this.#queue.push(this.#random.int(0, options.tickPeriodsUs[i]!), { kind: 'tick', node: i });
    }
    this.#queue.push(options.actionIntervalUs, { kind: 'action' });
  }

  run(): SimResult {
    const o = this.#o;
    try {
      this.#log(`options ${JSON.stringify(o)}`);
      while (this.#stats.steps < o.safetySteps) this.#step();
      this.#heal();
      const deadlineUs = this.#nowUs + o.livenessTicks * BASE_TICK_US;
      const healedAtUs = this.#nowUs;
      while (!this.#converged()) {
        if (this.#nowUs > deadlineUs) {
          throw new Violation(
            'liveness',
            `no convergence within ${o.livenessTicks} ticks of healing: ${this.#describeCluster()}`,
          );
        }
        this.#step();
      }
      this.#stats.livenessTicks = Math.ceil((this.#nowUs - healedAtUs) / BASE_TICK_US);
      this.#log(`converged after ${this.#stats.livenessTicks} ticks: ${this.#describeCluster()}`);
      return this.#result(null);
    } catch (e) {
      if (e instanceof Violation) return this.#result({ invariant: e.invariant, message: e.message });
      if (e instanceof AssertionError)
        return this.#result({ invariant: 'core assertion', message: e.stack ?? e.message });
      throw e;
    }
  }

  #result(violation: { invariant: string; message: string } | null): SimResult {
    this.#stats.simulatedMs = Math.round(this.#nowUs / 1000);
    this.#stats.writesCompleted = this.#history.completedWrites;
    this.#stats.readsCompleted = this.#history.completedReads;
    return {
      seed: this.#o.seed,
      options: this.#o,
      ok: violation === null,
      violation: violation === null ? null : { ...violation, step: this.#stats.steps },
      stats: this.#stats,
    };
  }

  #step(): void {
    const next = this.#queue.pop();
    if (next === undefined) throw new Violation('simulator', 'event queue ran dry');
    this.#nowUs = next.atUs;
    this.#stats.steps++;
    const ev = next.event;
    switch (ev.kind) {
      case 'tick':
        this.#tick(ev.node);
        break;
      case 'deliver':
        this.#deliver(ev.to, ev.bytes);
        break;
      case 'action':
        if (this.#faultsOn) this.#act();
        else this.#actHealed();
        this.#queue.push(this.#nowUs + this.#random.int(1, 2 * this.#o.actionIntervalUs), { kind: 'action' });
        break;
      case 'restart':
        this.#restart(ev.node);
        break;
      case 'crash':
        this.#crashNode(this.#nodes[ev.node]!);
        break;
      case 'read':
        this.#readAt(this.#nodes[ev.node]!);
        break;
    }
    this.#checkAfterStep();
  }

  #checkAfterStep(): void {
    for (const node of this.#nodes) {
      const raw = node.raw;
      if (raw === null) continue;
      this.#checker.onRole(node.id, raw.role === 'leader', raw.term);
      if (raw.term > this.#stats.maxTerm) this.#stats.maxTerm = raw.term;
    }
    this.#checker.checkDurable(this.#nodes.map((n) => n.storage));
  }

  #tick(index: number): void {
    const node = this.#nodes[index]!;
    this.#queue.push(this.#nowUs + this.#o.tickPeriodsUs[index]!, { kind: 'tick', node: index });
    if (this.#paused(index)) return;
    node.tick();
  }

  #paused(index: number): boolean {
    return this.#pausedUntilUs[index]! > this.#nowUs;
  }

  #send(m: Message): void {
    this.#stats.messagesSent++;
    const to = this.#indexOf(m.to);
    if (to < 0) return;
    const bytes = encodeMessage(m);
    const lossy = this.#faultsOn;
    if (lossy && this.#random.next() < this.#o.dropRate) {
      this.#stats.messagesDropped++;
      return;
    }
    if (!lossy) {
      // A healed network behaves like the runtime's TCP links: ordered, within a tick.
      const link = `${m.from}>${m.to}`;
      const delayUs = this.#random.int(this.#o.minDelayUs, Math.min(this.#o.maxDelayUs, BASE_TICK_US));
      const atUs = Math.max(this.#nowUs + delayUs, (this.#lastDeliveryUs.get(link) ?? 0) + 1);
      this.#lastDeliveryUs.set(link, atUs);
      this.#queue.push(atUs, { kind: 'deliver', to, bytes });
      return;
    }
    const copies = this.#random.next() < this.#o.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delayUs = this.#random.int(this.#o.minDelayUs, this.#o.maxDelayUs);
      this.#queue.push(this.#nowUs + delayUs, { kind: 'deliver', to, bytes });
    }
  }

  #deliver(to: number, bytes: Uint8Array): void {
    if (this.#paused(to)) {
      // The message waits in the socket buffer until the process wakes up.
      const atUs = this.#pausedUntilUs[to]! + this.#random.int(0, this.#o.maxDelayUs);
      this.#queue.push(atUs, { kind: 'deliver', to, bytes });
      return;
    }
    const m = decodeMessage(bytes);
    const node = this.#nodes[to]!;
    if (node.raw === null || this.#partitions.blocked(m.from, m.to)) {
      this.#stats.messagesDropped++;
      return;
    }
    if (this.#trace !== undefined) this.#log(`deliver ${describeMessage(m)}`);
    node.raw.step(m);
    node.process();
  }

  // -----------------------------------------------------------------------------------------
  // Client requests and faults

  #act(): void {
    const f = this.#o.faultiness;
    const choices: [number, () => void][] = [
      [40, () => this.#proposeWrite()],
      [25, () => this.#read()],
      [3 * f, () => this.#crash()],
      // A paused leader wakes up believing it still leads; leases assume no pauses.
      [this.#o.readOnly === 'lease' ? 0 : 3 * f, () => this.#pause()],
      [6 * f, () => this.#proposeThenCrashLeader()],
      [3 * f, () => this.#partition()],
      [4 * f, () => this.#healPartitions()],
      [5 * f, () => this.#changeMembership()],
      [3 * f, () => this.#transferLeadership()],
    ];
    let total = 0;
    for (const [w] of choices) total += w;
    let x = this.#random.next() * total;
    for (const [w, act] of choices) {
      x -= w;
      if (x < 0) {
        act();
        return;
      }
    }
  }

  /** After healing only the final writes are proposed, each retried until one commits. */
  #actHealed(): void {
    const leader = this.#leader();
    if (leader === null) return;
    const pending = this.#livenessWrites.filter((w) => !w.op.completed);
    const staleUs = 3 * this.#o.electionTimeoutTicks * BASE_TICK_US;
    const done = this.#livenessWrites.length - pending.length;
    if (done >= LIVENESS_WRITES) return;
    if (pending.length > 0 && pending.every((w) => this.#nowUs - w.proposedAtUs < staleUs)) return;
    const op = this.#history.invoke('write');
    if (leader.propose(op)) this.#livenessWrites.push({ op, proposedAtUs: this.#nowUs });
  }

  #proposeWrite(): void {
    const leader = this.#leader();
    const node = leader !== null && this.#random.next() < 0.8 ? leader : this.#randomLiveNode();
    if (node === null) return;
    const op = this.#history.invoke('write');
    const ok = node.propose(op);
    this.#log(`propose write #${op.id} at ${node.id}: ${ok ? 'accepted' : 'refused'}`);
  }

  #read(): void {
    const node = this.#randomLiveNode();
    if (node !== null) this.#readAt(node);
  }

  #readAt(node: SimNode): void {
    if (!node.alive) return;
    const op = this.#history.invoke('read');
    const ok = node.read(op);
    this.#log(`read #${op.id} at ${node.id}: ${ok ? 'accepted' : 'refused'}`);
  }

  /** Half of the crashes hit the leader: leader changes are where consensus bugs live. */
  #crash(): void {
    const leader = this.#leader();
    const node = leader !== null && this.#random.next() < 0.5 ? leader : this.#randomLiveNode();
    if (node !== null) this.#crashNode(node);
  }

  /**
   * A leader crashes while its latest entries are still on their way to the followers, leaving
   * them on a minority: the divergent logs of the paper's Figure 8, which a commit rule that
   * counts replicas of an earlier term's entry turns into lost commits.
   */
  #proposeThenCrashLeader(): void {
    const leader = this.#leader();
    if (leader === null) return;
    const op = this.#history.invoke('write');
    leader.propose(op);
    const delayUs = this.#random.int(0, this.#o.maxDelayUs);
    this.#queue.push(this.#nowUs + delayUs, { kind: 'crash', node: this.#nodes.indexOf(leader) });
  }

  #pause(): void {
    const leader = this.#leader();
    const node = leader !== null && this.#random.next() < 0.7 ? leader : this.#randomLiveNode();
    if (node === null) return;
    const ticks = this.#random.int(1, 3 * this.#o.electionTimeoutTicks);
    const index = this.#nodes.indexOf(node);
    this.#pausedUntilUs[index] = this.#nowUs + ticks * BASE_TICK_US;
    // A client request that waited out the pause is served before the messages that queued up.
    this.#queue.push(this.#pausedUntilUs[index]!, { kind: 'read', node: index });
    this.#stats.pauses++;
    this.#log(`pause ${node.id} for ${ticks} ticks`);
  }

  #crashNode(node: SimNode): void {
    if (!node.alive) return;
    node.crash();
    this.#stats.crashes++;
    const downTicks = this.#random.int(1, 4 * this.#o.electionTimeoutTicks);
    this.#queue.push(this.#nowUs + downTicks * BASE_TICK_US, {
      kind: 'restart',
      node: this.#nodes.indexOf(node),
    });
    this.#log(`crash ${node.id} for ${downTicks} ticks`);
  }

  #restart(index: number): void {
    const node = this.#nodes[index]!;
    if (node.alive) return;
    this.#log(`restart ${node.id}`);
    node.start();
  }

  #partition(): void {
    const ids = this.#nodes.map((n) => n.id);
    const kind = this.#random.int(0, 3);
    if (kind <= 1) {
      const leader = this.#leader();
      const isolated = kind === 0 && leader !== null ? leader.id : ids[this.#random.int(0, ids.length - 1)]!;
      this.#partitions.split(
        [isolated],
        ids.filter((id) => id !== isolated),
      );
    } else if (kind === 2) {
      const sideA = ids.filter(() => this.#random.next() < 0.5);
      this.#partitions.split(
        sideA,
        ids.filter((id) => !sideA.includes(id)),
      );
    } else {
      this.#partitions.cutRandomly(ids, 0.3, this.#random);
    }
    this.#stats.partitions++;
    this.#log(`partition: cut ${this.#partitions.describe()}`);
  }

  #healPartitions(): void {
    if (!this.#partitions.active) return;
    this.#partitions.heal();
    this.#log('heal partitions');
  }

  #changeMembership(): void {
    const leader = this.#leader();
    if (leader === null) return;
    const conf = leader.raw!.status().confState;
    const members = [...conf.voters, ...conf.learners];
    const outsiders = this.#nodes.map((n) => n.id).filter((id) => !members.includes(id));
    const options: ConfChange[] = [];
    for (const id of outsiders)
      options.push({ type: 'addLearner', nodeId: id }, { type: 'addVoter', nodeId: id });
    for (const id of conf.learners)
      options.push({ type: 'promote', nodeId: id }, { type: 'remove', nodeId: id });
    if (conf.voters.length > 1) for (const id of conf.voters) options.push({ type: 'remove', nodeId: id });
    if (options.length === 0) return;
    const change = options[this.#random.int(0, options.length - 1)]!;
    const result = leader.raw!.proposeConfChange(change);
    leader.process();
    this.#stats.confChangesProposed++;
    this.#log(
      `propose ${change.type} ${change.nodeId} at ${leader.id}: ${result.ok ? `index ${result.index}` : result.reason}`,
    );
  }

  #transferLeadership(): void {
    const leader = this.#leader();
    if (leader === null) return;
    const voters = leader.raw!.status().confState.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const target = voters[this.#random.int(0, voters.length - 1)]!;
    const ok = leader.raw!.transferLeader(target);
    leader.process();
    this.#stats.transfersRequested++;
    this.#log(`transfer leadership ${leader.id} -> ${target}: ${ok ? 'started' : 'refused'}`);
  }

  // -----------------------------------------------------------------------------------------
  // Liveness

  #heal(): void {
    this.#faultsOn = false;
    this.#pausedUntilUs.fill(0);
    this.#partitions.heal();
    for (const node of this.#nodes) if (!node.alive) node.start();
    this.#log(`heal everything: ${this.#describeCluster()}`);
  }

  /** A leader, every final write committed, and every member caught up with the leader. */
  #converged(): boolean {
    const leader = this.#leader();
    if (leader === null) return false;
    if (this.#livenessWrites.filter((w) => w.op.completed).length < LIVENESS_WRITES) return false;
    const raw = leader.raw!;
    const conf = raw.status().confState;
    for (const id of [...conf.voters, ...conf.learners]) {
      const member = this.#nodes[this.#indexOf(id)]!;
      if (member.register.appliedIndex < raw.commitIndex) return false;
    }
    return leader.register.appliedIndex >= raw.commitIndex;
  }

  // -----------------------------------------------------------------------------------------

  /** The running node that believes it leads with the highest term, if any. */
  #leader(): SimNode | null {
    let best: SimNode | null = null;
    this.#nodes.forEach((node, i) => {
      const raw = node.raw;
      if (raw === null || this.#paused(i) || raw.role !== 'leader') return;
      if (best === null || raw.term > best.raw!.term) best = node;
    });
    return best;
  }

  /** A node that is up and not paused: one a client can talk to. */
  #randomLiveNode(): SimNode | null {
    const live = this.#nodes.filter((n, i) => n.alive && !this.#paused(i));
    return live.length === 0 ? null : live[this.#random.int(0, live.length - 1)]!;
  }

  #indexOf(id: NodeId): number {
    return this.#nodes.findIndex((n) => n.id === id);
  }

  #describeCluster(): string {
    return this.#nodes
      .map((n) => {
        const raw = n.raw;
        if (raw === null) return `${n.id}:down`;
        const conf = raw.status().confState;
        return (
          `${n.id}:${raw.role}@${raw.term} commit=${raw.commitIndex} applied=${n.register.appliedIndex} ` +
          `voters=(${conf.voters.join(',')}) learners=(${conf.learners.join(',')})`
        );
      })
      .join(' | ');
  }

  #clock(): string {
    return `[${(this.#nowUs / 1000).toFixed(3)}ms]`;
  }

  #log(line: string): void {
    this.#trace?.(`${this.#clock()} ${line}`);
  }
}
