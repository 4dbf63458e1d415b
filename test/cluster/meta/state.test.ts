import t from 'tap';
import type { MetaState } from '../../../src/cluster/meta/state.js';
import { addr, Log } from './helpers.js';

const bytes = (s: MetaState): string => Buffer.from(s.snapshot()).toString('hex');

t.test('nothing applies before init', async (t) => {
  const log = new Log();
  const before = bytes(log.state);
  for (const cmd of [
    { op: 'join', member: addr('n2') },
    { op: 'down', id: 'n1' },
    { op: 'conf', group: 0, voters: ['n1'], learners: [] },
  ] as const) {
    t.same(log.apply(cmd), { ok: false, error: 'ERR the cluster is not initialized' });
  }
  t.equal(bytes(log.state), before);
  t.equal(log.state.initialized, false);
  t.equal(log.state.epoch, 0);
  t.same(log.state.members(), []);
  t.same(log.state.desired(0), { voters: [], learners: [] });
  t.same(log.state.groupsOf('n1'), []);
});

t.test('init founds the cluster once', async (t) => {
  const log = new Log();
  log.ok({ op: 'init', partitions: 4, replicas: 3, metaVotersMax: 5, founder: addr('n1') });
  const s = log.state;
  t.equal(s.initialized, true);
  t.equal(s.partitions, 4);
  t.equal(s.replicas, 3);
  t.equal(s.metaVotersMax, 5);
  t.equal(s.epoch, 1);
  t.same(s.members(), [{ ...addr('n1'), state: 'up', joinedIndex: 1, stateSinceMs: log.timeMs }]);
  t.same(s.desired(0), { voters: ['n1'], learners: [] });
  for (let p = 1; p <= 4; p++) t.same(s.desired(p), { voters: ['n1'], learners: [] });
  t.same(s.desired(5), { voters: [], learners: [] }, 'no such group');
  t.same(s.groupsOf('n1'), [0, 1, 2, 3, 4]);
  t.same(s.groupsOf('n2'), []);

  const before = bytes(s);
  t.same(log.apply({ op: 'init', partitions: 8, replicas: 1, metaVotersMax: 1, founder: addr('n2') }), {
    ok: false,
    error: 'ERR the cluster is already initialized',
  });
  t.equal(bytes(s), before);
});

t.test('join adds members in log order; a rejoin only updates the address', async (t) => {
  const log = Log.cluster(3);
  const s = log.state;
  t.same(
    s.members().map((m) => [m.id, m.joinedIndex, m.state]),
    [
      ['n1', 1, 'up'],
      ['n2', 2, 'up'],
      ['n3', 3, 'up'],
    ],
  );
  t.equal(s.epoch, 3);

  log.ok({ op: 'join', member: addr('n2') });
  t.equal(s.epoch, 3, 'the same address again changes nothing');

  log.ok({ op: 'down', id: 'n2' });
  const epoch = s.epoch;
  log.ok({ op: 'join', member: addr('n2', 7102) });
  t.match(s.member('n2'), { port: 7102, busPort: 17102, httpPort: 8102, state: 'down', joinedIndex: 2 });
  t.equal(s.epoch, epoch, 'an address is not a placement input');
  t.same(
    s.members().map((m) => m.id),
    ['n1', 'n2', 'n3'],
    'a rejoin keeps its place in join order',
  );
});

t.test('errors name the problem and change nothing', async (t) => {
  const log = Log.cluster(3, { partitions: 2, replicas: 3, metaVotersMax: 5 });
  const before = bytes(log.state);
  const cases: [Parameters<MetaState['apply']>[0], string][] = [
    [{ op: 'down', id: 'n9' }, "ERR no such member 'n9'"],
    [{ op: 'leave', id: 'n9' }, "ERR no such member 'n9'"],
    [{ op: 'remove', id: 'n9' }, "ERR no such member 'n9'"],
    [{ op: 'evict', id: 'n2' }, "ERR cannot evict member 'n2': it is up"],
    [
      { op: 'remove', id: 'n2' },
      "ERR cannot remove member 'n2': it is up; make it leave first (CLUSTER.LEAVE)",
    ],
    [
      { op: 'conf', group: 3, voters: ['n1'], learners: [] },
      'ERR no such group 3: this cluster has groups 0..2',
    ],
    [
      { op: 'conf', group: 1, voters: [], learners: [] },
      'ERR invalid cluster command: conf needs at least one voter',
    ],
    [
      { op: 'join', member: { ...addr('n4'), port: 0 } },
      'ERR invalid cluster command: port 0 outside 1..65535',
    ],
  ];
  for (const [cmd, error] of cases) t.same(log.apply(cmd), { ok: false, error }, JSON.stringify(cmd));
  t.equal(bytes(log.state), before);
});

