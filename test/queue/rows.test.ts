import fc from 'fast-check';
import t, { type Test } from 'tap';
import { CodecError } from '../../src/lib/byte-codec.js';
import { QueueCodecError } from '../../src/queue/commands.js';
import {
  decodeMessageRow,
  decodeSnapshot,
  encodeMessageRow,
  encodeSnapshot,
  sortRows,
  validateRows,
} from '../../src/queue/rows.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import type { DedupRow, MessageRow, QueueRow, QueueRows } from '../../src/queue/types.js';

const utf8 = new TextEncoder();
const p = (s: string): Uint8Array => utf8.encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A machine with every kind of row: all four message states, dedup keys, a config-only queue. */
function busyMachine(): QueueStateMachine {
  const m = QueueStateMachine.empty();
  let index = 0;
  const at = (timeMs: number, cmd: Parameters<QueueStateMachine['apply']>[0]) =>
    m.apply(cmd, { index: ++index, timeMs });
  at(0, { op: 'config', queue: 'jobs', maxDeliveries: 1 });
  at(0, { op: 'push', queue: 'jobs', payloads: [p('a'), p('b'), p('c'), p('')], dedupKey: 'k1', delayMs: 0 });
  at(1, { op: 'push', queue: 'jobs', payloads: [p('later')], delayMs: 5000 });
  at(2, { op: 'pop', queue: 'jobs', count: 2, visibilityMs: 10 });
  at(20, { op: 'pop', queue: 'jobs', count: 1, visibilityMs: 10_000 });
  at(21, { op: 'push', queue: 'ÿ/ünïcødé', payloads: [p('x')], dedupKey: '𝄞', delayMs: 0 });
  at(22, { op: 'config', queue: 'configured', maxLen: 7, visibilityMs: 3 });
  at(23, { op: 'push', queue: 'a', payloads: [new Uint8Array(70_000).fill(9)], delayMs: 0 });
  return m;
}

t.test('the empty machine has no rows and a 2-byte snapshot', async (t) => {
  const rows = QueueStateMachine.empty().rows();
  t.same(rows, { queues: [], messages: [], dedup: [] });
  t.equal(hex(encodeSnapshot(rows)), '0100');
  t.same(decodeSnapshot(Uint8Array.of(1, 0)), rows);
});

t.test('a busy machine round-trips through its snapshot and through fromRows', async (t) => {
  const m = busyMachine();
  const rows = m.rows();
  t.same(
    rows.messages.map((r) => `${r.queue}/${r.index}-${r.pos}:${r.state}`),
    [
      'a/8-0:ready',
      'jobs/2-0:dead',
      'jobs/2-1:dead',
      'jobs/2-2:inflight',
      'jobs/2-3:ready',
      'jobs/3-0:delayed',
      'ÿ/ünïcødé/6-0:ready',
    ],
  );
  t.same(
    rows.queues.map((q) => q.name),
    ['a', 'configured', 'jobs', 'ÿ/ünïcødé'],
  );
  const bytes = encodeSnapshot(rows);
  const decoded = decodeSnapshot(bytes);
  t.same(decoded, rows);
  t.equal(hex(encodeSnapshot(decoded)), hex(bytes), 'canonical');
  const restored = QueueStateMachine.fromRows(decoded.queues, decoded.messages, decoded.dedup);
  t.same(restored.rows(), rows);
  for (let i = 1; i <= 6; i++) {
    const ctx = { index: 100 + i, timeMs: 30 + 4000 * i };
    const cmd = i % 2 === 0 ? ({ op: 'pop', queue: 'jobs', count: 5 } as const) : ({ op: 'tick' } as const);
    t.same(restored.apply(cmd, ctx), m.apply(cmd, ctx), `step ${i}`);
    t.equal(restored.nextDeadlineMs(), m.nextDeadlineMs());
  }
  t.equal(hex(encodeSnapshot(restored.rows())), hex(encodeSnapshot(m.rows())));
});

