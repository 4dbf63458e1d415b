import { assert } from '../../lib/assert.js';
import type { ConfState } from '../../raft/types.js';
import { Ring } from '../ring.js';
import { type MemberAddress, MetaCodecError, type MetaCommand, validateMetaCommand } from './commands.js';
import {
  EMPTY_CONF,
  inRing,
  metaDesired,
  nextMetaVoters,
  partitionDesired,
  ringNodeIds,
} from './placement.js';
import { decodeMetaSnapshot, encodeMetaSnapshot } from './snapshot.js';
import {
  type DesiredConf,
  EMPTY_META_DATA,
  type Member,
  type MemberState,
  type MetaApplyContext,
  type MetaData,
  type MetaResult,
} from './types.js';

export type { DesiredConf, Member, MemberState, MetaApplyContext, MetaResult } from './types.js';

/**
 * Group 0's membership state machine: the members and their liveness as decided by committed
 * entries, the ring epoch, and for every Raft group its desired and observed configuration.
 * Deterministic: it reads time only from the entry's context, so every replica that applies
 * the same entries holds the same state and produces the same snapshot bytes.
 *
 * A command that does not apply (unknown member, wrong state, cluster not initialized) returns
 * an error and changes nothing. Repeating a command whose effect is already there (`down` on a
 * down member, `leave` on a leaving one, a `join` with the same address) succeeds and changes
 * nothing, so a proposer may retry after a lost reply.
 *
 * Member transitions (anything else is an error):
 *
 * | command | up      | down    | evicted | leaving |
 * | ------- | ------- | ------- | ------- | ------- |
 * | down    | down    | -       | -       | error   |
 * | up      | -       | up      | up      | error   |
 * | evict   | error   | evicted | -       | error   |
 * | leave   | leaving | leaving | leaving | -       |
 * | remove  | error   | error   | removed | removed |
 *
 * `remove` also needs the member to hold no replica in any observed partition configuration
 * (group 0 does not count: every member is in it until removed), and refuses the last member.
 * `leave` refuses the last member of the ring: nobody could take its replicas.
 *
 * The epoch starts at 1 with `init` and goes up by one on every change of the member set or of
 * a member's state: that covers the placement ring (up and down members) and the ring of live
 * members the cache uses. `cache-reset` at the current epoch bumps it with the members unchanged
 * (the cache lost messages and must start over; a reset of an older epoch is a no-op, as that
 * epoch's caches are gone already). An address update and a `conf` report leave it alone.
 *
 * Placement (placement.ts has the reasons): ring nodes are the up and down members. Partition
 * p's voters are `ring.placeReplicas(p, R)` (min(R, ring size) nodes), no learners; with an
 * empty ring a partition's desired configuration is its observed one. Group 0 holds every
 * member: its voters are sticky (current voters that are still up or down stay, up members fill
 * free seats up to metaVotersMax in join order), everyone else is a learner.
 */
export class MetaState {
  #d: MetaData;
  /** Derived from `#d`, rebuilt lazily after any change. */
  #ring: Ring | undefined | null = null;
  #desired = new Map<number, DesiredConf>();

  private constructor(data: MetaData) {
    this.#d = data;
  }

  static empty(): MetaState {
    return new MetaState(EMPTY_META_DATA);
  }

  static restore(bytes: Uint8Array): MetaState {
    return new MetaState(decodeMetaSnapshot(bytes));
  }

