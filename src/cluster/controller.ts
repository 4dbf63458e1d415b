import type { ConfState } from '../raft/types.js';
import type { RaftHost } from '../raft-runtime/host.js';
import type { MemberAddress, MetaCommand } from './meta/commands.js';
import { nextConfChange } from './meta/reconcile.js';
import type { MetaState } from './meta/state.js';

export interface ControllerOptions {
  readonly host: RaftHost;
  readonly self: MemberAddress;
  readonly meta: () => MetaState | undefined;
  /** Proposes a meta command (through the meta leader, wherever it is). */
  readonly proposeMeta: (command: MetaCommand) => Promise<void>;
  /** The cluster's shape for the `init` entry, from this node's configuration. */
  readonly init: { readonly partitions: number; readonly replicas: number; readonly metaVotersMax: number };
  /** Milliseconds since this node last heard anything from the peer on the bus (Infinity: never). */
  readonly silentForMs: (peerId: string) => number;
  readonly downAfterMs: number;
  readonly reassignAfterMs: number;
  readonly now: () => number;
  readonly setBusPeers: (members: readonly MemberAddress[]) => void;
  readonly log: (level: 'info' | 'warn', message: string, fields?: object) => void;
}

/** A learner this close to the leader's commit index counts as caught up (it keeps up by appends). */
const CAUGHT_UP_SLACK_ENTRIES = 64;
/**
 * A node leads a partition this long before it hands leadership to the preferred node: a
 * RAFT.TRANSFER by an operator holds for a while, and a preferred node that cannot keep
 * leadership (it lags, or keeps losing elections) does not make the group ping-pong.
 */
const LEADER_BALANCE_AFTER_MS = 10_000;

/**
 * The level-triggered loop that makes this node's part of the cluster match group 0's
 * decisions (DESIGN.md §5). Every pass, from the current state alone:
 *
 * 1. bus peers = the members;
 * 2. host a replica of every group the meta state places here, drop the ones it no longer does;
 * 3. for each group this node leads: report its configuration to group 0 if group 0's record is
 *    stale, else take the next single-server step towards the desired configuration (a
 *    configuration is never more than one change ahead of its record, so a replica is never
 *    dropped while it may still count in a quorum);
 *    Once a partition's configuration is the desired one, its leader hands leadership to the
 *    placement's first node (the preferred leader) when that one is live and caught up, so the
 *    partitions' leaders, and the work of leading, spread over the nodes instead of staying
 *    with whoever was elected first (the founder, after bootstrap);
 * 4. on the meta leader: initialise a new cluster; mark silent members down and returning ones
 *    up; evict members down longer than reassign-after-ms (their replicas are re-created
 *    elsewhere); remove leaving members that no longer hold a partition replica.
 *
 * Idempotent by construction: a lost proposal is simply made again on a later pass.
 */
export class Controller {
  readonly #o: ControllerOptions;
  readonly #inFlight = new Set<string>();
  #lastPeersKey = '';
  #metaLeaderSinceMs: number | null = null;
  #left = false;
  /** Since when this node has led each group it leads (as seen by the passes). */
  readonly #leaderSinceMs = new Map<number, number>();

  constructor(options: ControllerOptions) {
    this.#o = options;
  }

  /** This node was removed from the cluster (CLUSTER.LEAVE completed). */
  get left(): boolean {
    return this.#left;
  }

