import { setWallClockSkew } from '../lib/clock-skew.js';
import { errors, ReplyError } from '../lib/errors.js';
import { bulk, OK, type Reply } from '../resp/reply.js';
import type { Dispatcher } from '../server/dispatcher.js';
import type { InfoRegistry } from '../server/info.js';
import type { ClusterNode } from './cluster-node.js';
import { clusterFields, clusterNodesText, raftFields, raftInfoFields, renderFields } from './status.js';

/** CLUSTER.* and RAFT.* handlers, and the `cluster` and `raft` INFO sections. */
export function registerClusterCommands(
  dispatcher: Dispatcher,
  info: InfoRegistry,
  node: ClusterNode,
  debugEnabled: boolean,
): void {
  dispatcher.register('cluster.info', () => text(renderFields(clusterFields(node))));
  dispatcher.register('cluster.nodes', () => text(clusterNodesText(node)));
  dispatcher.register('cluster.join', (_ctx, args) => node.joinCluster(parseAddress(String(args[1]))));
  dispatcher.register('cluster.leave', (_ctx, args) => {
    const id = String(args[1]);
    const meta = node.meta;
    if (meta?.initialized && meta.member(id) === undefined) {
      throw new ReplyError('NOTFOUND', `no member '${id}' in the cluster`);
    }
    return node.proposeMeta({ op: 'leave', id });
  });
  dispatcher.register('raft.info', (_ctx, args) => {
    const groupId = args.length > 1 ? groupArg(args[1]!, node) : 0;
    const fields = raftFields(node, groupId);
    if (fields === undefined) {
      throw new ReplyError('ERR', `group ${groupId} has no replica on node ${node.id}`);
    }
    return text(renderFields(fields));
  });
  dispatcher.register('raft.transfer', async (_ctx, args) => {
    const reply: Reply = await node.transfer(groupArg(args[1]!, node), String(args[2]));
    return reply;
  });
  dispatcher.register('raft.noop', (_ctx, args) => node.noop(args.length > 1 ? groupArg(args[1]!, node) : 0));

  const requireDebug = (): void => {
    if (!debugEnabled) {
      throw new ReplyError(
        'ERR',
        'DEBUG commands are disabled; start the node with --enable-debug-command yes',
      );
    }
  };
  dispatcher.register('debug.partition', (_ctx, args) => {
    requireDebug();
    node.transport.partition(new Set(args.slice(1).map(String)));
    return OK;
  });
  dispatcher.register('debug.clockskew', (_ctx, args) => {
    requireDebug();
    const offset = String(args[1]);
    if (!/^-?\d{1,10}$/.test(offset)) throw errors.notInteger();
    setWallClockSkew(Number(offset));
    return OK;
  });

  info.add('cluster', 'Cluster', () => clusterFields(node));
  info.add('raft', 'Raft', () => raftInfoFields(node));
}

function text(s: string): Reply {
  return bulk(s);
}

function groupArg(arg: Buffer, node: ClusterNode): number {
  const s = String(arg);
  if (!/^\d{1,6}$/.test(s)) throw errors.notInteger();
  const groupId = Number(s);
  const partitions = node.meta?.initialized ? node.meta.partitions : Number.POSITIVE_INFINITY;
  if (groupId > partitions) throw new ReplyError('ERR', `no group ${groupId}: groups are 0..${partitions}`);
  return groupId;
}

function parseAddress(s: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(s);
  const port = m === null ? 0 : Number(m[2]);
  if (m === null || port < 1 || port > 65535) {
    throw new ReplyError('ERR', `invalid address '${s}': expected host:port`);
  }
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
