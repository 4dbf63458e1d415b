import t from 'tap';
import { Inflights, Progress } from '../../src/raft/progress.js';

t.test('the in-flight window fills by count and by bytes and frees in order', (t) => {
  const w = new Inflights(3, 100);
  w.add(5, 10);
  w.add(7, 10);
  t.notOk(w.full());
  w.add(9, 10);
  t.ok(w.full(), 'three appends');
  w.freeLE(7);
  t.equal(w.count, 1);
  w.add(11, 95);
  t.ok(w.full(), '105 bytes in flight');
  w.freeFirstOne();
  t.equal(w.count, 1);
  t.throws(() => {
    w.add(12, 1);
    w.add(13, 1);
    w.add(14, 1);
  }, /full/);
  t.end();
});

t.test('a probing follower gets one append until it answers', (t) => {
  const pr = new Progress(10, false, 0, 4, 1000);
  t.notOk(pr.isPaused());
  pr.sentEntries(12, 30, 3);
  t.ok(pr.isPaused());
  t.ok(pr.maybeDecrTo(9, 5), 'the rejection answers our probe at 9');
  t.equal(pr.next, 6);
  t.notOk(pr.isPaused());
  t.notOk(pr.maybeDecrTo(9, 5), 'a duplicate rejection is stale');
  t.end();
});

t.test('a replicating follower streams ahead optimistically and falls back on rejection', (t) => {
  const pr = new Progress(10, false, 0, 4, 1000);
  pr.match = 9;
  pr.becomeReplicate();
  pr.sentEntries(12, 30, 3);
  pr.sentEntries(15, 30, 3);
  t.equal(pr.next, 16);
  t.ok(pr.maybeUpdate(12));
  t.equal(pr.inflights.count, 2, 'freed by the caller on acknowledgement');
  t.notOk(pr.maybeDecrTo(11, 0), 'rejections below match are stale');
  t.ok(pr.maybeDecrTo(13, 0));
  t.equal(pr.next, 13);
  t.end();
});

t.test('after a snapshot, probing resumes right after it', (t) => {
  const pr = new Progress(10, false, 0, 4, 1000);
  pr.becomeSnapshot({ index: 50, term: 3, confState: { voters: [], learners: [] }, sizeBytes: 0 });
  t.ok(pr.isPaused());
  pr.becomeProbe();
  t.equal(pr.next, 51);
  t.end();
});
