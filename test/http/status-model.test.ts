import t from 'tap';
import { clusterView, nodeView, parseClusterNodes } from '../../src/http/status-model.js';
import { parseInfo } from '../../src/metrics/info-fields.js';

const NODES = [
  'n1 127.0.0.1:7001@17001 myself,meta-leader,meta-voter up 8001 0,1,2',
  'n2 127.0.0.1:7002@17002 meta-voter up 8002 0,1,2',
  'n3 [::1]:7003@17003 meta-learner down 0 -',
  'n4 10.0.0.4:7004@17004 meta-learner evicted 8004 -',
  '',
].join('\n');

function info(id: string, extra: string[]): Map<string, string> {
  return parseInfo(
    [
      '# Server',
      `node_id:${id}`,
      'lockstep_version:0.1.0',
      'uptime_in_seconds:42',
      '# Cluster',
      'cluster_state:ok',
      `my_id:${id}`,
      'my_state:up',
      'meta_leader:n1',
      'meta_term:3',
      'cluster_epoch:5',
      'cluster_partitions:2',
      'cluster_replicas:3',
      ...extra,
    ].join('\r\n'),
  );
}

t.test('CLUSTER.NODES lines', async (t) => {
  const members = parseClusterNodes(NODES);
  t.equal(members.length, 4);
  t.same(members[0], {
    id: 'n1',
    host: '127.0.0.1',
    port: 7001,
    busPort: 17001,
    httpPort: 8001,
    state: 'up',
    flags: ['myself', 'meta-leader', 'meta-voter'],
    groups: [0, 1, 2],
  });
  t.equal(members[2]!.host, '::1', 'IPv6 without brackets');
  t.same(members[2]!.groups, []);
  t.same(parseClusterNodes('garbage\n'), []);
});

t.test('the cluster view merges every reachable node and says why the others are missing', async (t) => {
  const members = parseClusterNodes(NODES);
  const n1 = nodeView(
    info('n1', [
      'group0:role=leader,leader=n1,term=3,commit=50,applied=50',
      'group1:role=follower,leader=n2,term=2,commit=9,applied=8',
      'group2:role=leader,leader=n1,term=2,commit=4,applied=4',
      'locks_live:2',
      'locks_grants:7',
      'locks_top_contended:a,b=3,c=1',
      'queues_led_here:1',
      'queue_messages_ready:4',
      'queue_messages_inflight:1',
      'queue_deepest:orders=5',
    ]),
    members,
    { cache: { hit_ratio: 0.75, lines_S: 3 } },
  );
  t.equal(n1.id, 'n1');
  t.same(n1.locks.topContended, [
    { lock: 'a,b', contended: 3 },
    { lock: 'c', contended: 1 },
  ]);
  const n2 = nodeView(
    info('n2', [
      'group0:role=follower,leader=n1,term=3,commit=50,applied=49',
      'group1:role=leader,leader=n2,term=2,commit=11,applied=11',
      'queue_messages_ready:6',
      'queue_deepest:jobs=6,mail=1',
    ]),
    members,
    {},
  );
  const peers = new Map<string, typeof n2 | { error: string }>([
    ['n2', n2],
    ['n3', { error: 'its HTTP port is off' }],
    ['n4', { error: '10.0.0.4:8004: ECONNREFUSED' }],
  ]);
  const view = clusterView(n1, peers, [], 1000);
  t.equal(view.servedBy, 'n1');
  t.same(
    view.nodes.map((n) => [n.id, n.metaRole, n.reachable, n.state, n.groupsLed, n.error]),
    [
      ['n1', 'leader', true, 'up', 2, null],
      ['n2', 'voter', true, 'up', 1, null],
      ['n3', 'learner', false, 'down', null, 'its HTTP port is off'],
      ['n4', 'learner', false, 'evicted', null, '10.0.0.4:8004: ECONNREFUSED'],
    ],
  );
  t.same(view.nodes[0]!.panels, { cache: { hit_ratio: 0.75, lines_S: 3 } });
  t.same(
    view.groups.map((g) => [g.group, g.leader, g.commit, g.voters]),
    [
      [0, 'n1', 50, ['n1', 'n2']],
      [1, 'n2', 11, ['n1', 'n2']],
      [2, 'n1', 4, ['n1', 'n2']],
    ],
    "each group as its leader reports it (n2's commit for group 1)",
  );
  t.same(
    view.ring,
    { epoch: 5, partitions: 2, replicas: 3, nodes: ['n1', 'n2', 'n3'] },
    'evicted nodes are out of the ring',
  );
  t.same(view.queues.messages, { ready: 10, inflight: 1, delayed: 0, dead: 0 }, 'summed over the leaders');
  t.same(view.queues.deepest, [
    { queue: 'jobs', depth: 6 },
    { queue: 'orders', depth: 5 },
    { queue: 'mail', depth: 1 },
  ]);
  t.equal(view.locks.live, 2);
  t.same(clusterView(n1, new Map(), { error: 'NOPERM' }, 0).locks.table, { error: 'NOPERM' });
});
