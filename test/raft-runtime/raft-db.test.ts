import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import type { ConfState, Entry, SnapshotMetadata } from '../../src/raft/types.js';
import type { GroupStorage } from '../../src/raft-runtime/group-storage.js';
import { type FsyncMode, RaftDb } from '../../src/raft-runtime/raft-db.js';

const text = new TextEncoder();
const conf: ConfState = { voters: ['n1', 'n2', 'n3'], learners: [] };
const e = (term: number, index: number, data = `${index}`): Entry => ({
  term,
  index,
  type: 'normal',
  data: text.encode(data),
});
const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));

function openDb(t: Test, fsync: FsyncMode = 'no'): { db: RaftDb; dir: string } {
  const dir = t.testdir();
  const db = RaftDb.open(dir, { fsync });
  t.teardown(() => db.close());
  return { db, dir };
}

/** Everything a group shows through its reads, for before/after comparisons. */
function describeGroup(g: GroupStorage) {
  return {
    hardState: g.initialState(),
    first: g.firstIndex(),
    last: g.lastIndex(),
    snapshot: g.snapshot(),
    snapshotData: hex(g.snapshotData()),
    entries: g
      .entries(g.firstIndex(), g.lastIndex() + 1, Number.POSITIVE_INFINITY)
      .map((x) => `${x.index}/${x.term}/${x.type}/${hex(x.data)}`),
    terms: Array.from({ length: g.lastIndex() - g.firstIndex() + 2 }, (_, i) =>
      g.term(g.firstIndex() - 1 + i),
    ),
  };
}

// --- The crash test's child: appends until killed (runs when this file is spawned with the env) ---

const CRASH_DIR_ENV = 'LOCKSTEP_TEST_RAFT_DB_CRASH_DIR';
const CRASH_FSYNC_ENV = 'LOCKSTEP_TEST_RAFT_DB_CRASH_FSYNC';
const CRASH_GROUPS = [1, 2, 3];
const entryData = (groupId: number, index: number, term: number) => `${groupId}:${index}:${term}`;
const snapshotData = (groupId: number, index: number) => text.encode(`snap:${groupId}:${index};`.repeat(40));

function runCrashWriter(dir: string, fsync: FsyncMode): void {
  const db = RaftDb.open(dir, { fsync, tailCacheBytes: 16 * 1024, snapshotPieceBytes: 256 });
  const groups = CRASH_GROUPS.map(
    (id) => db.openGroup(id) ?? db.createGroup(id, { confState: conf, data: snapshotData(id, 1) }),
  );
  process.stdout.write('ready\n');
  for (let batch = 1; ; batch++) {
    db.batch(() => {
      for (const g of groups) writeOneBatch(g, batch);
    });
    // Pipes are synchronous on Linux: once written, the parent will see the line.
    if (batch % 10 === 0) process.stdout.write(`committed ${groups.map((g) => g.lastIndex()).join(' ')}\n`);
  }
}

/** One Ready's worth for one group: appends (sometimes over a conflicting suffix), hard state, snapshots. */
function writeOneBatch(g: GroupStorage, batch: number): void {
  const term = g.initialState().term + (batch % 13 === 0 ? 1 : 0);
  // Every 13th batch a new term rewrites the last two entries, as a new leader would.
  const start = batch % 13 === 0 ? Math.max(g.firstIndex(), g.lastIndex() - 1) : g.lastIndex() + 1;
  const entries = Array.from({ length: 1 + (batch % 7) }, (_, i) => {
    const index = start + i;
    return { term, index, type: 'normal' as const, data: text.encode(entryData(g.groupId, index, term)) };
  });
  g.append(entries);
  g.setHardState({ term, vote: 'n1', commit: g.lastIndex() - 3 });
  if (g.groupId === 3 && batch % 40 === 0) {
    // A snapshot from the leader, in chunks, replacing the log.
    const meta: SnapshotMetadata = {
      index: g.lastIndex() + 5,
      term,
      confState: conf,
      sizeBytes: snapshotData(3, g.lastIndex() + 5).byteLength,
    };
    const data = snapshotData(3, meta.index);
    for (let offset = 0; offset < data.byteLength; offset += 300) {
      g.stageChunk({ snapshot: meta, offset, data: data.subarray(offset, offset + 300) });
    }
    g.installStaged(meta);
    g.setHardState({ term, vote: 'n1', commit: meta.index });
  } else if (batch % 25 === 0) {
    const at = g.lastIndex() - 5;
    if (at > g.snapshot().index) {
      g.createSnapshot(at, conf, snapshotData(g.groupId, at));
      g.compact(at - 3);
    }
  }
}

