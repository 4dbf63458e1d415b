import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { ConfState, Entry, HardState, SnapshotMetadata } from '../../src/raft/types.js';
import type { GroupStorage } from '../../src/raft-runtime/group-storage.js';
import { RaftDb, type RaftDbOptions } from '../../src/raft-runtime/raft-db.js';

const text = new TextEncoder();
const conf: ConfState = { voters: ['a', 'b', 'c'], learners: [] };
const e = (term: number, index: number, data = ''): Entry => ({
  term,
  index,
  type: 'normal',
  data: text.encode(data),
});
const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));
const plain = (entries: readonly Entry[]) =>
  entries.map((x) => ({ term: x.term, index: x.index, type: x.type, data: hex(x.data) }));

/** A database in a fresh directory of the test's fixture dir; `fsync: 'no'` keeps tests fast. */
function openDb(t: Test, options: Partial<RaftDbOptions> = {}): { db: RaftDb; dir: string } {
  const dir = t.testdir();
  const db = RaftDb.open(dir, { fsync: 'no', ...options });
  t.teardown(() => db.close());
  return { db, dir };
}

function bootstrap(db: RaftDb, groupId = 1, data = new Uint8Array(0)): GroupStorage {
  return db.createGroup(groupId, { confState: conf, data });
}

t.test('a bootstrapped group starts from a snapshot at 1/1 holding its configuration', (t) => {
  const { db } = openDb(t);
  const s = bootstrap(db, 1, text.encode('init'));
  t.same(s.snapshot(), { index: 1, term: 1, confState: conf, sizeBytes: 4 });
  t.equal(s.firstIndex(), 2);
  t.equal(s.lastIndex(), 1);
  t.equal(s.term(1), 1);
  t.same(s.initialState(), { term: 1, vote: null, commit: 1 });
  t.equal(hex(s.snapshotData()), hex(text.encode('init')));
  t.end();
});

t.test('a joining group starts empty', (t) => {
  const { db } = openDb(t);
  const s = db.createGroup(7);
  t.same(s.snapshot(), { index: 0, term: 0, confState: { voters: [], learners: [] }, sizeBytes: 0 });
  t.equal(s.firstIndex(), 1);
  t.equal(s.lastIndex(), 0);
  t.equal(s.term(0), 0);
  t.same(s.initialState(), { term: 0, vote: null, commit: 0 });
  t.end();
});

t.test('append drops the stored suffix it conflicts with, also after a reopen', (t) => {
  const { db, dir } = openDb(t);
  const s = bootstrap(db);
  db.batch(() => s.append([e(1, 2), e(1, 3), e(1, 4)]));
  db.batch(() => s.append([e(2, 3, 'x')]));
  t.equal(s.lastIndex(), 3);
  t.same(
    s.entries(2, 4, Number.POSITIVE_INFINITY).map((x) => x.term),
    [1, 2],
  );
  t.throws(() => db.batch(() => s.append([e(2, 9)])), /gap/);
  db.close();
  const again = RaftDb.open(dir, { fsync: 'no' });
  t.teardown(() => again.close());
  const r = again.openGroup(1)!;
  t.equal(r.lastIndex(), 3);
  t.same(plain(r.entries(2, 4, 1000)), plain([e(1, 2), e(2, 3, 'x')]));
  t.end();
});

t.test('entries stop at the byte limit but always return one, from the cache and from SQLite', (t) => {
  for (const tailCacheBytes of [0, 4 * 1024 * 1024]) {
    const { db } = openDb(t, { tailCacheBytes });
    const s = bootstrap(db);
    db.batch(() => s.append([e(1, 2, 'aaaa'), e(1, 3, 'bbbb'), e(1, 4, 'cccc')]));
    t.equal(s.entries(2, 5, 1).length, 1);
    t.equal(s.entries(2, 5, 60).length, 2);
    t.equal(s.entries(2, 5, 1000).length, 3);
    t.same(s.entries(3, 3, 1000), []);
    t.throws(() => s.entries(1, 3, 1000), /outside/);
    t.throws(() => s.entries(2, 6, 1000), /outside/);
  }
  t.end();
});