t.test('the snapshot does not depend on the order of the rows', async (t) => {
  const rows = busyMachine().rows();
  const bytes = hex(encodeSnapshot(rows));
  fc.assert(
    fc.property(
      fc.shuffledSubarray([...rows.queues], { minLength: rows.queues.length }),
      fc.shuffledSubarray([...rows.messages], { minLength: rows.messages.length }),
      fc.shuffledSubarray([...rows.dedup], { minLength: rows.dedup.length }),
      (queues, messages, dedup) => {
        const shuffled: QueueRows = { queues, messages, dedup };
        if (hex(encodeSnapshot(shuffled)) !== bytes) throw new Error('order changed the bytes');
        const m = QueueStateMachine.fromRows(queues, messages, dedup);
        t.same(m.rows(), rows);
        t.same(sortRows(shuffled), rows);
      },
    ),
    { numRuns: 30 },
  );
});

function refuses(t: Test, rows: QueueRows, pattern: RegExp): void {
  t.throws(() => validateRows(rows), QueueCodecError);
  try {
    QueueStateMachine.fromRows(rows.queues, rows.messages, rows.dedup);
    t.fail('fromRows accepted it');
  } catch (e) {
    t.type(e, QueueCodecError);
    t.match((e as Error).message, pattern);
  }
  t.throws(() => encodeSnapshot(rows), QueueCodecError, 'encode refuses it too');
}

t.test('rows the machine could not be in are refused', async (t) => {
  const q: QueueRow = {
    name: 'q',
    maxDeliveries: 5,
    visibilityMs: 30_000,
    maxLen: 0,
    pushed: 1,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
  };
  const msg: MessageRow = {
    queue: 'q',
    index: 1,
    pos: 0,
    payload: p('a'),
    state: 'ready',
    deliveries: 0,
    visibleAtMs: 0,
    dedupKey: null,
  };
  const d: DedupRow = { queue: 'q', key: 'k', index: 1, count: 1, expiresAtMs: 10 };
  validateRows({ queues: [q], messages: [msg], dedup: [d] });
  refuses(t, { queues: [q], messages: [], dedup: [] }, /empty with the default config/);
  refuses(t, { queues: [], messages: [msg], dedup: [] }, /which has no row/);
  refuses(t, { queues: [q], messages: [], dedup: [{ ...d, queue: 'r' }] }, /which has no row/);
  refuses(t, { queues: [q, q], messages: [msg], dedup: [] }, /two rows/);
  refuses(t, { queues: [q], messages: [msg, { ...msg, payload: p('b') }], dedup: [] }, /two rows/);
  refuses(t, { queues: [q], messages: [], dedup: [d, { ...d, index: 2 }] }, /two rows/);
  refuses(
    t,
    { queues: [q], messages: [{ ...msg, visibleAtMs: 5 }], dedup: [] },
    /ready message with visibleAtMs/,
  );
  refuses(
    t,
    { queues: [q], messages: [{ ...msg, state: 'dead', visibleAtMs: 5 }], dedup: [] },
    /dead message/,
  );
  refuses(
    t,
    { queues: [q], messages: [{ ...msg, state: 'inflight', visibleAtMs: 5 }], dedup: [] },
    /never delivered/,
  );
  refuses(t, { queues: [q], messages: [{ ...msg, state: 'gone' as 'ready' }], dedup: [] }, /state "gone"/);
  refuses(t, { queues: [q], messages: [{ ...msg, index: 0 }], dedup: [] }, /message index 0/);
  refuses(t, { queues: [q], messages: [{ ...msg, pos: 10_000 }], dedup: [] }, /message position 10000/);
  refuses(t, { queues: [q], messages: [{ ...msg, deliveries: -1 }], dedup: [] }, /deliveries -1/);
  refuses(t, { queues: [q], messages: [{ ...msg, dedupKey: '' }], dedup: [] }, /dedup key/);
  refuses(
    t,
    { queues: [q], messages: [{ ...msg, payload: 'a' as unknown as Uint8Array }], dedup: [] },
    /payload/,
  );
  refuses(t, { queues: [{ ...q, visibilityMs: 0 }], messages: [msg], dedup: [] }, /visibilityMs 0/);
  refuses(t, { queues: [{ ...q, pushed: 1.5 }], messages: [msg], dedup: [] }, /pushed 1.5/);
  refuses(t, { queues: [{ ...q, name: '' }], messages: [], dedup: [] }, /queue name/);
  refuses(t, { queues: [q], messages: [], dedup: [{ ...d, count: 0 }] }, /dedup count 0/);
  t.doesNotThrow(
    () => validateRows({ queues: [{ ...q, maxLen: 3 }], messages: [], dedup: [] }),
    'a config-only queue is fine',
  );
});