  snapshot(): Uint8Array {
    return encodeMetaSnapshot(this.#d);
  }

  get initialized(): boolean {
    return this.#d.initialized;
  }

  get partitions(): number {
    return this.#d.partitions;
  }

  get replicas(): number {
    return this.#d.replicas;
  }

  get metaVotersMax(): number {
    return this.#d.metaVotersMax;
  }

  get epoch(): number {
    return this.#d.epoch;
  }

  /** Every member (not removed ones), in join order. */
  members(): readonly Member[] {
    return this.#d.members;
  }

  member(id: string): Member | undefined {
    return this.#d.members.find((m) => m.id === id);
  }

  /** Whether `id` was removed for good (it may not join again). */
  isRemoved(id: string): boolean {
    return this.#d.removed.includes(id);
  }

  /** Ascending ids of the members that hold partition replicas: up and down ones. */
  ringNodeIds(): readonly string[] {
    return this.ring()?.nodeIds ?? [];
  }

  /** The placement ring, tagged with the current epoch; undefined when no member can hold replicas. */
  ring(): Ring | undefined {
    if (this.#ring === null) {
      const ids = ringNodeIds(this.#d.members);
      this.#ring = ids.length === 0 ? undefined : new Ring({ epoch: this.#d.epoch, nodeIds: ids });
    }
    return this.#ring;
  }

  /** Where group `group`'s replicas should be; empty for a group this cluster does not have. */
  desired(group: number): DesiredConf {
    if (!this.#hasGroup(group)) return EMPTY_CONF;
    let conf = this.#desired.get(group);
    if (conf === undefined) {
      conf =
        group === 0
          ? metaDesired(this.#d.members, this.#d.metaVoters)
          : partitionDesired(this.ring(), group, this.#d.replicas, this.#d.observed.get(group));
      this.#desired.set(group, conf);
    }
    return conf;
  }

  /** The configuration group `group`'s leader last reported (ids ascending); undefined before any report. */
  observed(group: number): ConfState | undefined {
    return this.#d.observed.get(group);
  }

  /** The groups whose replica `nodeId` must host: it is in their desired or observed configuration. */
  groupsOf(nodeId: string): number[] {
    const groups: number[] = [];
    if (!this.#d.initialized) return groups;
    for (let g = 0; g <= this.#d.partitions; g++) {
      const d = this.desired(g);
      const o = this.#d.observed.get(g);
      if (
        d.voters.includes(nodeId) ||
        d.learners.includes(nodeId) ||
        o?.voters.includes(nodeId) === true ||
        o?.learners.includes(nodeId) === true
      ) {
        groups.push(g);
      }
    }
    return groups;
  }

  apply(cmd: MetaCommand, ctx: MetaApplyContext): MetaResult {
    assert(Number.isSafeInteger(ctx.index) && ctx.index >= 1, `bad entry index ${ctx.index}`);
    assert(Number.isSafeInteger(ctx.timeMs) && ctx.timeMs >= 0, `bad entry time ${ctx.timeMs}`);
    // Decoded commands are valid already; this catches ones built in code (tests, the runtime).
    try {
      validateMetaCommand(cmd);
    } catch (e) {
      if (e instanceof MetaCodecError) return fail(`ERR invalid cluster command: ${e.message}`);
      throw e;
    }
    if (cmd.op === 'init') return this.#init(cmd, ctx);
    if (!this.#d.initialized) return fail('ERR the cluster is not initialized');
    switch (cmd.op) {
      case 'join':
        return this.#join(cmd.member, ctx);
      case 'conf':
        return this.#conf(cmd.group, cmd.voters, cmd.learners);
      case 'cache-reset':
        // Members stay as they are; only the cache's epoch barrier runs again.
        if (cmd.epoch === this.#d.epoch) this.#set({ ...this.#d, epoch: this.#d.epoch + 1 });
        return OK;
      case 'remove':
        return this.#remove(cmd.id);
      case 'leave':
      case 'down':
      case 'up':
      case 'evict':
        return this.#transition(cmd.op, cmd.id, ctx);
    }
  }

  #init(cmd: Extract<MetaCommand, { op: 'init' }>, ctx: MetaApplyContext): MetaResult {
    if (this.#d.initialized) return fail('ERR the cluster is already initialized');
    const founder = newMember(cmd.founder, ctx);
    this.#set({
      ...EMPTY_META_DATA,
      initialized: true,
      partitions: cmd.partitions,
      replicas: cmd.replicas,
      metaVotersMax: cmd.metaVotersMax,
      epoch: 1,
      members: [founder],
      metaVoters: [founder.id],
    });
    return OK;
  }

  #join(address: MemberAddress, ctx: MetaApplyContext): MetaResult {
    if (this.isRemoved(address.id)) {
      return fail(`ERR node '${address.id}' was removed from the cluster; a removed id cannot join again`);
    }
    const existing = this.member(address.id);
    if (existing === undefined) {
      const last = this.#d.members[this.#d.members.length - 1];
      assert(
        last === undefined || last.joinedIndex < ctx.index,
        `join at index ${ctx.index} applied out of order`,
      );
      this.#setMembers([...this.#d.members, newMember(address, ctx)]);
      return OK;
    }
    if (sameAddress(existing, address)) return OK;
    // A restarted node on new ports: same member, same state, new address. Nothing placed moves.
    const updated: Member = { ...existing, ...pickAddress(address) };
    this.#set({ ...this.#d, members: this.#d.members.map((m) => (m.id === address.id ? updated : m)) });
    return OK;
  }

  #transition(op: 'leave' | 'down' | 'up' | 'evict', id: string, ctx: MetaApplyContext): MetaResult {
    const m = this.member(id);
    if (m === undefined) return noSuchMember(id);
    const to = TRANSITIONS[op][m.state];
    if (to === 'same') return OK;
    if (to === 'error') return fail(`ERR cannot ${op} member '${id}': it is ${m.state}`);
    if (op === 'leave' && inRing(m) && this.ringNodeIds().length === 1) {
      return fail(`ERR cannot leave: '${id}' is the last member that can hold replicas`);
    }
    const updated: Member = { ...m, state: to, stateSinceMs: ctx.timeMs };
    this.#setMembers(this.#d.members.map((x) => (x.id === id ? updated : x)));
    return OK;
  }

  #remove(id: string): MetaResult {
    const m = this.member(id);
    if (m === undefined) return noSuchMember(id);
    if (m.state !== 'leaving' && m.state !== 'evicted') {
      return fail(`ERR cannot remove member '${id}': it is ${m.state}; make it leave first (CLUSTER.LEAVE)`);
    }
    if (this.#d.members.length === 1) return fail(`ERR cannot remove '${id}': it is the last member`);
    const holding: number[] = [];
    for (const [g, conf] of this.#d.observed) {
      if (g !== 0 && (conf.voters.includes(id) || conf.learners.includes(id))) holding.push(g);
    }
    if (holding.length > 0) {
      const list = holding.sort((a, b) => a - b).join(', ');
      return fail(`ERR cannot remove member '${id}' yet: it still holds replicas of groups ${list}`);
    }
    const removed = [...this.#d.removed, id].sort();
    this.#setMembers(
      this.#d.members.filter((x) => x.id !== id),
      removed,
    );
    return OK;
  }

  #conf(group: number, voters: readonly string[], learners: readonly string[]): MetaResult {
    if (!this.#hasGroup(group)) {
      return fail(`ERR no such group ${group}: this cluster has groups 0..${this.#d.partitions}`);
    }
    const conf: ConfState = { voters: [...voters].sort(), learners: [...learners].sort() };
    const previous = this.#d.observed.get(group);
    if (
      previous !== undefined &&
      sameIds(previous.voters, conf.voters) &&
      sameIds(previous.learners, conf.learners)
    ) {
      return OK;
    }
    const observed = new Map(this.#d.observed);
    observed.set(group, conf);
    this.#set({ ...this.#d, observed });
    return OK;
  }

  /** A change of the member set or of a member's state: recompute group 0's voters, bump the epoch. */
  #setMembers(members: readonly Member[], removed = this.#d.removed): void {
    const metaVoters = nextMetaVoters(members, this.#d.metaVoters, this.#d.metaVotersMax);
    this.#set({ ...this.#d, members, removed, metaVoters, epoch: this.#d.epoch + 1 });
  }

  #set(data: MetaData): void {
    this.#d = data;
    this.#ring = null;
    this.#desired.clear();
  }

  #hasGroup(group: number): boolean {
    return this.#d.initialized && Number.isInteger(group) && group >= 0 && group <= this.#d.partitions;
  }
}

type Transition = MemberState | 'same' | 'error';

/** The table in the class comment; `remove` is handled on its own. */
const TRANSITIONS: Readonly<
  Record<'leave' | 'down' | 'up' | 'evict', Readonly<Record<MemberState, Transition>>>
> = {
  down: { up: 'down', down: 'same', evicted: 'same', leaving: 'error' },
  up: { up: 'same', down: 'up', evicted: 'up', leaving: 'error' },
  evict: { up: 'error', down: 'evicted', evicted: 'same', leaving: 'error' },
  leave: { up: 'leaving', down: 'leaving', evicted: 'leaving', leaving: 'same' },
};

const OK: MetaResult = { ok: true };

function fail(error: string): MetaResult {
  return { ok: false, error };
}

function noSuchMember(id: string): MetaResult {
  return fail(`ERR no such member '${id}'`);
}

function newMember(address: MemberAddress, ctx: MetaApplyContext): Member {
  return { ...pickAddress(address), state: 'up', joinedIndex: ctx.index, stateSinceMs: ctx.timeMs };
}

/** Only the address fields: a command object may carry others, which must not reach the state. */
function pickAddress(a: MemberAddress): MemberAddress {
  return { id: a.id, host: a.host, port: a.port, busPort: a.busPort, httpPort: a.httpPort };
}

function sameAddress(a: MemberAddress, b: MemberAddress): boolean {
  return a.host === b.host && a.port === b.port && a.busPort === b.busPort && a.httpPort === b.httpPort;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