t.test('the tail cache evicts by bytes; older entries come from SQLite', (t) => {
  const { db } = openDb(t, { tailCacheBytes: 3 * 34 });
  const s = bootstrap(db);
  const entries = Array.from({ length: 10 }, (_, i) => e(1, i + 2, `entry-${i}`.padEnd(10, '.')));
  db.batch(() => s.append(entries));
  t.equal(s.tailCacheBytes, 3 * 34, 'three entries of 10 bytes + 24 overhead');
  t.same(plain(s.entries(2, 12, Number.POSITIVE_INFINITY)), plain(entries));
  t.same(
    entries.map((x) => s.term(x.index)),
    entries.map((x) => x.term),
  );
  t.end();
});

t.test('compaction keeps the term of the last discarded entry and needs a snapshot covering it', (t) => {
  const { db } = openDb(t);
  const s = bootstrap(db);
  db.batch(() => s.append([e(1, 2), e(2, 3), e(2, 4)]));
  t.throws(() => db.batch(() => s.compact(3)), /beyond snapshot/);
  db.batch(() => {
    s.createSnapshot(3, conf, text.encode('state'));
    s.compact(3);
  });
  t.equal(s.firstIndex(), 4);
  t.equal(s.term(3), 2);
  t.throws(() => s.term(2), /outside/);
  t.throws(() => s.entries(3, 4, 100), /outside/);
  t.end();
});

t.test('the previous snapshot stays readable so a transfer in progress can finish', (t) => {
  const { db } = openDb(t, { snapshotPieceBytes: 3 });
  const s = bootstrap(db);
  db.batch(() => {
    s.append([e(1, 2), e(1, 3), e(1, 4)]);
    s.createSnapshot(2, conf, text.encode('old-state'));
    s.createSnapshot(4, conf, text.encode('new-state'));
  });
  t.equal(hex(s.snapshotChunk(2, 4, 3)), hex(text.encode('sta')));
  t.equal(hex(s.snapshotChunk(4, 0, 3)), hex(text.encode('new')));
  t.equal(hex(s.snapshotChunk(4, 2, 5)), hex(text.encode('w-sta')), 'a chunk across pieces');
  t.equal(hex(s.snapshotChunk(4, 9, 5)), '', 'at the end: empty');
  t.throws(() => s.snapshotChunk(4, 10, 5), /out of range/);
  t.equal(s.snapshotChunk(1, 0, 3), null, 'two generations back is gone');
  t.equal(hex(s.snapshotData()), hex(text.encode('new-state')));
  t.end();
});

