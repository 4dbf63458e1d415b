import t from 'tap';
import { SeededRandom } from '../../src/lib/random.js';
import { RawNode } from '../../src/raft/raw-node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import { bytes, Cluster } from './cluster.js';

t.test('propose answers with the index and term, which the applied entry then carries', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const r = c.node('a').raw.propose(bytes('hello'));
  t.same(r, { ok: true, index: 3, term: 2 });
  c.stabilize();
  const applied = c.node('b').applied.at(-1)!;
  t.same([applied.index, applied.term, new TextDecoder().decode(applied.data)], [3, 2, 'hello']);
  t.end();
});

t.test('followers refuse proposals so the runtime can forward them to leaderId', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const b = c.node('b').raw;
  t.same(b.propose(bytes('x')), { ok: false, reason: 'notLeader' });
  t.equal(b.leaderId, 'a');
  t.equal(b.role, 'follower');
  t.end();
});

t.test('a single-voter group elects itself and commits in the same Ready it persists', (t) => {
  const c = new Cluster(['solo']);
  const n = c.node('solo');
  n.raw.campaign();
  t.equal(n.raw.role, 'leader');
  c.processReady('solo');
  n.raw.propose(bytes('x'));
  const rd = n.raw.ready();
  t.same(
    rd.entries.map((e) => e.index),
    [3],
  );
  t.same(
    rd.committedEntries.map((e) => e.index),
    [3],
    'persist first, then apply',
  );
  t.ok(rd.mustSync);
  t.end();
});

t.test('the Ready contract: one outstanding Ready at a time', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  const a = c.node('a').raw;
  a.campaign();
  t.ok(a.hasReady());
  a.ready();
  t.notOk(a.hasReady(), 'nothing more until advance()');
  t.throws(() => a.ready(), /before advance/);
  a.advance();
  t.throws(() => a.advance(), /without an outstanding Ready/);
  t.end();
});

t.test('a commit-only change needs no fsync', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.node('a').raw.propose(bytes('x'));
  c.processReady('a');
  for (const m of c.inflight.splice(0)) c.node(m.to).raw.step(m);
  c.processReady('b');
  c.processReady('c');
  for (const m of c.inflight.splice(0)) c.node(m.to).raw.step(m);
  const rd = c.node('a').raw.ready();
  t.equal(rd.hardState?.commit, 3);
  t.same(rd.entries, []);
  t.notOk(rd.mustSync);
  t.end();
});

t.test('election timeouts are drawn from [T, 2T) with the injected random source', (t) => {
  const timeouts = new Set<number>();
  for (let seed = 1; seed <= 60; seed++) {
    const raw = new RawNode({
      groupId: 1,
      id: 'a',
      storage: MemoryStorage.bootstrap({ voters: ['a', 'b', 'c'], learners: [] }),
      random: new SeededRandom(seed),
    });
    let ticks = 0;
    while (raw.role === 'follower') {
      raw.tick();
      ticks++;
    }
    timeouts.add(ticks);
  }
  t.ok(
    [...timeouts].every((x) => x >= 10 && x < 20),
    [...timeouts].join(','),
  );
  t.ok(timeouts.size >= 8, 'spread over the range');
  t.end();
});

t.test('many groups share a process: same node ids, no shared state', (t) => {
  const g1 = new Cluster(['a', 'b', 'c'], {}, 1);
  const g2 = new Cluster(['a', 'b', 'c'], {}, 2);
  g1.elect('a');
  g2.elect('c');
  g1.node('a').raw.propose(bytes('one'));
  g1.stabilize();
  t.equal(g1.node('b').raw.commitIndex, 3);
  t.equal(g2.node('b').raw.commitIndex, 2);
  t.equal(g2.node('b').raw.leaderId, 'c');
  const stray = { type: 'timeoutNow' as const, groupId: 1, from: 'a', to: 'b', term: 2 };
  t.throws(() => g2.node('b').raw.step(stray), /in group 1 stepped into b in group 2/);
  t.throws(() => g1.node('c').raw.step(stray), /message for b in group 1 stepped into c/);
  t.end();
});

t.test('a restarted replica keeps its term, vote and log', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.node('a').raw.propose(bytes('x'));
  c.stabilize();
  c.restart('b');
  const s = c.node('b').raw.status();
  t.same([s.term, s.vote, s.commitIndex, s.lastIndex, s.role, s.leaderId], [2, 'a', 3, 3, 'follower', null]);
  c.stabilize();
  t.same(
    c.node('b').applied.map((e) => e.index),
    [2, 3],
    'entries after the snapshot are applied again: the runtime rebuilds from the snapshot',
  );
  t.end();
});

