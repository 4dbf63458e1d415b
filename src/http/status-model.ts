/**
 * The status page's data, pure: one node's view from its INFO sections and CLUSTER.NODES
 * (`NodeView`), and the cluster's from every node's view (`ClusterView`). src/http/status.ts
 * collects the inputs through the command layer; the page (status-page.html) only renders.
 */
import { namedCounts, numberField, parsePairs } from '../metrics/info-fields.js';
import type { PanelFigures } from '../metrics/source.js';

export interface MemberLine {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly busPort: number;
  readonly httpPort: number;
  readonly state: string;
  /** `myself`, `meta-leader`, `meta-voter` or `meta-learner`. */
  readonly flags: readonly string[];
  /** Groups whose (reported) voters include this member. */
  readonly groups: readonly number[];
}

/** CLUSTER.NODES: `id host:port@bus flags state httpPort groups` per line. */
export function parseClusterNodes(text: string): MemberLine[] {
  const members: MemberLine[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 6) continue;
    const [id, address, flags, state, httpPort, groups] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const m = /^(.*):(\d+)@(\d+)$/.exec(address);
    if (m === null) continue;
    members.push({
      id,
      host: m[1]!.replace(/^\[(.*)\]$/, '$1'),
      port: Number(m[2]),
      busPort: Number(m[3]),
      httpPort: Number(httpPort),
      state,
      flags: flags.split(','),
      groups: groups === '-' ? [] : groups.split(',').map(Number),
    });
  }
  return members;
}

export interface GroupLine {
  readonly group: number;
  readonly role: string;
  readonly leader: string;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
}

export interface NodeView {
  readonly id: string;
  readonly version: string;
  readonly uptimeSeconds: number;
  readonly myState: string;
  readonly clusterState: string;
  readonly metaLeader: string;
  readonly metaTerm: number;
  readonly epoch: number;
  readonly partitions: number;
  readonly replicas: number;
  readonly groups: readonly GroupLine[];
  readonly members: readonly MemberLine[];
  readonly locks: {
    readonly live: number | null;
    readonly counters: Readonly<Record<string, number>>;
    readonly topContended: readonly { lock: string; contended: number }[];
  };
  /** Over the partitions this node leads. */
  readonly queues: {
    readonly led: number;
    readonly messages: Readonly<Record<string, number>>;
    readonly deepest: readonly { queue: string; depth: number }[];
  };
  /** Panels of the metrics sources (the cache's), by source name. */
  readonly panels: Readonly<Record<string, PanelFigures>>;
}

const LOCK_COUNTERS = ['grants', 'releases', 'expirations', 'waits', 'wait_timeouts', 'deadlocks'] as const;
const MESSAGE_STATES = ['ready', 'inflight', 'delayed', 'dead'] as const;

/** One node's view from `INFO server cluster raft locks queues` and CLUSTER.NODES. */
export function nodeView(
  info: ReadonlyMap<string, string>,
  members: readonly MemberLine[],
  panels: Readonly<Record<string, PanelFigures>>,
): NodeView {
  const n = (field: string): number => numberField(info, field) ?? 0;
  const groups: GroupLine[] = [];
  for (const [field, text] of info) {
    const m = /^group(\d+)$/.exec(field);
    if (m === null) continue;
    const p = parsePairs(text);
    groups.push({
      group: Number(m[1]),
      role: p.get('role') ?? '',
      leader: p.get('leader') ?? '',
      term: Number(p.get('term') ?? 0),
      commit: Number(p.get('commit') ?? 0),
      applied: Number(p.get('applied') ?? 0),
    });
  }
  groups.sort((a, b) => a.group - b.group);
  const counters: Record<string, number> = {};
  for (const c of LOCK_COUNTERS) counters[c] = n(`locks_${c}`);
  const messages: Record<string, number> = {};
  for (const s of MESSAGE_STATES) messages[s] = n(`queue_messages_${s}`);
  return {
    id: info.get('my_id') ?? info.get('node_id') ?? '',
    version: info.get('lockstep_version') ?? '',
    uptimeSeconds: n('uptime_in_seconds'),
    myState: info.get('my_state') ?? '',
    clusterState: info.get('cluster_state') ?? '',
    metaLeader: info.get('meta_leader') ?? '',
    metaTerm: n('meta_term'),
    epoch: n('cluster_epoch'),
    partitions: n('cluster_partitions'),
    replicas: n('cluster_replicas'),
    groups,
    members,
    locks: {
      live: numberField(info, 'locks_live') ?? null,
      counters,
      topContended: namedCounts(info.get('locks_top_contended') ?? '').map(([lock, contended]) => ({
        lock,
        contended,
      })),
    },
    queues: {
      led: n('queues_led_here'),
      messages,
      deepest: namedCounts(info.get('queue_deepest') ?? '').map(([queue, depth]) => ({ queue, depth })),
    },
    panels,
  };
}