t.test('a staged snapshot installs only when complete and replaces the log', (t) => {
  const { db, dir } = openDb(t, { snapshotPieceBytes: 4 });
  const s = bootstrap(db);
  db.batch(() => s.append([e(1, 2), e(1, 3)]));
  const data = text.encode('0123456789');
  const meta: SnapshotMetadata = { index: 10, term: 3, confState: conf, sizeBytes: 10 };
  db.batch(() => s.stageChunk({ snapshot: meta, offset: 0, data: data.subarray(0, 4) }));
  t.throws(
    () => db.batch(() => s.stageChunk({ snapshot: meta, offset: 6, data: data.subarray(6) })),
    /order/,
  );
  t.throws(() => db.batch(() => s.installStaged(meta)), /without its chunks/);

  // Staging survives a restart; the core would restart from 0, but the rows are consistent.
  db.close();
  const db2 = RaftDb.open(dir, { fsync: 'no', snapshotPieceBytes: 4 });
  t.teardown(() => db2.close());
  const s2 = db2.openGroup(1)!;
  let restored: Uint8Array | undefined;
  db2.batch(() => {
    s2.stageChunk({ snapshot: meta, offset: 4, data: data.subarray(4, 7) });
    s2.stageChunk({ snapshot: meta, offset: 7, data: data.subarray(7) });
    restored = s2.installStaged(meta);
  });
  t.equal(hex(restored!), hex(data));
  t.equal(s2.firstIndex(), 11);
  t.equal(s2.lastIndex(), 10);
  t.equal(s2.term(10), 3);
  t.same(s2.snapshot(), meta);
  t.equal(hex(s2.snapshotData()), hex(data));
  t.equal(hex(s2.snapshotChunk(10, 3, 5)), hex(text.encode('34567')));
  t.equal(db2.sqlite.prepare('SELECT count(*) FROM raft_staging').pluck().get(), 0, 'staging emptied');

  // A new staging area (offset 0) discards an unfinished one.
  const next: SnapshotMetadata = { index: 20, term: 4, confState: conf, sizeBytes: 2 };
  db2.batch(() => {
    s2.stageChunk({ snapshot: { ...next, index: 19 }, offset: 0, data: text.encode('z') });
    s2.stageChunk({ snapshot: next, offset: 0, data: text.encode('ab') });
    t.equal(hex(s2.installStaged(next)), hex(text.encode('ab')));
  });
  t.same(s2.snapshot(), next);
  t.end();
});

t.test('an empty snapshot stages and installs', (t) => {
  const { db } = openDb(t);
  const s = db.createGroup(3);
  const meta: SnapshotMetadata = { index: 5, term: 2, confState: conf, sizeBytes: 0 };
  db.batch(() => {
    s.stageChunk({ snapshot: meta, offset: 0, data: new Uint8Array(0) });
    t.equal(s.installStaged(meta).byteLength, 0);
  });
  t.equal(s.lastIndex(), 5);
  t.equal(hex(s.snapshotChunk(5, 0, 100)), '');
  t.end();
});

// --- Property: GroupStorage behaves as MemoryStorage, through reopens and rollbacks ---

type Action =
  | { readonly kind: 'append'; readonly entries: Entry[] }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'createSnapshot'; readonly index: number; readonly data: Uint8Array }
  | { readonly kind: 'compact'; readonly index: number }
  | {
      readonly kind: 'install';
      readonly meta: SnapshotMetadata;
      readonly data: Uint8Array;
      readonly chunkBytes: number;
    };

/** An abstract step, resolved against the model's current state into an `Action`. */
type Step =
  | { readonly kind: 'append'; readonly back: number; readonly count: number; readonly term: number }
  | {
      readonly kind: 'hardState';
      readonly term: number;
      readonly vote: string | null;
      readonly commit: number;
    }
  | { readonly kind: 'createSnapshot'; readonly at: number; readonly data: Uint8Array }
  | { readonly kind: 'compact'; readonly at: number }
  | {
      readonly kind: 'install';
      readonly ahead: number;
      readonly term: number;
      readonly data: Uint8Array;
      readonly chunkBytes: number;
    };

interface Op {
  readonly step: Step;
  /** Run the action in a batch that then throws: nothing of it may remain. */
  readonly rollback: 'no' | 'outer' | 'nested';
  readonly reopenAfter: boolean;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      back: fc.integer({ min: -1, max: 6 }),
      count: fc.integer({ min: 0, max: 6 }),
      term: fc.integer({ min: 1, max: 4 }),
    }),
  },
  fc.record({
    kind: fc.constant('hardState' as const),
    term: fc.nat(9),
    vote: fc.constantFrom(null, 'a', 'b'),
    commit: fc.nat(30),
  }),
  fc.record({ kind: fc.constant('createSnapshot' as const), at: fc.nat(40), data: bytes(40) }),
  fc.record({ kind: fc.constant('compact' as const), at: fc.nat(40) }),
  fc.record({
    kind: fc.constant('install' as const),
    ahead: fc.integer({ min: -1, max: 8 }),
    term: fc.integer({ min: 1, max: 5 }),
    data: bytes(40),
    chunkBytes: fc.integer({ min: 1, max: 16 }),
  }),
);
const opArb: fc.Arbitrary<Op> = fc.record({
  step: stepArb,
  rollback: fc.constantFrom('no', 'no', 'no', 'outer', 'nested'),
  reopenAfter: fc.boolean(),
});