t.test('a restart replays configuration changes up to the applied index', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  c.node('a').raw.proposeConfChange({ type: 'remove', nodeId: 'c' });
  c.stabilize();
  t.same(c.node('b').raw.status().confState.voters, ['a', 'b']);
  c.restart('b', 3);
  t.same(c.node('b').raw.status().confState.voters, ['a', 'b'], 'applied 3 includes the removal');
  c.restart('b', 0);
  t.same(
    c.node('b').raw.status().confState.voters,
    ['a', 'b', 'c'],
    'not applied yet: it comes back with the entry',
  );
  c.stabilize();
  t.same(c.node('b').raw.status().confState.voters, ['a', 'b']);
  t.end();
});

t.test('proposals beyond the uncommitted byte limit are refused as overload', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { maxUncommittedBytes: 100 });
  c.elect('a');
  const a = c.node('a').raw;
  t.ok(a.propose(new Uint8Array(60)).ok, 'the first proposal always fits');
  t.same(a.propose(new Uint8Array(60)), { ok: false, reason: 'overloaded' });
  c.stabilize();
  t.ok(a.propose(new Uint8Array(60)).ok, 'room again once applied');
  t.end();
});

t.test('configuration changes: one at a time, and only sensible ones', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const a = c.node('a').raw;
  t.same(a.proposeConfChange({ type: 'promote', nodeId: 'b' }), { ok: false, reason: 'invalidConfChange' });
  t.same(a.proposeConfChange({ type: 'addVoter', nodeId: 'b' }), { ok: false, reason: 'invalidConfChange' });
  t.ok(a.proposeConfChange({ type: 'addLearner', nodeId: 'd' }).ok);
  t.same(a.proposeConfChange({ type: 'remove', nodeId: 'b' }), { ok: false, reason: 'confChangePending' });
  t.end();
});

t.test('a new leader refuses configuration changes until its no-op is applied (thesis §4.1.1)', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  const a = c.node('a').raw;
  a.campaign();
  while (a.role !== 'leader') {
    for (const id of c.nodes.keys()) c.processReady(id);
    for (const m of c.inflight.splice(0)) c.node(m.to).raw.step(m);
  }
  t.same(a.proposeConfChange({ type: 'remove', nodeId: 'c' }), { ok: false, reason: 'confChangePending' });
  c.stabilize();
  t.ok(a.proposeConfChange({ type: 'remove', nodeId: 'c' }).ok);
  t.end();
});

t.test('reads are refused with no known leader, and confirmed at the leader otherwise', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  t.notOk(c.node('b').raw.readIndex('r0'), 'nobody leads yet');
  c.elect('a');
  t.ok(c.node('b').raw.readIndex(bytes('r1')));
  t.ok(c.node('a').raw.readIndex('r2'));
  c.stabilize();
  t.same(
    c.node('b').readStates.map((r) => [r.index, new TextDecoder().decode(r.context)]),
    [[2, 'r1']],
  );
  t.same(
    c.node('a').readStates.map((r) => [r.index, new TextDecoder().decode(r.context)]),
    [[2, 'r2']],
  );
  t.end();
});

t.test('too many pending reads are refused rather than queued without bound', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { maxPendingReads: 2 });
  c.elect('a');
  const a = c.node('a').raw;
  t.ok(a.readIndex('1'));
  t.ok(a.readIndex('2'));
  t.notOk(a.readIndex('3'));
  t.end();
});

t.test('a leader that sent TimeoutNow serves no more lease reads: a forced election ignores leases', (t) => {
  const c = new Cluster(['a', 'b', 'c'], { readOnly: 'lease' });
  for (const id of ['b', 'c']) for (let i = 0; i < 10; i++) c.node(id).raw.tick();
  c.elect('a');
  const a = c.node('a').raw;
  a.tick();
  c.stabilize();
  a.readIndex('leased');
  c.processReady('a');
  t.same(c.node('a').readStates.length, 1, 'answered from the lease');
  c.inflight = [];
  a.transferLeader('b');
  a.readIndex('after');
  const rd = a.ready();
  t.same(rd.readStates, [], 'not answered alone any more');
  t.ok(
    rd.messages.some((m) => m.type === 'heartbeat'),
    'a heartbeat round is needed',
  );
  t.end();
});

t.test('reportUnreachable stops optimistic streaming to that follower', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const a = c.node('a').raw;
  t.equal(a.status().progress!.get('b')!.state, 'replicate');
  a.reportUnreachable('b');
  t.equal(a.status().progress!.get('b')!.state, 'probe');
  t.end();
});

t.test('status exposes what the runtime routes and reports on', (t) => {
  const c = new Cluster(['a', 'b', 'c']);
  c.elect('a');
  const s = c.node('a').raw.status();
  t.same(
    [s.groupId, s.id, s.role, s.term, s.leaderId, s.commitIndex, s.appliedIndex, s.lastIndex],
    [1, 'a', 'leader', 2, 'a', 2, 2, 2],
  );
  t.same(s.confState, { voters: ['a', 'b', 'c'], learners: [] });
  t.equal(c.node('b').raw.status().progress, null, 'progress is the leader’s view only');
  t.end();
});