export interface LockRow {
  readonly name: string;
  readonly mode: string;
  readonly holders: readonly { owner: string; token: number; ttlMs: number }[];
  readonly waiters: number;
}

export interface NodeRow {
  readonly id: string;
  readonly address: string;
  readonly httpPort: number;
  /** Membership state as group 0 has applied it: up, down, evicted, leaving. */
  readonly state: string;
  readonly metaRole: 'leader' | 'voter' | 'learner';
  /** Whether its HTTP port answered just now. */
  readonly reachable: boolean;
  readonly error: string | null;
  /** The node's own view of itself when reachable. */
  readonly myState: string | null;
  readonly term: number | null;
  readonly uptimeSeconds: number | null;
  readonly version: string | null;
  readonly groupsLed: number | null;
  readonly panels: Readonly<Record<string, PanelFigures>>;
}

export interface ClusterView {
  readonly servedBy: string;
  readonly generatedAtMs: number;
  readonly clusterState: string;
  readonly metaLeader: string;
  /** By id (n2 before n10). */
  readonly nodes: readonly NodeRow[];
  /** Each group as its leader reports it (as this node sees it when no reachable node leads it). */
  readonly groups: readonly (GroupLine & { voters: readonly string[] })[];
  readonly ring: {
    readonly epoch: number;
    readonly partitions: number;
    readonly replicas: number;
    readonly nodes: readonly string[];
  };
  readonly locks: NodeView['locks'] & { readonly table: readonly LockRow[] | { error: string } };
  /** Summed and merged over the reachable nodes (each partition is counted by its leader). */
  readonly queues: {
    readonly messages: Readonly<Record<string, number>>;
    readonly deepest: readonly { queue: string; depth: number }[];
  };
}

export const TOP_QUEUES_SHOWN = 10;

/** The cluster from `self`'s view plus what each other member answered (a view, or why not). */
export function clusterView(
  self: NodeView,
  peers: ReadonlyMap<string, NodeView | { error: string }>,
  lockTable: readonly LockRow[] | { error: string },
  nowMs: number,
): ClusterView {
  const views = new Map<string, NodeView>([[self.id, self]]);
  for (const [id, v] of peers) if (!('error' in v)) views.set(id, v);
  const byId = [...self.members].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const nodes: NodeRow[] = byId.map((m) => {
    const v = views.get(m.id);
    const peer = peers.get(m.id);
    return {
      id: m.id,
      address: `${m.host}:${m.port}`,
      httpPort: m.httpPort,
      state: m.state,
      metaRole: m.flags.includes('meta-leader')
        ? 'leader'
        : m.flags.includes('meta-voter')
          ? 'voter'
          : 'learner',
      reachable: v !== undefined,
      error: peer !== undefined && 'error' in peer ? peer.error : null,
      myState: v?.myState ?? null,
      term: v?.metaTerm ?? null,
      uptimeSeconds: v?.uptimeSeconds ?? null,
      version: v?.version ?? null,
      groupsLed: v === undefined ? null : v.groups.filter((g) => g.role === 'leader').length,
      panels: v?.panels ?? {},
    };
  });

  const groupIds = new Set<number>();
  for (const v of views.values()) for (const g of v.groups) groupIds.add(g.group);
  const groups = [...groupIds]
    .sort((a, b) => a - b)
    .map((group) => {
      const lines = [...views.values()]
        .map((v) => v.groups.find((g) => g.group === group))
        .filter((g) => g !== undefined);
      const led = lines.find((g) => g.role === 'leader');
      const line = led ?? self.groups.find((g) => g.group === group) ?? lines[0]!;
      const voters = byId.filter((m) => m.groups.includes(group)).map((m) => m.id);
      return { ...line, voters };
    });

  const messages: Record<string, number> = {};
  let deepest: { queue: string; depth: number }[] = [];
  for (const v of views.values()) {
    for (const [state, count] of Object.entries(v.queues.messages))
      messages[state] = (messages[state] ?? 0) + count;
    deepest = deepest.concat(v.queues.deepest);
  }
  deepest.sort((a, b) => b.depth - a.depth || a.queue.localeCompare(b.queue));

  return {
    servedBy: self.id,
    generatedAtMs: nowMs,
    clusterState: self.clusterState,
    metaLeader: self.metaLeader,
    nodes,
    groups,
    ring: {
      epoch: self.epoch,
      partitions: self.partitions,
      replicas: self.replicas,
      nodes: byId.filter((m) => m.state === 'up' || m.state === 'down').map((m) => m.id),
    },
    locks: { ...self.locks, table: lockTable },
    queues: { messages, deepest: deepest.slice(0, TOP_QUEUES_SHOWN) },
  };
}