/** Turns a step into a concrete action; some are invalid on purpose (both sides must refuse). */
function resolve(step: Step, m: MemoryStorage): Action {
  const snap = m.snapshot();
  const last = m.lastIndex();
  switch (step.kind) {
    case 'append': {
      // back = -1 leaves a gap; large values reach below the compaction point.
      const start = last + 1 - step.back;
      const entries = Array.from({ length: step.count }, (_, i) =>
        e(step.term, start + i, `${start + i}/${step.term}`),
      );
      return { kind: 'append', entries };
    }
    case 'hardState':
      return { kind: 'hardState', hardState: { term: step.term, vote: step.vote, commit: step.commit } };
    case 'createSnapshot':
      return {
        kind: 'createSnapshot',
        index: snap.index + (step.at % (last - snap.index + 2)),
        data: step.data,
      };
    case 'compact':
      return { kind: 'compact', index: m.firstIndex() - 2 + (step.at % (snap.index - m.firstIndex() + 4)) };
    case 'install': {
      const meta = {
        index: snap.index + step.ahead,
        term: step.term,
        confState: { voters: ['a'], learners: ['b'] },
        sizeBytes: step.data.byteLength,
      };
      return { kind: 'install', meta, data: step.data, chunkBytes: step.chunkBytes };
    }
  }
}

function applyToModel(a: Action, m: MemoryStorage): void {
  switch (a.kind) {
    case 'append':
      m.append(a.entries);
      break;
    case 'hardState':
      m.setHardState(a.hardState);
      break;
    case 'createSnapshot':
      m.createSnapshot(a.index, conf, a.data);
      break;
    case 'compact':
      m.compact(a.index);
      break;
    case 'install':
      m.applySnapshot(a.meta, a.data);
      break;
  }
}

function applyToGroup(a: Action, g: GroupStorage): void {
  switch (a.kind) {
    case 'append':
      g.append(a.entries);
      break;
    case 'hardState':
      g.setHardState(a.hardState);
      break;
    case 'createSnapshot':
      g.createSnapshot(a.index, conf, a.data);
      break;
    case 'compact':
      g.compact(a.index);
      break;
    case 'install': {
      // In chunks, as they come from the leader; an empty snapshot is one empty chunk.
      let offset = 0;
      do {
        const data = a.data.subarray(offset, offset + a.chunkBytes);
        g.stageChunk({ snapshot: a.meta, offset, data });
        offset += data.byteLength;
      } while (offset < a.data.byteLength);
      g.installStaged(a.meta);
      break;
    }
  }
}

