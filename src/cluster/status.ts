import type { ClusterNode } from './cluster-node.js';

/** `field:value` pairs, the shape of INFO, CLUSTER.INFO and RAFT.INFO alike. */
export type Fields = [string, string | number][];

export function renderFields(fields: Fields): string {
  let text = '';
  for (const [k, v] of fields) text += `${k}:${v}\r\n`;
  return text;
}

/** CLUSTER.INFO and `INFO cluster`. */
export function clusterFields(node: ClusterNode): Fields {
  const meta = node.meta;
  const g0 = node.host.group(0);
  const members = meta?.initialized ? meta.members() : [];
  const me = meta?.member(node.id);
  const metaLeader = g0?.raw.leaderId ?? '';
  const ok = meta?.initialized === true && me !== undefined && metaLeader !== '' && !node.controller.left;
  let led = 0;
  for (const id of node.host.groupIds()) if (node.host.group(id)?.isLeader) led++;
  return [
    ['cluster_enabled', 1],
    ['cluster_state', ok ? 'ok' : 'fail'],
    ['cluster_size', members.length],
    ['cluster_members_up', members.filter((m) => m.state === 'up').length],
    ['cluster_members_down', members.filter((m) => m.state === 'down' || m.state === 'evicted').length],
    ['cluster_epoch', meta?.initialized ? meta.epoch : 0],
    ['cluster_partitions', meta?.initialized ? meta.partitions : 0],
    ['cluster_replicas', meta?.initialized ? meta.replicas : 0],
    ['meta_leader', metaLeader],
    ['meta_term', g0?.raw.term ?? 0],
    ['my_id', node.id],
    ['my_state', node.joining ? 'joining' : node.controller.left ? 'left' : (me?.state ?? 'unknown')],
    ['raft_groups_hosted', node.host.groupIds().length],
    ['raft_groups_led', led],
  ];
}

/** CLUSTER.NODES: one line per member. */
export function clusterNodesText(node: ClusterNode): string {
  const meta = node.meta;
  if (meta === undefined || !meta.initialized) return '';
  const leader = node.host.group(0)?.raw.leaderId ?? null;
  const groupCount = meta.partitions;
  const voterGroups = new Map<string, number[]>();
  for (let g = 0; g <= groupCount; g++) {
    for (const id of meta.observed(g)?.voters ?? []) {
      const list = voterGroups.get(id) ?? [];
      list.push(g);
      voterGroups.set(id, list);
    }
  }
  const metaVoters = new Set(meta.observed(0)?.voters ?? meta.desired(0).voters);
  let text = '';
  for (const m of meta.members()) {
    const flags: string[] = [];
    if (m.id === node.id) flags.push('myself');
    if (m.id === leader) flags.push('meta-leader');
    flags.push(metaVoters.has(m.id) ? 'meta-voter' : 'meta-learner');
    const groups = voterGroups.get(m.id)?.join(',') ?? '-';
    text += `${m.id} ${m.host}:${m.port}@${m.busPort} ${flags.join(',')} ${m.state} ${m.httpPort} ${groups}\n`;
  }
  return text;
}

/** RAFT.INFO group; undefined when the group has no replica on this node. */
export function raftFields(node: ClusterNode, groupId: number): Fields | undefined {
  const replica = node.host.group(groupId);
  if (replica === undefined) return undefined;
  const s = replica.raw.status();
  const storage = replica.storage;
  const fields: Fields = [
    ['group', groupId],
    ['node_id', node.id],
    ['role', s.role],
    ['leader_id', s.leaderId ?? ''],
    ['term', s.term],
    ['vote', s.vote ?? ''],
    ['commit_index', s.commitIndex],
    ['applied_index', replica.appliedIndex],
    ['first_index', storage.firstIndex()],
    ['last_index', s.lastIndex],
    ['snapshot_index', storage.snapshot().index],
    ['voters', s.confState.voters.join(',')],
    ['learners', s.confState.learners.join(',')],
    ['pending_proposals', replica.pendingProposals],
    ['sessions', replica.machine.sessionCount],
    ['duplicate_requests', replica.machine.duplicates],
    ['state_time_ms', replica.machine.timeMs],
  ];
  if (s.progress !== null) {
    for (const [id, p] of s.progress) {
      if (id === node.id) continue;
      fields.push([
        `follower_${id}`,
        `match=${p.match},next=${p.next},state=${p.state},learner=${p.isLearner ? 1 : 0}`,
      ]);
    }
  }
  return fields;
}

/** `INFO raft`: one summary line per hosted group, plus storage and event-loop figures. */
export function raftInfoFields(node: ClusterNode): Fields {
  const db = node.db.stats();
  const host = node.host.stats();
  const fields: Fields = [
    ['raft_groups', node.host.groupIds().length],
    ['raft_ready_cycles', host.readyCycles],
    ['raft_messages_sent', host.messagesSent],
    ['raft_messages_received', host.messagesReceived],
    ['raft_messages_dropped', host.messagesDropped],
    ['raft_snapshots_taken', host.snapshotsTaken],
    ['raft_forwarded_served', node.forwarder.served],
    ['raft_forwards_in_flight', node.forwarder.inFlight],
    ['raft_proposal_retries', node.proposer.retries],
    ['storage_transactions', db.transactions],
    ['storage_entries_appended', db.entriesAppended],
    ['storage_last_txn_ms', db.lastTxnMs.toFixed(3)],
    ['storage_max_txn_ms', db.maxTxnMs.toFixed(3)],
    ['event_loop_delay_p99_ms', host.eventLoopDelayP99Ms.toFixed(2)],
    ['event_loop_delay_max_ms', host.eventLoopDelayMaxMs.toFixed(2)],
  ];
  for (const id of node.host.groupIds()) {
    const r = node.host.group(id)!;
    fields.push([
      `group${id}`,
      `role=${r.raw.role},leader=${r.raw.leaderId ?? ''},term=${r.raw.term},commit=${r.raw.commitIndex},applied=${r.appliedIndex}`,
    ]);
  }
  return fields;
}