  pass(): void {
    const meta = this.#o.meta();
    const host = this.#o.host;
    const g0 = host.group(0);
    if (meta === undefined || g0 === undefined) return;
    const metaLeader = g0.isLeader;
    if (!metaLeader) this.#metaLeaderSinceMs = null;
    else if (this.#metaLeaderSinceMs === null) this.#metaLeaderSinceMs = this.#o.now();

    if (!meta.initialized) {
      if (metaLeader) {
        this.#propose('init', { op: 'init', ...this.#o.init, founder: this.#o.self });
      }
      return;
    }

    this.#updatePeers(meta);
    if (meta.member(this.#o.self.id) === undefined) {
      if (!this.#left) this.#o.log('warn', 'this node is no longer a member of the cluster');
      this.#left = true;
      return;
    }
    this.#host(meta);
    for (const groupId of host.groupIds()) this.#steer(meta, groupId);
    if (metaLeader) this.#watchMembers(meta);
  }

  #updatePeers(meta: MetaState): void {
    const members = meta.members();
    const key = members.map((m) => `${m.id}@${m.host}:${m.busPort}`).join(',');
    if (key === this.#lastPeersKey) return;
    this.#lastPeersKey = key;
    this.#o.setBusPeers(members);
  }

  #host(meta: MetaState): void {
    const host = this.#o.host;
    const self = this.#o.self.id;
    const mine = new Set(meta.groupsOf(self));
    for (const groupId of mine) {
      if (host.group(groupId) === undefined) {
        host.createGroup(groupId);
        this.#o.log('info', 'hosting a new replica', { group: groupId });
      }
    }
    for (const groupId of host.groupIds()) {
      if (groupId === 0 || mine.has(groupId) || meta.observed(groupId) === undefined) continue;
      host.destroyGroup(groupId);
    }
  }

  /** Report, then reconcile, every group this node leads. */
  #steer(meta: MetaState, groupId: number): void {
    const replica = this.#o.host.group(groupId);
    if (replica === undefined || !replica.isLeader) {
      this.#leaderSinceMs.delete(groupId);
      return;
    }
    if (!this.#leaderSinceMs.has(groupId)) this.#leaderSinceMs.set(groupId, this.#o.now());
    const status = replica.raw.status();
    const current = status.confState;
    if (!sameConf(current, meta.observed(groupId))) {
      this.#propose(`conf:${groupId}`, {
        op: 'conf',
        group: groupId,
        voters: [...current.voters].sort(),
        learners: [...current.learners].sort(),
      });
      return;
    }
    const progress = status.progress;
    const change = nextConfChange({
      desired: meta.desired(groupId),
      current,
      leaderId: this.#o.self.id,
      isCaughtUp: (id) => {
        const p = progress?.get(id);
        return p !== undefined && p.match + CAUGHT_UP_SLACK_ENTRIES >= status.commitIndex;
      },
      isLive: (id) => id === this.#o.self.id || this.#o.silentForMs(id) < this.#o.downAfterMs,
    });
    if (change === null) {
      this.#balanceLeader(meta, groupId, status);
      return;
    }
    if (this.#o.host.proposeConfChange(groupId, change)) {
      this.#o.log('info', 'membership change proposed', {
        group: groupId,
        change: `${change.type} ${change.nodeId}`,
      });
    }
  }

  /** Hands a settled partition's leadership to its preferred (first placed) node. */
  #balanceLeader(
    meta: MetaState,
    groupId: number,
    status: ReturnType<NonNullable<ReturnType<RaftHost['group']>>['raw']['status']>,
  ): void {
    if (groupId === 0) return;
    const preferred = meta.desired(groupId).voters[0];
    const self = this.#o.self.id;
    if (preferred === undefined || preferred === self || !status.confState.voters.includes(preferred)) return;
    if (this.#o.silentForMs(preferred) >= this.#o.downAfterMs) return;
    const p = status.progress?.get(preferred);
    if (p === undefined || p.match < status.commitIndex) return;
    const since = this.#leaderSinceMs.get(groupId) ?? this.#o.now();
    if (this.#o.now() - since < LEADER_BALANCE_AFTER_MS) return;
    if (this.#o.host.transferLeader(groupId, preferred)) {
      this.#o.log('info', 'leadership handed to the preferred node', { group: groupId, to: preferred });
    }
  }

  #watchMembers(meta: MetaState): void {
    const now = this.#o.now();
    // A new meta leader has heard from nobody yet: give everyone one down-after window.
    const leaderForMs = now - (this.#metaLeaderSinceMs ?? now);
    for (const m of meta.members()) {
      if (m.id === this.#o.self.id) {
        if (m.state === 'down' || m.state === 'evicted') this.#propose(`up:${m.id}`, { op: 'up', id: m.id });
        continue;
      }
      const silentMs = Math.min(this.#o.silentForMs(m.id), leaderForMs);
      const heard = this.#o.silentForMs(m.id) < this.#o.downAfterMs;
      switch (m.state) {
        case 'up':
          if (silentMs >= this.#o.downAfterMs) this.#propose(`down:${m.id}`, { op: 'down', id: m.id });
          break;
        case 'down':
          if (heard) this.#propose(`up:${m.id}`, { op: 'up', id: m.id });
          else if (now - m.stateSinceMs >= this.#o.reassignAfterMs) {
            this.#propose(`evict:${m.id}`, { op: 'evict', id: m.id });
          }
          break;
        case 'evicted':
          if (heard) this.#propose(`up:${m.id}`, { op: 'up', id: m.id });
          break;
        case 'leaving':
          if (!holdsPartitions(meta, m.id)) this.#propose(`remove:${m.id}`, { op: 'remove', id: m.id });
          break;
      }
    }
  }

  /** One proposal per key at a time; failures are logged and retried by a later pass. */
  #propose(key: string, command: MetaCommand): void {
    if (this.#inFlight.has(key)) return;
    this.#inFlight.add(key);
    this.#o
      .proposeMeta(command)
      .catch((e: unknown) =>
        this.#o.log('warn', 'cluster change not applied yet', { command: key, err: String(e) }),
      )
      .finally(() => this.#inFlight.delete(key));
  }
}

function sameConf(a: ConfState, b: ConfState | undefined): boolean {
  if (b === undefined) return false;
  return sameSet(a.voters, b.voters) && sameSet(a.learners, b.learners);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

function holdsPartitions(meta: MetaState, id: string): boolean {
  return meta.groupsOf(id).some((g) => g !== 0);
}