function snapshotRefuses(t: Test, bytesHex: string, pattern: RegExp): void {
  try {
    decodeSnapshot(Buffer.from(bytesHex, 'hex'));
    t.fail(`decoded ${bytesHex}`);
  } catch (e) {
    t.type(e, QueueCodecError);
    t.type(e, CodecError);
    t.match((e as Error).message, pattern);
  }
}

t.test('garbage snapshots are refused', async (t) => {
  snapshotRefuses(t, '', /truncated/);
  snapshotRefuses(t, '02', /unknown version 2/);
  snapshotRefuses(t, '010000', /trailing/);
  snapshotRefuses(t, '0105', /cannot fit/);
  // Queue "q" with the default config, nothing in it.
  const header = '0171' + '05' + 'b0ea01' + '00' + '00000000';
  snapshotRefuses(t, '01' + '01' + header + '00' + '00', /empty with the default config/);
  // Two queues out of order.
  const cfg = '0171' + '05' + '01' + '00' + '00000000' + '0000';
  const cfgP = '0170' + '05' + '01' + '00' + '00000000' + '0000';
  snapshotRefuses(t, '01' + '02' + cfg + cfgP, /ascending name order/);
  // Messages out of order: 2-0 then 1-0.
  const message = (index: string) => index + '00' + '00' + '00' + '00' + '00' + '00';
  snapshotRefuses(
    t,
    '01' + '01' + header + '02' + message('02') + message('01') + '00',
    /ascending id order/,
  );
  snapshotRefuses(
    t,
    '01' + '01' + header + '02' + message('01') + message('01') + '00',
    /ascending id order/,
  );
  // Unknown state 4.
  snapshotRefuses(t, '01' + '01' + header + '01' + '0100' + '04' + '000000' + '00' + '00', /state 4/);
  // Dedup keys out of order.
  const dd = (k: string) => '01' + Buffer.from(k).toString('hex') + '01' + '01' + '05';
  snapshotRefuses(t, '01' + '01' + header + '00' + '02' + dd('b') + dd('a'), /dedup keys not in ascending/);
  t.same(
    decodeSnapshot(Buffer.from('01' + '01' + header + '00' + '02' + dd('a') + dd('b'), 'hex')).dedup.map(
      (d) => d.key,
    ),
    ['a', 'b'],
  );
});

t.test('every truncation of a snapshot is refused, random bytes never crash', async (t) => {
  const bytes = encodeSnapshot(busyMachine().rows());
  for (let n = 0; n < bytes.length; n += n < 200 ? 1 : 997) {
    t.throws(() => decodeSnapshot(bytes.subarray(0, n)), QueueCodecError, `prefix ${n}`);
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (garbage) => {
      const b = Uint8Array.of(1, ...garbage);
      try {
        const rows = decodeSnapshot(b);
        if (hex(encodeSnapshot(rows)) !== hex(b)) throw new Error(`${hex(b)} is not canonical`);
      } catch (e) {
        if (!(e instanceof QueueCodecError)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
  // Single byte flips of a real snapshot: refused or decoded canonically, never a crash.
  const small = encodeSnapshot(busyMachine().rows()).subarray(0);
  const sample = Array.from({ length: 400 }, (_, i) => (i * 7919) % small.length);
  for (const i of sample) {
    const flipped = small.slice();
    flipped[i] = flipped[i]! ^ 0x41;
    try {
      const rows = decodeSnapshot(flipped);
      t.equal(hex(encodeSnapshot(rows)), hex(flipped), `flip at ${i} decoded canonically`);
    } catch (e) {
      if (!(e instanceof QueueCodecError)) throw e;
    }
  }
  t.pass('no crash');
});

t.test('one message row round-trips', async (t) => {
  for (const row of busyMachine().rows().messages) {
    const bytes = encodeMessageRow(row);
    t.same(decodeMessageRow(bytes), row);
    t.throws(() => decodeMessageRow(bytes.subarray(0, bytes.length - 1)), QueueCodecError);
  }
  t.throws(() => decodeMessageRow(Uint8Array.of(2)), QueueCodecError);
  t.throws(
    () =>
      encodeMessageRow({
        queue: 'q',
        index: 1,
        pos: 0,
        payload: p('a'),
        state: 'ready',
        deliveries: 0,
        visibleAtMs: 3,
        dedupKey: null,
      }),
    QueueCodecError,
  );
});
