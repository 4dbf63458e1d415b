import type { CommandSpec } from '../types.js';

const since = '0.2.0';

/** CLUSTER.* and RAFT.*: membership, placement and the Raft groups (DESIGN.md §4–5). */
export const clusterCommands: readonly CommandSpec[] = [
  {
    name: 'cluster.info',
    arity: 1,
    flags: ['readonly', 'stale', 'fast'],
    categories: ['cluster', 'read'],
    group: 'cluster',
    since,
    summary: 'Returns the state of the cluster as this node sees it.',
    arguments: [],
    reply:
      'Bulk string of `field:value` lines (cluster_state, cluster_size, cluster_epoch, meta_leader, ...).',
  },
  {
    name: 'cluster.nodes',
    arity: 1,
    flags: ['readonly', 'stale'],
    categories: ['cluster', 'read'],
    group: 'cluster',
    since,
    summary: 'Lists the members: id, addresses, flags, state and the replicas each holds.',
    arguments: [],
    reply:
      'Bulk string, one line per member: `<id> <host>:<port>@<bus-port> <flags> <state> <http-port> <groups>` (flags: myself, meta-leader, meta-voter or meta-learner; groups: the Raft groups it is a voter of).',
  },
  {
    name: 'cluster.join',
    arity: 2,
    flags: ['admin', 'stale'],
    categories: ['cluster', 'admin', 'write'],
    group: 'cluster',
    since,
    summary: 'Makes this node, while it is alone in a cluster of its own, join the cluster at host:port.',
    arguments: [{ name: 'address', type: 'string', display: 'host:port' }],
    reply:
      'Simple string OK once the cluster accepted the node; its state then arrives from the meta leader.',
  },
  {
    name: 'cluster.leave',
    arity: 2,
    flags: ['admin', 'write'],
    categories: ['cluster', 'admin', 'write'],
    group: 'cluster',
    since,
    summary: 'Removes a node: its replicas move to other nodes, then it leaves group 0.',
    arguments: [{ name: 'node-id', type: 'string' }],
    reply: 'Simple string OK once the leave is committed; the move completes in the background.',
  },
  {
    name: 'raft.info',
    arity: -1,
    flags: ['readonly', 'stale', 'fast'],
    categories: ['cluster', 'read'],
    group: 'cluster',
    since,
    summary: "Returns this node's view of a Raft group (default 0, the meta group).",
    arguments: [{ name: 'group', type: 'integer', optional: true }],
    reply: 'Bulk string of `field:value` lines (role, leader_id, term, commit_index, applied_index, ...).',
  },
  {
    name: 'raft.transfer',
    arity: 3,
    flags: ['admin', 'write'],
    categories: ['cluster', 'admin', 'write'],
    group: 'cluster',
    since,
    summary: 'Hands leadership of a Raft group to one of its voters.',
    arguments: [
      { name: 'group', type: 'integer' },
      { name: 'node-id', type: 'string' },
    ],
    reply: 'Simple string OK when the transfer has started.',
  },
  {
    name: 'raft.noop',
    arity: -1,
    flags: ['write'],
    categories: ['cluster', 'write'],
    group: 'cluster',
    since,
    summary:
      'Commits an empty command through a Raft group (default 0): a health check and benchmark of consensus.',
    arguments: [{ name: 'group', type: 'integer', optional: true }],
    reply: 'Integer: the log index the command was applied at.',
  },
  {
    name: 'debug.partition',
    arity: -1,
    flags: ['admin', 'stale'],
    categories: ['admin'],
    group: 'cluster',
    since,
    summary:
      'Fault injection (only with --enable-debug-command yes): cuts this node off from the named nodes on the bus; no names heals.',
    arguments: [{ name: 'node-id', type: 'string', optional: true, multiple: true }],
    reply: 'Simple string OK.',
  },
  {
    name: 'debug.clockskew',
    arity: 2,
    flags: ['admin', 'stale'],
    categories: ['admin'],
    group: 'cluster',
    since,
    summary:
      "Fault injection (only with --enable-debug-command yes): moves this node's wall clock (Date.now) by offset ms, as a stepped NTP clock would; 0 restores it. The monotonic clock is left alone.",
    arguments: [{ name: 'offset-ms', type: 'integer' }],
    reply: 'Simple string OK.',
  },
];