t.test('cache-reset starts a new epoch only from the epoch it names', async (t) => {
  const log = Log.cluster(3);
  const s = log.state;
  const epoch = s.epoch;
  const members = JSON.stringify(s.members());
  log.ok({ op: 'cache-reset', epoch });
  t.equal(s.epoch, epoch + 1, 'the epoch it names: one up');
  t.equal(JSON.stringify(s.members()), members, 'members untouched');
  log.ok({ op: 'cache-reset', epoch });
  t.equal(s.epoch, epoch + 1, 'a second request for the same epoch (another node noticed too): no-op');
  log.ok({ op: 'cache-reset', epoch: epoch + 5 });
  t.equal(s.epoch, epoch + 1, 'an epoch not reached yet: no-op');
  t.equal(s.ring()?.epoch, s.epoch, 'the ring carries the new epoch');
});

t.test('down, up and evict follow the transition table', async (t) => {
  const log = Log.cluster(3);
  const s = log.state;
  let epoch = s.epoch;

  log.ok({ op: 'down', id: 'n2' });
  const downAt = log.timeMs;
  t.match(s.member('n2'), { state: 'down', stateSinceMs: downAt });
  t.equal(s.epoch, ++epoch);

  log.ok({ op: 'down', id: 'n2' });
  t.match(s.member('n2'), { state: 'down', stateSinceMs: downAt }, 'a repeated down keeps the first time');
  t.equal(s.epoch, epoch);

  log.ok({ op: 'up', id: 'n2' });
  t.match(s.member('n2'), { state: 'up', stateSinceMs: log.timeMs });
  t.equal(s.epoch, ++epoch);
  log.ok({ op: 'up', id: 'n2' });
  t.equal(s.epoch, epoch, 'up on an up member is a no-op');

  t.notOk(log.apply({ op: 'evict', id: 'n2' }).ok, 'only a down member is evicted');
  log.ok({ op: 'down', id: 'n2' });
  log.ok({ op: 'evict', id: 'n2' });
  t.match(s.member('n2'), { state: 'evicted', stateSinceMs: log.timeMs });
  epoch += 2;
  t.equal(s.epoch, epoch);
  log.ok({ op: 'down', id: 'n2' });
  log.ok({ op: 'evict', id: 'n2' });
  t.equal(s.member('n2')?.state, 'evicted', 'down and evict on an evicted member are no-ops');
  t.equal(s.epoch, epoch);

  log.ok({ op: 'up', id: 'n2' });
  t.equal(s.member('n2')?.state, 'up', 'an evicted member comes back up');
  t.equal(s.epoch, ++epoch);
});