const crashDir = process.env[CRASH_DIR_ENV];
if (crashDir !== undefined) {
  runCrashWriter(crashDir, process.env[CRASH_FSYNC_ENV] as FsyncMode);
} else {
  runTests();
}

function runTests(): void {
  t.test('open creates raft.sqlite in WAL mode with the fsync mode as synchronous', (t) => {
    const expected: Record<FsyncMode, number> = { always: 2, everysec: 1, no: 0 };
    for (const fsync of ['always', 'everysec', 'no'] as const) {
      const { db, dir } = openDb(t, fsync);
      t.ok(existsSync(join(dir, 'raft.sqlite')), `${fsync}: file created`);
      t.equal(db.sqlite.pragma('journal_mode', { simple: true }), 'wal');
      t.equal(db.sqlite.pragma('synchronous', { simple: true }), expected[fsync], `${fsync}: synchronous`);
      const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
      db.batch(() => g.append([e(1, 2)]));
      t.equal(db.stats().transactions, 2);
    }
    t.end();
  });

  t.test('everysec checkpoints the WAL once a second', { timeout: 10_000 }, async (t) => {
    const { db } = openDb(t, 'everysec');
    const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
    db.batch(() => g.append([e(1, 2)]));
    const calls: string[] = [];
    const pragma = db.sqlite.pragma.bind(db.sqlite);
    db.sqlite.pragma = (source, options) => {
      calls.push(source);
      return pragma(source, options);
    };
    await new Promise((resolve) => setTimeout(resolve, 1300));
    t.same(calls, ['wal_checkpoint(PASSIVE)']);
  });

  t.test('a database of another schema version is refused', (t) => {
    const { db, dir } = openDb(t);
    db.sqlite.pragma('user_version = 99');
    db.close();
    t.throws(() => RaftDb.open(dir, { fsync: 'no' }), /schema version 99/);
    t.end();
  });

  t.test('groups: create, list, open, destroy', (t) => {
    const { db } = openDb(t);
    t.same(db.groupIds(), []);
    t.equal(db.openGroup(1), undefined);
    const g5 = db.createGroup(5, { confState: conf, data: text.encode('x') });
    const g1 = db.createGroup(1);
    t.same(db.groupIds(), [1, 5]);
    t.equal(db.openGroup(5), g5, 'one instance per group');
    t.throws(() => db.createGroup(1), /already exists/);
    t.throws(() => db.createGroup(-1), /bad group id/);
    db.batch(() => g5.append([e(1, 2), e(1, 3)]));
    db.destroyGroup(5);
    t.same(db.groupIds(), [1]);
    t.equal(db.openGroup(5), undefined);
    t.throws(() => g5.lastIndex(), /destroyed/);
    for (const table of ['raft_entries', 'raft_snapshots', 'raft_snapshot_pieces', 'raft_hard_state']) {
      const count = db.sqlite.prepare(`SELECT count(*) FROM ${table} WHERE group_id = 5`).pluck().get();
      t.equal(count, 0, `${table} has no rows of group 5`);
    }
    db.destroyGroup(5);
    const again = db.createGroup(5);
    t.equal(again.lastIndex(), 0, 'an id can be reused after destroy');
    t.equal(g1.lastIndex(), 0);
    t.end();
  });

  t.test('writes outside a batch and async batches are refused', (t) => {
    const { db } = openDb(t);
    const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
    t.throws(() => g.append([e(1, 2)]), /outside db.batch/);
    t.throws(() => g.setHardState({ term: 2, vote: null, commit: 1 }), /outside db.batch/);
    t.throws(() => db.batch((async () => {}) as () => void), /synchronous/);
    t.equal(g.lastIndex(), 1);
    t.end();
  });

  t.test('several groups interleaved in one batch commit together and survive a reopen', (t) => {
    const { db, dir } = openDb(t);
    const groups = [0, 1, 2, 16].map((id) =>
      db.createGroup(id, { confState: conf, data: text.encode(`g${id}`) }),
    );
    for (let round = 0; round < 20; round++) {
      db.batch(() => {
        for (const g of groups) {
          g.append([e(2, g.lastIndex() + 1, `${g.groupId}-${round}`), e(2, g.lastIndex() + 2)]);
          g.setHardState({ term: 2, vote: `n${g.groupId}`, commit: g.lastIndex() - 1 });
        }
        if (round === 10) {
          groups[1]!.createSnapshot(15, conf, text.encode('snap-15'));
          groups[1]!.compact(12);
        }
      });
    }
    const before = groups.map(describeGroup);
    t.same(db.stats().entriesAppended, 4 * 20 * 2);
    db.close();
    const reopened = RaftDb.open(dir, { fsync: 'no' });
    t.teardown(() => reopened.close());
    t.same(reopened.groupIds(), [0, 1, 2, 16]);
    t.same(
      [0, 1, 2, 16].map((id) => describeGroup(reopened.openGroup(id)!)),
      before,
    );
    t.equal(reopened.openGroup(1)!.firstIndex(), 13);
    t.end();
  });

  t.test('a batch that throws leaves storage and caches as they were', (t) => {
    const { db } = openDb(t);
    const a = db.createGroup(1, { confState: conf, data: text.encode('a') });
    const b = db.createGroup(2, { confState: conf, data: text.encode('b') });
    db.batch(() => {
      a.append([e(1, 2), e(1, 3), e(1, 4)]);
      b.append([e(1, 2)]);
    });
    const before = [describeGroup(a), describeGroup(b)];
    const statsBefore = db.stats();
    t.throws(
      () =>
        db.batch(() => {
          a.append([e(2, 3, 'conflict'), e(2, 4), e(2, 5)]);
          a.setHardState({ term: 2, vote: 'n2', commit: 4 });
          a.createSnapshot(4, conf, text.encode('new'));
          a.compact(3);
          b.append([e(1, 3)]);
          db.createGroup(3);
          db.destroyGroup(2);
          throw new Error('boom');
        }),
      /boom/,
    );
    t.same([describeGroup(a), describeGroup(b)], before, 'reads (cache and database) unchanged');
    t.equal(db.openGroup(2), b, 'the destroyed group is back, same instance');
    t.equal(db.openGroup(3), undefined, 'the created group is gone');
    t.same(db.groupIds(), [1, 2]);
    t.equal(db.stats().entriesAppended, statsBefore.entriesAppended, 'appends of a rollback are not counted');
    t.equal(db.stats().rollbacks, 1);
    // The storage keeps working after the rollback.
    db.batch(() => a.append([e(3, 5)]));
    t.same(
      a.entries(2, 6, 1000).map((x) => x.term),
      [1, 1, 1, 3],
    );
    t.end();
  });

  t.test('a failed nested batch rolls back the outer one even if the error is caught', (t) => {
    const { db } = openDb(t);
    const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
    t.throws(
      () =>
        db.batch(() => {
          g.append([e(1, 2)]);
          try {
            db.batch(() => {
              g.append([e(1, 3)]);
              throw new Error('inner');
            });
          } catch {
            // ignored on purpose
          }
        }),
      /inner/,
    );
    t.equal(g.lastIndex(), 1);
    // A nested batch that succeeds simply joins the outer one.
    db.batch(() => {
      g.append([e(1, 2)]);
      db.batch(() => g.append([e(1, 3)]));
    });
    t.equal(g.lastIndex(), 3);
    t.equal(db.stats().transactions, 2, 'createGroup and the last batch');
    t.end();
  });

  t.test('the state machine shares the transaction through db.sqlite', (t) => {
    const { db } = openDb(t);
    db.sqlite.exec('CREATE TABLE app (k TEXT PRIMARY KEY, v TEXT)');
    const put = db.sqlite.prepare('INSERT OR REPLACE INTO app VALUES (?, ?)');
    const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
    t.throws(() =>
      db.batch(() => {
        g.append([e(1, 2)]);
        put.run('k', 'v');
        throw new Error('boom');
      }),
    );
    t.equal(db.sqlite.prepare('SELECT count(*) FROM app').pluck().get(), 0);
    t.end();
  });

  t.test('stats count committed batches, entries and bytes', (t) => {
    const { db } = openDb(t);
    const g = db.createGroup(1, { confState: conf, data: new Uint8Array(0) });
    db.batch(() => g.append([e(1, 2, 'abc'), e(1, 3, 'de')]));
    db.batch(() => g.append([e(2, 3, 'xyz')]));
    const s = db.stats();
    t.equal(s.transactions, 3);
    t.equal(s.entriesAppended, 3);
    t.equal(s.bytesAppended, 8);
    t.ok(s.lastTxnMs >= 0 && s.maxTxnMs >= s.lastTxnMs);
    t.end();
  });

  for (const fsync of ['always', 'no'] as const) {
    t.test(
      `after kill -9 mid-writes (fsync ${fsync}) the database reopens consistent`,
      { timeout: 60_000 },
      async (t) => {
        const dir = t.testdir();
        // The same file three times: each writer reopens what the previous one left behind.
        for (let round = 1; round <= 3; round++) {
          const committed = await runAndKill(t, dir, fsync);
          t.equal(
            committed.length,
            CRASH_GROUPS.length,
            `round ${round}: the child committed ${committed.join(' ')}`,
          );
          checkCrashedDb(t, dir, committed);
        }
      },
    );
  }
}

