import type Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { ByteReader, ByteWriter } from '../../src/lib/byte-codec.js';
import { SeededRandom } from '../../src/lib/random.js';
import { encodeEnvelope } from '../../src/raft-runtime/envelope.js';
import { RaftHost } from '../../src/raft-runtime/host.js';
import type { ApplyContext, DurableStateMachine } from '../../src/raft-runtime/machine.js';
import { RaftDb } from '../../src/raft-runtime/raft-db.js';
import { int, type Reply } from '../../src/resp/reply.js';

/**
 * A durable machine in miniature: a sum kept in a table of its own. It counts how it was
 * opened, so the tests see whether a replica loaded its rows or restored a snapshot.
 */
class SumMachine implements DurableStateMachine {
  readonly durable = true;
  sum = 0;
  loads = 0;
  restores = 0;
  applies = 0;
  #dirty = false;
  #stmt: { get: Database.Statement<[number], number>; put: Database.Statement<[number, number]> };

  constructor(
    readonly groupId: number,
    sqlite: Database.Database,
  ) {
    sqlite.exec('CREATE TABLE IF NOT EXISTS test_sum (group_id INTEGER PRIMARY KEY, sum INTEGER NOT NULL)');
    this.#stmt = {
      get: sqlite.prepare<[number], number>('SELECT sum FROM test_sum WHERE group_id = ?').pluck(),
      put: sqlite.prepare('INSERT OR REPLACE INTO test_sum VALUES (?, ?)'),
    };
  }

  apply(payload: Uint8Array, _ctx: ApplyContext): Reply {
    this.applies++;
    this.sum += new ByteReader(payload).varint();
    this.#dirty = true;
    return int(this.sum);
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter(8);
    w.varint(this.sum);
    return w.finish();
  }

  restore(data: Uint8Array): void {
    this.restores++;
    this.sum = data.byteLength === 0 ? 0 : new ByteReader(data).varint();
    this.#dirty = true;
  }

  load(): void {
    this.loads++;
    this.sum = this.#stmt.get.get(this.groupId) ?? 0;
  }

  persist(): void {
    if (this.#dirty) this.#stmt.put.run(this.groupId, this.sum);
    this.#dirty = false;
  }

  destroy(): void {}
}

function openHost(t: Test, dir: string, snapshotAfterEntries = 1_000_000) {
  const db = RaftDb.open(dir, { fsync: 'no' });
  const machines = new Map<number, SumMachine>();
  const host = new RaftHost({
    nodeId: 'n1',
    db,
    send: () => true,
    flush: () => {},
    machineFor: (groupId) => {
      const m = new SumMachine(groupId, db.sqlite);
      machines.set(groupId, m);
      return m;
    },
    random: new SeededRandom(7),
    tickMs: 10,
    electionTimeoutTicks: 5,
    heartbeatTicks: 1,
    maxInflightMsgs: 64,
    maxMsgBytes: 1 << 20,
    snapshotChunkBytes: 1 << 16,
    snapshotAfterEntries,
    log: () => {},
  });
  host.start();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    host.close();
    db.close();
  };
  t.teardown(close);
  return { db, host, machines, close };
}

async function leads(host: RaftHost, groupId: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (host.group(groupId)?.isLeader) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no leader');
}

let seq = 0;
function add(host: RaftHost, groupId: number, n: number): Promise<Reply | undefined> {
  const w = new ByteWriter(8);
  w.varint(n);
  seq++;
  return host.propose(
    groupId,
    encodeEnvelope({ timeMs: Date.now(), session: 'test.1', seq, ackedBelow: seq, payload: w.finish() }),
  );
}

t.test('a durable machine reopens at its stored index instead of replaying', async (t) => {
  const dir = t.testdir();
  const first = openHost(t, dir);
  first.host.createGroup(1, ['n1']);
  first.host.campaign(1);
  await leads(first.host, 1);
  let last: Reply | undefined;
  for (let i = 1; i <= 20; i++) last = await add(first.host, 1, i);
  t.same(last, int(210));
  const applied = first.host.group(1)!.appliedIndex;
  t.same(first.db.machineRows.applied(1)?.index, applied, 'the applied index is stored with the rows');
  t.equal(first.db.machineRows.sessions(1).length, 1, 'the session is stored as a row');
  first.close();

  const second = openHost(t, dir);
  const m = second.machines.get(1)!;
  t.equal(m.loads, 1, 'loaded its rows');
  t.equal(m.restores, 0, 'did not restore the snapshot');
  t.equal(m.sum, 210);
  t.equal(second.host.group(1)!.appliedIndex, applied);
  await leads(second.host, 1);
  t.equal(m.applies, 0, 'replayed nothing it had stored');
  // A retry of an already-applied request is answered from the stored session, not re-applied.
  const retry = await second.host.propose(
    1,
    encodeEnvelope({
      timeMs: Date.now(),
      session: 'test.1',
      seq,
      ackedBelow: seq,
      payload: Uint8Array.of(5),
    }),
  );
  t.same(retry, int(210), 'the stored session deduplicates across the restart');
  t.same(await add(second.host, 1, 5), int(215));
  second.close();
});

t.test('rows older than the snapshot are replaced from the snapshot, then replayed', async (t) => {
  const dir = t.testdir();
  const first = openHost(t, dir, 10);
  first.host.createGroup(1, ['n1']);
  first.host.campaign(1);
  await leads(first.host, 1);
  for (let i = 0; i < 25; i++) await add(first.host, 1, 2);
  t.ok(first.host.group(1)!.storage.snapshot().index > 1, 'a snapshot was taken');
  first.close();
  // Simulate rows that fell behind the snapshot (as after an installed snapshot whose apply
  // transaction was lost): the replica must not trust them.
  const raw = RaftDb.open(dir, { fsync: 'no' });
  raw.sqlite.prepare('UPDATE machine_applied SET applied_index = 1').run();
  raw.sqlite.prepare('UPDATE test_sum SET sum = 999').run();
  raw.close();

  const second = openHost(t, dir, 10);
  const m = second.machines.get(1)!;
  t.equal(m.loads, 0);
  t.equal(m.restores, 1, 'restored the snapshot');
  await leads(second.host, 1);
  t.same(await add(second.host, 1, 0), int(50), 'snapshot plus replay gives the right sum');
  t.equal(second.db.sqlite.prepare('SELECT sum FROM test_sum').pluck().get(), 50, 'rows rewritten');
  second.close();
});

t.test('destroying a replica deletes its machine rows', async (t) => {
  const dir = t.testdir();
  const h = openHost(t, dir);
  h.host.createGroup(2, ['n1']);
  h.host.campaign(2);
  await leads(h.host, 2);
  await add(h.host, 2, 3);
  t.ok(h.db.machineRows.applied(2));
  h.host.destroyGroup(2);
  t.equal(h.db.machineRows.applied(2), undefined);
  t.same(h.db.machineRows.sessions(2), []);
});