/** Every read of the `Storage` interface, over the whole readable range. */
function assertSameReads(m: MemoryStorage, g: GroupStorage, snapshotIndexes: ReadonlySet<number>): void {
  const same = (what: string, a: unknown, b: unknown) => {
    const ja = JSON.stringify(a);
    const jb = JSON.stringify(b);
    if (ja !== jb) throw new Error(`${what}: memory ${ja} vs sqlite ${jb}`);
  };
  same('initialState', m.initialState(), g.initialState());
  same('firstIndex', m.firstIndex(), g.firstIndex());
  same('lastIndex', m.lastIndex(), g.lastIndex());
  same('snapshot', m.snapshot(), g.snapshot());
  same('snapshotData', hex(m.snapshotData()), hex(g.snapshotData()));
  const first = m.firstIndex();
  const last = m.lastIndex();
  for (let i = first - 1; i <= last; i++) same(`term(${i})`, m.term(i), g.term(i));
  for (const maxBytes of [0, 70, Number.POSITIVE_INFINITY]) {
    for (let lo = first; lo <= last + 1; lo++) {
      same(
        `entries(${lo}, ${last + 1}, ${maxBytes})`,
        plain(m.entries(lo, last + 1, maxBytes)),
        plain(g.entries(lo, last + 1, maxBytes)),
      );
    }
  }
  for (const index of snapshotIndexes) {
    const whole = m.snapshotChunk(index, 0, Number.POSITIVE_INFINITY);
    same(
      `snapshotChunk(${index}, 0, 7)`,
      hex(m.snapshotChunk(index, 0, 7)),
      hex(g.snapshotChunk(index, 0, 7)),
    );
    if (whole === null) continue;
    const mid = Math.floor(whole.byteLength / 2);
    same(
      `snapshotChunk(${index}, ${mid}, 5)`,
      hex(m.snapshotChunk(index, mid, 5)),
      hex(g.snapshotChunk(index, mid, 5)),
    );
  }
}

t.test('GroupStorage reads as MemoryStorage after any sequence of writes, reopens and rollbacks', (t) => {
  const root = t.testdir();
  let run = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(0, 120, 4 * 1024 * 1024),
      fc.integer({ min: 1, max: 9 }),
      fc.array(opArb, { maxLength: 30 }),
      (tailCacheBytes, snapshotPieceBytes, ops) => {
        const dir = mkdtempSync(join(root, `run-${run++}-`));
        const options: RaftDbOptions = { fsync: 'no', tailCacheBytes, snapshotPieceBytes };
        let db = RaftDb.open(dir, options);
        try {
          const model = MemoryStorage.bootstrap(conf);
          let g = bootstrap(db, 1);
          // A neighbour written in the same batches must be unaffected by group 1's writes.
          let neighbour = bootstrap(db, 2, text.encode('other'));
          let neighbourLast = 1;
          const snapshotIndexes = new Set<number>([1]);
          for (const op of ops) {
            const action = resolve(op.step, model);
            if (action.kind === 'createSnapshot') snapshotIndexes.add(action.index);
            if (action.kind === 'install') snapshotIndexes.add(action.meta.index);
            let modelError: unknown = null;
            if (op.rollback === 'no') {
              try {
                applyToModel(action, model);
              } catch (error) {
                modelError = error;
              }
            }
            let groupError: unknown = null;
            try {
              db.batch(() => {
                neighbour.append([e(1, neighbourLast + 1, 'n')]);
                if (op.rollback === 'nested') {
                  try {
                    db.batch(() => {
                      applyToGroup(action, g);
                      throw new Error('inner');
                    });
                  } catch {
                    // The outer batch must still roll back.
                  }
                } else {
                  applyToGroup(action, g);
                }
                if (op.rollback === 'outer') throw new Error('outer');
              });
              neighbourLast++;
            } catch (error) {
              groupError = error;
            }
            if (op.rollback === 'no' && (modelError === null) !== (groupError === null)) {
              throw new Error(
                `${JSON.stringify(action)}: memory threw ${String(modelError)}, sqlite threw ${String(groupError)}`,
              );
            }
            if (op.rollback !== 'no' && groupError === null) throw new Error('a failing batch committed');
            if (op.reopenAfter) {
              db.close();
              db = RaftDb.open(dir, options);
              g = db.openGroup(1)!;
              neighbour = db.openGroup(2)!;
            }
            assertSameReads(model, g, snapshotIndexes);
            if (neighbour.lastIndex() !== neighbourLast) throw new Error('neighbour lost entries');
          }
          const all = neighbour.entries(2, neighbourLast + 1, Number.POSITIVE_INFINITY);
          if (all.some((x, i) => x.index !== i + 2)) throw new Error('neighbour log broken');
        } finally {
          db.close();
        }
      },
    ),
    { numRuns: 150 },
  );
  t.pass('150 random histories');
  t.end();
});