function checkCrashedDb(t: Test, dir: string, committed: readonly number[]): void {
  const db = RaftDb.open(dir, { fsync: 'no' });
  try {
    t.equal(db.sqlite.pragma('integrity_check', { simple: true }), 'ok');
    t.same(db.groupIds(), CRASH_GROUPS);
    for (const [i, id] of CRASH_GROUPS.entries()) {
      const g = db.openGroup(id)!;
      const first = g.firstIndex();
      const last = g.lastIndex();
      t.ok(last >= committed[i]!, `group ${id}: last index ${last} ≥ last reported ${committed[i]}`);
      const entries = g.entries(first, last + 1, Number.POSITIVE_INFINITY);
      t.equal(entries.length, last - first + 1, `group ${id}: entries ${first}..${last} contiguous`);
      const bad = entries.filter((x) => Buffer.from(x.data).toString() !== entryData(id, x.index, x.term));
      t.same(bad, [], `group ${id}: every entry holds what was written at its index and term`);
      const rows = db.sqlite.prepare('SELECT count(*) FROM raft_entries WHERE group_id = ?').pluck().get(id);
      t.equal(rows, last - first + 1, `group ${id}: no stray rows`);
      const hs = g.initialState();
      t.ok(
        hs.term >= 1 && hs.vote === 'n1' && hs.commit <= last,
        `group ${id}: hard state ${JSON.stringify(hs)}`,
      );
      const snap = g.snapshot();
      t.ok(first - 1 <= snap.index, `group ${id}: snapshot ${snap.index} covers the compacted prefix`);
      t.equal(hex(g.snapshotData()), hex(snapshotData(id, snap.index)), `group ${id}: snapshot bytes`);
      t.ok(g.term(first - 1) >= 1, `group ${id}: term of the compaction point`);
    }
  } finally {
    db.close();
  }
}

/** Spawns this file as the writer, kills it 200 ms after it starts writing; returns its last reported last indexes. */
function runAndKill(t: Test, dir: string, fsync: FsyncMode): Promise<number[]> {
  // Keep only the TypeScript loader of the test runner; the child needs nothing else.
  const loader = process.execArgv.filter((a) => a.includes('typescript') || a === '--enable-source-maps');
  const child = spawn(process.execPath, [...loader, fileURLToPath(import.meta.url)], {
    env: { ...process.env, NODE_OPTIONS: '', [CRASH_DIR_ENV]: dir, [CRASH_FSYNC_ENV]: fsync },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let lastCommitted: number[] = [];
  let buffered = '';
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the writer never started'));
    }, 30_000);
    t.teardown(() => {
      clearTimeout(guard);
      child.kill('SIGKILL');
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), 200);
        if (line.startsWith('committed ')) lastCommitted = line.slice(10).split(' ').map(Number);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL')
        reject(new Error(`the writer exited by itself: code ${code}, signal ${signal}`));
      else resolve(lastCommitted);
    });
  });
}
