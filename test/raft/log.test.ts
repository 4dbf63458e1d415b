import t from 'tap';
import { RaftLog, UnstableLog } from '../../src/raft/log.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { Entry } from '../../src/raft/types.js';

const e = (term: number, index: number): Entry => ({ term, index, type: 'normal', data: new Uint8Array(0) });
const conf = { voters: ['a'], learners: [] };

/** A log whose storage holds the bootstrap snapshot 1/1 followed by entries of the given terms. */
function logWithTerms(terms: number[]): RaftLog {
  const storage = MemoryStorage.bootstrap(conf);
  storage.append(terms.map((term, i) => e(term, i + 2)));
  return new RaftLog(storage, 0);
}

t.test('terms are answered across the snapshot, stable and unstable parts', (t) => {
  const log = logWithTerms([1, 2]);
  log.append([e(3, 4)]);
  t.same(
    [0, 1, 2, 3, 4, 5].map((i) => log.term(i)),
    [undefined, 1, 1, 2, 3, undefined],
  );
  t.equal(log.lastTerm(), 3);
  t.end();
});

t.test('findConflictByTerm skips every entry of a later term at once', (t) => {
  // index: 2 3 4 5 6 7
  // term:  1 1 4 4 4 6
  const log = logWithTerms([1, 1, 4, 4, 4, 6]);
  t.same(log.findConflictByTerm(7, 5), [6, 4], 'skips the term-6 entry, lands on the last term ≤ 5');
  t.same(log.findConflictByTerm(6, 3), [3, 1], 'skips all term-4 entries');
  t.same(log.findConflictByTerm(7, 6), [7, 6], 'a matching term needs no skip');
  t.same(log.findConflictByTerm(3, 0), [0, 0], 'no entry of term 0: start from the beginning');
  const storage = MemoryStorage.bootstrap(conf);
  storage.append([e(1, 2), e(2, 3), e(3, 4)]);
  storage.createSnapshot(3, conf, new Uint8Array(0));
  storage.compact(3);
  t.same(new RaftLog(storage, 0).findConflictByTerm(4, 1), [2, 0], 'below the compacted prefix: index only');
  t.end();
});

t.test('maybeAppend truncates a conflicting suffix and never commits past what it received', (t) => {
  const log = logWithTerms([1, 1, 1]);
  t.equal(log.maybeAppend(3, 1, 10, [e(2, 4), e(2, 5)]), 5);
  t.equal(log.committed, 5, 'commit is capped at the last new entry');
  t.same(
    [4, 5].map((i) => log.term(i)),
    [2, 2],
  );
  t.equal(log.maybeAppend(5, 9, 5, []), undefined, 'mismatch at prevIndex');
  t.end();
});

t.test('an entry that conflicts with a committed one is an assertion failure, not a quiet overwrite', (t) => {
  const log = logWithTerms([1, 1]);
  log.commitTo(3);
  t.throws(() => log.maybeAppend(2, 1, 3, [e(5, 3)]), /conflicts with committed/);
  t.end();
});

t.test('commit by counting only for entries of the current term (paper §5.4.2)', (t) => {
  const log = logWithTerms([1, 2, 2]);
  t.notOk(log.maybeCommit(4, 3), 'index 4 is of term 2');
  log.append([e(3, 5)]);
  t.ok(log.maybeCommit(5, 3));
  t.equal(log.committed, 5);
  t.end();
});

t.test('slices respect the byte limit across the stable/unstable boundary', (t) => {
  const log = logWithTerms([1, 1]);
  log.append([e(2, 4), e(2, 5)]);
  t.equal(log.slice(2, 6, Number.POSITIVE_INFINITY).length, 4);
  t.equal(log.slice(2, 6, 1).length, 1);
  t.equal(log.slice(2, 6, 50).length, 2);
  t.end();
});

t.test('stableTo ignores a report about entries that were overwritten since', (t) => {
  const u = new UnstableLog(5);
  u.truncateAndAppend([e(1, 5), e(1, 6)]);
  u.truncateAndAppend([e(2, 6)]);
  u.stableTo(6, 1);
  t.equal(u.entries.length, 2, 'entry 6 of term 1 is gone; nothing becomes stable');
  u.stableTo(6, 2);
  t.equal(u.entries.length, 0);
  t.equal(u.offset, 7);
  t.end();
});

t.test('committed entries are not handed out while a snapshot waits to be installed', (t) => {
  const log = logWithTerms([1]);
  log.restore({ index: 9, term: 2, confState: conf, sizeBytes: 0 });
  t.equal(log.committed, 9);
  t.notOk(log.hasNextCommittedEntries());
  t.same(log.nextCommittedEntries(100), []);
  t.end();
});