t.test('leave drains a member; remove ends it once it holds no replica', async (t) => {
  const log = Log.cluster(4, { partitions: 4, replicas: 3, metaVotersMax: 5 });
  const s = log.state;
  const epoch = s.epoch;
  log.ok({ op: 'leave', id: 'n4' });
  t.equal(s.member('n4')?.state, 'leaving');
  t.equal(s.epoch, epoch + 1);
  log.ok({ op: 'leave', id: 'n4' });
  t.equal(s.epoch, epoch + 1, 'leave is idempotent');
  for (const op of ['up', 'down', 'evict'] as const) {
    t.same(log.apply({ op, id: 'n4' }), { ok: false, error: `ERR cannot ${op} member 'n4': it is leaving` });
  }

  // The partitions' leaders still report n4 in groups 2 and 4 (and in group 0, which does not count).
  log.ok({ op: 'conf', group: 0, voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
  log.ok({ op: 'conf', group: 2, voters: ['n1', 'n4', 'n3'], learners: [] });
  log.ok({ op: 'conf', group: 4, voters: ['n1', 'n2'], learners: ['n4'] });
  t.same(s.observed(2), { voters: ['n1', 'n3', 'n4'], learners: [] }, 'observed ids are sorted');
  t.same(s.groupsOf('n4'), [0, 2, 4]);
  t.same(log.apply({ op: 'remove', id: 'n4' }), {
    ok: false,
    error: "ERR cannot remove member 'n4' yet: it still holds replicas of groups 2, 4",
  });
  log.ok({ op: 'conf', group: 2, voters: ['n1', 'n2', 'n3'], learners: [] });
  log.ok({ op: 'conf', group: 4, voters: ['n1', 'n2', 'n3'], learners: [] });
  t.same(s.groupsOf('n4'), [0], 'it still hosts its group 0 replica');

  const before = s.epoch;
  log.ok({ op: 'remove', id: 'n4' });
  t.equal(s.member('n4'), undefined);
  t.equal(s.isRemoved('n4'), true);
  t.equal(s.epoch, before + 1);
  t.same(s.desired(0), { voters: ['n1', 'n2', 'n3'], learners: [] });
  t.same(s.groupsOf('n4'), [0], 'group 0 still lists it until its leader removes it');
  t.same(log.apply({ op: 'join', member: addr('n4') }), {
    ok: false,
    error: "ERR node 'n4' was removed from the cluster; a removed id cannot join again",
  });
  t.same(log.apply({ op: 'remove', id: 'n4' }), { ok: false, error: "ERR no such member 'n4'" });
});

t.test('an evicted member can be removed directly', async (t) => {
  const log = Log.cluster(3);
  log.ok({ op: 'down', id: 'n3' });
  t.notOk(log.apply({ op: 'remove', id: 'n3' }).ok, 'not while merely down');
  log.ok({ op: 'evict', id: 'n3' });
  log.ok({ op: 'remove', id: 'n3' });
  t.same(
    log.state.members().map((m) => m.id),
    ['n1', 'n2'],
  );
});

t.test('the last member can neither leave nor be removed', async (t) => {
  const log = Log.cluster(1);
  t.same(log.apply({ op: 'leave', id: 'n1' }), {
    ok: false,
    error: "ERR cannot leave: 'n1' is the last member that can hold replicas",
  });
  const two = Log.cluster(2);
  two.ok({ op: 'down', id: 'n2' });
  two.ok({ op: 'evict', id: 'n2' });
  t.notOk(two.apply({ op: 'leave', id: 'n1' }).ok, 'n1 is the only up or down member left');
  two.ok({ op: 'leave', id: 'n2' }, 0);
  two.ok({ op: 'remove', id: 'n2' });
  t.same(
    two.state.members().map((m) => m.id),
    ['n1'],
  );

  const evicted = Log.cluster(2);
  for (const id of ['n1', 'n2']) {
    evicted.ok({ op: 'down', id });
    evicted.ok({ op: 'evict', id });
  }
  evicted.ok({ op: 'remove', id: 'n2' });
  t.same(evicted.apply({ op: 'remove', id: 'n1' }), {
    ok: false,
    error: "ERR cannot remove 'n1': it is the last member",
  });
});

t.test('conf reports are recorded sorted and are not placement inputs', async (t) => {
  const log = Log.cluster(2, { partitions: 3, replicas: 3, metaVotersMax: 5 });
  const s = log.state;
  const epoch = s.epoch;
  t.equal(s.observed(1), undefined);
  log.ok({ op: 'conf', group: 1, voters: ['n2', 'n1'], learners: ['n9'] });
  t.same(s.observed(1), { voters: ['n1', 'n2'], learners: ['n9'] });
  t.equal(s.epoch, epoch);
  t.same(s.groupsOf('n9'), [1], 'a stale replica in an observed conf must still be hosted');
  const before = bytes(s);
  log.ok({ op: 'conf', group: 1, voters: ['n1', 'n2'], learners: ['n9'] });
  t.equal(bytes(s), before, 'the same report again changes nothing');
});
