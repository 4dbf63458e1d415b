import t from 'tap';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry } from '../../src/raft/types.js';

const text = new TextEncoder();
const e = (term: number, index: number, data = ''): Entry => ({
  term,
  index,
  type: 'normal',
  data: text.encode(data),
});
const conf = { voters: ['a', 'b', 'c'], learners: [] };

t.test('a bootstrapped group starts from a snapshot at 1/1 holding its configuration', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  t.same(s.snapshot(), { index: 1, term: 1, confState: conf, sizeBytes: 0 });
  t.equal(s.firstIndex(), 2);
  t.equal(s.lastIndex(), 1);
  t.equal(s.term(1), 1);
  t.same(s.initialState(), { term: 1, vote: null, commit: 1 });
  t.end();
});

t.test('append drops the stored suffix it conflicts with', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  s.append([e(1, 2), e(1, 3), e(1, 4)]);
  s.append([e(2, 3, 'x')]);
  t.equal(s.lastIndex(), 3);
  t.same(
    s.entries(2, 4, Number.POSITIVE_INFINITY).map((x) => x.term),
    [1, 2],
  );
  t.throws(() => s.append([e(2, 9)]), /gap/);
  t.end();
});

t.test('entries stop at the byte limit but always return one', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  s.append([e(1, 2, 'aaaa'), e(1, 3, 'bbbb'), e(1, 4, 'cccc')]);
  t.equal(s.entries(2, 5, 1).length, 1);
  t.equal(s.entries(2, 5, 60).length, 2);
  t.equal(s.entries(2, 5, 1000).length, 3);
  t.end();
});

t.test('compaction keeps the term of the last discarded entry and needs a snapshot covering it', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  s.append([e(1, 2), e(2, 3), e(2, 4)]);
  t.throws(() => s.compact(3), /beyond snapshot/);
  s.createSnapshot(3, conf, text.encode('state'));
  s.compact(3);
  t.equal(s.firstIndex(), 4);
  t.equal(s.term(3), 2);
  t.throws(() => s.term(2), /outside/);
  t.throws(() => s.entries(3, 4, 100), /outside/);
  t.end();
});

t.test('the previous snapshot stays readable so a transfer in progress can finish', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  s.append([e(1, 2), e(1, 3), e(1, 4)]);
  s.createSnapshot(2, conf, text.encode('old-state'));
  s.createSnapshot(4, conf, text.encode('new-state'));
  t.same(s.snapshotChunk(2, 4, 3), text.encode('sta'));
  t.same(s.snapshotChunk(4, 0, 3), text.encode('new'));
  s.append([e(1, 5)]);
  s.createSnapshot(5, conf, text.encode('newest'));
  t.equal(s.snapshotChunk(2, 0, 3), null, 'two generations back is gone');
  t.end();
});

t.test('installing a received snapshot replaces the whole log', (t) => {
  const s = MemoryStorage.bootstrap(conf);
  s.append([e(1, 2), e(1, 3)]);
  const data = text.encode('0123456789');
  s.applySnapshot({ index: 10, term: 3, confState: conf, sizeBytes: 10 }, data);
  t.equal(s.firstIndex(), 11);
  t.equal(s.lastIndex(), 10);
  t.equal(s.term(10), 3);
  t.same(s.snapshotData(), data);
  t.throws(() => s.applySnapshot({ index: 12, term: 3, confState: conf, sizeBytes: 3 }, data), /size/);
  t.end();
});
