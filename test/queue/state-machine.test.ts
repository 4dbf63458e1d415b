import t from 'tap';
import { AssertionError } from '../../src/lib/assert.js';
import type { QueueCommand } from '../../src/queue/commands.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/queue/rows.js';
import {
  DEDUP_WINDOW_MS,
  DEFAULT_QUEUE_CONFIG,
  MAX_REPLY_PAYLOAD_BYTES,
  type QueueEvent,
  type QueueOutcome,
  type QueueResult,
  QueueStateMachine,
} from '../../src/queue/state-machine.js';

const utf8 = new TextEncoder();
const text = new TextDecoder();
const p = (s: string): Uint8Array => utf8.encode(s);

/** Applies commands at successive log indexes; time moves only when a step says so. */
class Log {
  machine = QueueStateMachine.empty();
  index = 0;
  timeMs = 1_000_000;
  last: QueueOutcome | undefined;

  apply(cmd: QueueCommand, elapsedMs = 0): QueueResult {
    this.index += 1;
    this.timeMs += elapsedMs;
    this.last = this.machine.apply(cmd, { index: this.index, timeMs: this.timeMs });
    return this.last.result;
  }

  push(queue: string, payloads: string[], o: { dedupKey?: string; delayMs?: number } = {}, elapsedMs = 0) {
    const cmd: QueueCommand =
      o.dedupKey === undefined
        ? { op: 'push', queue, payloads: payloads.map(p), delayMs: o.delayMs ?? 0 }
        : { op: 'push', queue, payloads: payloads.map(p), dedupKey: o.dedupKey, delayMs: o.delayMs ?? 0 };
    return this.apply(cmd, elapsedMs);
  }

  /** Pops and returns `id:payload:deliveries` strings; throws on anything but `popped`. */
  pop(queue: string, count = 1, visibilityMs?: number, elapsedMs = 0): string[] {
    const cmd: QueueCommand =
      visibilityMs === undefined ? { op: 'pop', queue, count } : { op: 'pop', queue, count, visibilityMs };
    const r = this.apply(cmd, elapsedMs);
    if (r.kind !== 'popped') throw new Error(JSON.stringify(r));
    return r.messages.map((m) => `${m.id}:${text.decode(m.payload)}:${m.deliveries}`);
  }

  ack(queue: string, ids: string[], elapsedMs = 0): QueueResult {
    return this.apply({ op: 'ack', queue, ids }, elapsedMs);
  }

  nack(queue: string, id: string, delayMs = 0, elapsedMs = 0): QueueResult {
    return this.apply({ op: 'nack', queue, id, delayMs }, elapsedMs);
  }

  tick(elapsedMs = 0): QueueResult {
    return this.apply({ op: 'tick' }, elapsedMs);
  }

  get events(): readonly QueueEvent[] {
    return this.last?.events ?? [];
  }

  /** `id:payload:deliveries` of the ready messages. */
  ready(queue: string): string[] {
    return this.machine.peek(queue, 1000).map((m) => `${m.id}:${text.decode(m.payload)}:${m.deliveries}`);
  }

  deadIds(queue: string): string[] {
    return this.machine.dead(queue, 1000).map((m) => m.id);
  }
}

t.test('push then pop is FIFO across pushes and within a push', async (t) => {
  const log = new Log();
  t.same(log.push('q', ['a', 'b']), { kind: 'pushed', ids: ['1-0', '1-1'] });
  t.same(log.events, [{ kind: 'ready', queue: 'q' }]);
  t.same(log.push('q', ['c']), { kind: 'pushed', ids: ['2-0'] });
  t.equal(log.machine.len('q'), 3);
  t.same(log.ready('q'), ['1-0:a:0', '1-1:b:0', '2-0:c:0'], 'peek shows the ready ones in id order');
  t.same(log.pop('q', 2), ['1-0:a:1', '1-1:b:1']);
  t.same(log.events, [], 'a pop makes nothing poppable');
  t.same(log.pop('q', 5), ['2-0:c:1']);
  t.same(log.pop('q', 5), [], 'an empty queue pops nothing');
  t.same(log.pop('nope', 1), [], 'an unknown queue pops nothing');
  t.same(log.machine.stats('q'), {
    ready: 0,
    inflight: 3,
    delayed: 0,
    dead: 0,
    pushed: 3,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
  });
  t.same(log.machine.queueNames(), ['q'], 'pops on an unknown queue create no record');
});

t.test('an unacked message comes back after its visibility timeout, with deliveries 2', async (t) => {
  const log = new Log();
  log.push('q', ['a', 'b']);
  t.same(log.pop('q', 1, 1000), ['1-0:a:1']);
  t.equal(log.machine.nextDeadlineMs(), log.timeMs + 1000);
  log.tick(999);
  t.same(log.ready('q'), ['1-1:b:0'], 'not yet: the lease ends at 1000 ms');
  log.tick(1);
  t.same(log.events, [{ kind: 'ready', queue: 'q' }]);
  t.same(log.ready('q'), ['1-0:a:1', '1-1:b:0'], 'back in front: its place is its id');
  t.same(log.pop('q', 1), ['1-0:a:2']);
  t.equal(log.machine.stats('q').redelivered, 1);
  t.equal(log.machine.stats('q').inflight, 1);
  t.equal(
    log.machine.nextDeadlineMs(),
    log.timeMs + DEFAULT_QUEUE_CONFIG.visibilityMs,
    'the default visibility',
  );
});

t.test('expiry happens before the command, whatever the command', async (t) => {
  const log = new Log();
  log.push('q', ['a']);
  log.pop('q', 1, 100);
  // No tick: the pop at +100 ms sees the expired lease first and takes the message again.
  t.same(log.pop('q', 1, 100, 100), ['1-0:a:2']);
  t.same(log.events, [{ kind: 'ready', queue: 'q' }], 'the expiry still tells the service');
  t.same(
    log.ack('q', ['1-0'], 100),
    { kind: 'count', n: 1 },
    'an ack after expiry deletes the ready message',
  );
  t.same(log.machine.stats('q').redelivered, 0, 'the queue went away: counters with it');
  t.same(log.machine.queueNames(), []);
});

t.test('after maxDeliveries the message is dead-lettered, not redelivered', async (t) => {
  const log = new Log();
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 2 });
  log.push('q', ['a', 'b']);
  t.same(log.pop('q', 1, 10), ['2-0:a:1']);
  t.same(log.pop('q', 1, 10, 10), ['2-0:a:2'], 'redelivered once');
  log.tick(10);
  t.same(log.events, [], 'dead is not poppable');
  t.same(log.deadIds('q'), ['2-0']);
  t.same(log.ready('q'), ['2-1:b:0']);
  t.same(log.machine.dead('q', 1)[0]?.deliveries, 2);
  t.match(log.machine.stats('q'), { ready: 1, inflight: 0, dead: 1, redelivered: 1, deadLettered: 1 });
  t.same(log.ack('q', ['2-0']), { kind: 'count', n: 0 }, 'a dead message is not acked');
  t.same(log.nack('q', '2-0'), { kind: 'count', n: 0 });
  t.same(log.deadIds('q'), ['2-0']);
});

t.test('redrive: the oldest dead letters back to ready from 0 deliveries, or deleted', async (t) => {
  const log = new Log();
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 1 });
  log.push('q', ['a', 'b', 'c']);
  t.same(log.pop('q', 3, 10), ['2-0:a:1', '2-1:b:1', '2-2:c:1']);
  log.tick(10);
  t.same(log.deadIds('q'), ['2-0', '2-1', '2-2'], 'all three dead after one delivery');
  t.same(log.apply({ op: 'redrive', queue: 'q', count: 2, drop: false }), { kind: 'count', n: 2 });
  t.same(log.events, [{ kind: 'ready', queue: 'q' }], 'blocked pops are woken');
  t.same(log.ready('q'), ['2-0:a:0', '2-1:b:0'], 'oldest first, deliveries reset');
  t.same(log.deadIds('q'), ['2-2']);
  t.same(log.apply({ op: 'redrive', queue: 'q', count: 5, drop: true }), { kind: 'count', n: 1 });
  t.same(log.deadIds('q'), [], 'the rest deleted');
  t.match(log.machine.stats('q'), { ready: 2, dead: 0, deadLettered: 3 });
  t.same(log.apply({ op: 'redrive', queue: 'nope', count: 1, drop: false }), { kind: 'count', n: 0 });
  // A queue whose only messages were dead letters goes when they are deleted (default config).
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 5 });
  log.push('r', ['x']);
  log.apply({ op: 'config', queue: 'r', maxDeliveries: 1 });
  log.pop('r', 1, 10);
  log.tick(10);
  log.apply({ op: 'config', queue: 'r', maxDeliveries: 5 });
  log.apply({ op: 'redrive', queue: 'r', count: 1, drop: true });
  t.notOk(log.machine.queueNames().includes('r'), 'r is gone');
});

t.test('maxDeliveries 0 is unlimited', async (t) => {
  const log = new Log();
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 0 });
  log.push('q', ['a']);
  for (let i = 1; i <= 20; i++) t.same(log.pop('q', 1, 5, 5), [`2-0:a:${i}`]);
  t.equal(log.machine.stats('q').redelivered, 19);
  t.equal(log.machine.stats('q').dead, 0);
});

t.test('dedup: a second push with the key within the window returns the first ids', async (t) => {
  const log = new Log();
  t.same(log.push('q', ['a', 'b'], { dedupKey: 'k' }), { kind: 'pushed', ids: ['1-0', '1-1'] });
  t.same(log.push('q', ['x'], { dedupKey: 'k' }, DEDUP_WINDOW_MS - 1), {
    kind: 'pushed',
    ids: ['1-0', '1-1'],
    duplicate: true,
  });
  t.same(log.events, [], 'nothing new to pop');
  t.equal(log.machine.stats('q').pushed, 2);
  t.same(log.push('other', ['x'], { dedupKey: 'k' }), { kind: 'pushed', ids: ['3-0'] }, 'keys are per queue');
  log.pop('q', 2);
  log.ack('q', ['1-0', '1-1']);
  t.same(
    log.push('q', ['y'], { dedupKey: 'k' }),
    { kind: 'pushed', ids: ['1-0', '1-1'], duplicate: true },
    'still a duplicate after the messages were acked',
  );
  t.same(log.machine.queueNames(), ['other', 'q'], 'the key keeps the record');
  t.same(
    log.push('q', ['z'], { dedupKey: 'k' }, 1),
    { kind: 'pushed', ids: ['7-0'] },
    'the window has passed',
  );
  t.same(log.machine.rows().dedup, [
    {
      queue: 'other',
      key: 'k',
      index: 3,
      count: 1,
      expiresAtMs: 1_000_000 + DEDUP_WINDOW_MS - 1 + DEDUP_WINDOW_MS,
    },
    { queue: 'q', key: 'k', index: 7, count: 1, expiresAtMs: 1_000_000 + 2 * DEDUP_WINDOW_MS },
  ]);
  t.same(log.machine.rows().messages.find((m) => m.index === 7)?.dedupKey, 'k');
});

t.test('a dedup key alone keeps a queue until it expires', async (t) => {
  const log = new Log();
  log.push('q', ['a'], { dedupKey: 'k' });
  log.pop('q');
  log.ack('q', ['1-0']);
  t.same(log.machine.queueNames(), ['q']);
  t.equal(log.machine.nextDeadlineMs(), 1_000_000 + DEDUP_WINDOW_MS);
  log.tick(DEDUP_WINDOW_MS);
  t.same(log.machine.queueNames(), [], 'dropped with its counters');
  t.equal(log.machine.nextDeadlineMs(), undefined);
  t.same(log.machine.stats('q'), {
    ready: 0,
    inflight: 0,
    delayed: 0,
    dead: 0,
    pushed: 0,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
  });
});

t.test('MAXLEN refuses a push that would exceed it and changes nothing', async (t) => {
  const log = new Log();
  t.same(log.apply({ op: 'config', queue: 'q', maxLen: 3 }), {
    kind: 'config',
    config: { maxDeliveries: 5, visibilityMs: 30_000, maxLen: 3 },
  });
  log.push('q', ['a', 'b']);
  log.pop('q');
  const before = log.machine.rows();
  t.same(log.push('q', ['c', 'd'], { dedupKey: 'k' }), {
    kind: 'error',
    code: 'LIMIT',
    message: "queue 'q' is at MAXLEN 3",
  });
  t.same(log.machine.rows(), before, 'no message, no dedup key, no counter');
  t.same(log.events, []);
  t.same(
    log.push('q', ['c'], { delayMs: 50 }),
    { kind: 'pushed', ids: ['5-0'] },
    'inflight counts, so 3 is the limit',
  );
  t.equal(log.push('q', ['d']).kind, 'error', 'delayed counts too');
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 1 });
  log.pop('q', 1, 1);
  log.tick(1);
  t.equal(log.machine.stats('q').dead, 1);
  t.same(log.push('q', ['e']), { kind: 'pushed', ids: ['10-0'] }, 'dead messages do not count');
});

t.test('nack: back to ready now, delayed, or dead after maxDeliveries', async (t) => {
  const log = new Log();
  log.apply({ op: 'config', queue: 'q', maxDeliveries: 2 });
  log.push('q', ['a', 'b', 'c']);
  log.pop('q', 3);
  t.same(log.nack('q', '2-1'), { kind: 'count', n: 1 });
  t.same(log.events, [{ kind: 'ready', queue: 'q' }]);
  t.same(log.ready('q'), ['2-1:b:1']);
  t.same(log.nack('q', '2-1'), { kind: 'count', n: 0 }, 'not inflight any more');
  t.same(log.nack('q', '2-2', 500), { kind: 'count', n: 1 });
  t.same(log.events, [], 'a delayed message is not poppable yet');
  t.match(log.machine.stats('q'), { ready: 1, inflight: 1, delayed: 1 });
  t.same(log.machine.message('q', '2-2'), {
    id: '2-2',
    payload: p('c'),
    deliveries: 1,
    state: 'delayed',
    visibleAtMs: log.timeMs + 500,
  });
  log.tick(499);
  t.same(log.ready('q'), ['2-1:b:1']);
  log.tick(1);
  t.same(log.events, [{ kind: 'ready', queue: 'q' }]);
  t.same(log.ready('q'), ['2-1:b:1', '2-2:c:1']);
  t.same(log.pop('q', 1), ['2-1:b:2']);
  t.same(log.nack('q', '2-1', 100), { kind: 'count', n: 1 }, 'deliveries 2 = maxDeliveries: dead');
  t.same(log.deadIds('q'), ['2-1']);
  t.match(log.machine.stats('q'), { deadLettered: 1, redelivered: 0 }, 'a nack is not a redelivery');
  t.same(log.nack('q', '9-9'), { kind: 'count', n: 0 }, 'unknown id');
  t.same(log.nack('zz', '2-0'), { kind: 'count', n: 0 }, 'unknown queue');
});

t.test('extend moves the lease end to now + ms', async (t) => {
  const log = new Log();
  log.push('q', ['a']);
  log.pop('q', 1, 100);
  t.same(log.apply({ op: 'extend', queue: 'q', id: '1-0', ms: 1000 }, 50), { kind: 'count', n: 1 });
  t.equal(log.machine.nextDeadlineMs(), log.timeMs + 1000);
  log.tick(999);
  t.equal(log.machine.stats('q').inflight, 1, 'the first lease end passed, the message stayed');
  log.tick(1);
  t.same(log.ready('q'), ['1-0:a:1']);
  t.same(
    log.apply({ op: 'extend', queue: 'q', id: '1-0', ms: 1000 }),
    { kind: 'count', n: 0 },
    'not inflight',
  );
  t.same(log.apply({ op: 'extend', queue: 'q', id: '5-0', ms: 1000 }), { kind: 'count', n: 0 }, 'unknown');
  log.pop('q', 1, 100);
  t.same(log.apply({ op: 'extend', queue: 'q', id: '1-0', ms: 0 }), { kind: 'count', n: 1 });
  t.equal(log.machine.stats('q').inflight, 1, 'ms 0: due, processed by the next apply');
  log.tick();
  t.same(log.ready('q'), ['1-0:a:2']);
});

t.test('ack deletes inflight, ready and delayed messages; unknown ids count 0', async (t) => {
  const log = new Log();
  log.push('q', ['a', 'b']);
  log.push('q', ['c'], { delayMs: 1000 });
  log.pop('q', 1);
  t.same(log.ack('q', ['1-0', '1-1', '2-0', '1-0', '7-7']), { kind: 'count', n: 3 }, 'repeats count once');
  t.same(log.ack('q', ['1-0']), { kind: 'count', n: 0 });
  t.same(log.ack('nope', ['1-0']), { kind: 'count', n: 0 });
  t.same(log.machine.queueNames(), [], 'the empty queue is dropped');
  t.equal(log.machine.nextDeadlineMs(), undefined, 'its deadlines are gone');
  const changes = log.machine.takeChanges();
  t.same(changes.queues.get('q'), null);
  t.same(
    [...changes.messages.values()].map((c) => c.row),
    [null, null, null],
  );
});

t.test('a queue with a non-default config stays; back to the default it goes', async (t) => {
  const log = new Log();
  t.same(log.apply({ op: 'config', queue: 'q' }), { kind: 'config', config: DEFAULT_QUEUE_CONFIG });
  t.same(log.machine.queueNames(), [], 'a report creates nothing');
  log.apply({ op: 'config', queue: 'q', visibilityMs: 10 });
  t.same(log.machine.queueNames(), ['q']);
  t.same(log.machine.config('q'), { maxDeliveries: 5, visibilityMs: 10, maxLen: 0 });
  log.push('q', ['a']);
  t.same(log.pop('q'), ['3-0:a:1']);
  t.equal(log.machine.nextDeadlineMs(), log.timeMs + 10, 'the configured visibility');
  t.same(log.ack('q', ['3-0']), { kind: 'count', n: 1 });
  t.same(log.machine.queueNames(), ['q']);
  t.same(log.apply({ op: 'config', queue: 'q', visibilityMs: 30_000 }), {
    kind: 'config',
    config: DEFAULT_QUEUE_CONFIG,
  });
  t.same(log.machine.queueNames(), [], 'default and empty: gone');
  t.same(log.machine.takeChanges().queues, new Map([['q', null]]));
});

t.test('delayed push: not poppable until its time, then ready in id order', async (t) => {
  const log = new Log();
  log.push('q', ['late'], { delayMs: 200 });
  t.same(log.events, []);
  log.push('q', ['now']);
  t.same(log.pop('q', 5), ['2-0:now:1']);
  t.same(log.pop('q', 5, undefined, 199), []);
  t.same(log.pop('q', 5, undefined, 1), ['1-0:late:1']);
  t.same(log.events, [{ kind: 'ready', queue: 'q' }]);
});

t.test('events: one per queue, due ones in name order, then the command', async (t) => {
  const log = new Log();
  log.push('b', ['x'], { delayMs: 10 });
  log.push('a', ['x'], { delayMs: 10 });
  log.push('c', ['x']);
  log.pop('c', 1, 10);
  log.push('c', ['y'], {}, 10);
  t.same(log.events, [
    { kind: 'ready', queue: 'a' },
    { kind: 'ready', queue: 'b' },
    { kind: 'ready', queue: 'c' },
  ]);
  log.push('d', ['x'], { delayMs: 5 });
  log.push('e', ['x'], { delayMs: 5 });
  log.push('a', ['x'], {}, 5);
  t.same(log.events, [
    { kind: 'ready', queue: 'd' },
    { kind: 'ready', queue: 'e' },
    { kind: 'ready', queue: 'a' },
  ]);
});

t.test('invalid commands are ERR results, never exceptions, and change nothing', async (t) => {
  const log = new Log();
  log.push('q', ['a']);
  const before = log.machine.rows();
  const bad: unknown[] = [
    { op: 'pop', queue: 'q', count: 0 },
    { op: 'pop', queue: 'q', count: 10_001 },
    { op: 'pop', queue: 'q', count: 1, visibilityMs: 0 },
    { op: 'push', queue: 'q', payloads: [], delayMs: 0 },
    { op: 'push', queue: '', payloads: [p('a')], delayMs: 0 },
    { op: 'push', queue: 'q', payloads: [p('a')], delayMs: -1 },
    { op: 'push', queue: 'q', payloads: [new Uint8Array(512 * 1024 + 1)], delayMs: 0 },
    { op: 'push', queue: 'q', payloads: ['a'], delayMs: 0 },
    { op: 'push', queue: 'q'.repeat(1025), payloads: [p('a')], delayMs: 0 },
    { op: 'ack', queue: 'q', ids: ['1-0', 'nope'] },
    { op: 'ack', queue: 'q', ids: [] },
    { op: 'nack', queue: 'q', id: '0-0', delayMs: 0 },
    { op: 'nack', queue: 'q', id: '1-00', delayMs: 0 },
    { op: 'extend', queue: 'q', id: '1-0', ms: 7 * 86_400_000 + 1 },
    { op: 'config', queue: 'q', visibilityMs: 0 },
    { op: 'config', queue: 'q', maxLen: 1.5 },
    { op: 'frobnicate', queue: 'q' },
  ];
  for (const cmd of bad) {
    const r = log.apply(cmd as QueueCommand);
    t.equal(r.kind, 'error', JSON.stringify(cmd).slice(0, 80));
    if (r.kind === 'error') {
      t.equal(r.code, 'ERR');
      t.match(r.message, /^invalid queue command: /);
    }
  }
  t.same(log.machine.rows(), before);
});

t.test('indexes must go up and time must be a safe integer', async (t) => {
  const m = QueueStateMachine.empty();
  m.apply({ op: 'tick' }, { index: 5, timeMs: 0 });
  t.throws(() => m.apply({ op: 'tick' }, { index: 5, timeMs: 0 }), AssertionError);
  t.throws(() => m.apply({ op: 'tick' }, { index: 6, timeMs: -1 }), AssertionError);
  const restored = QueueStateMachine.fromRows(
    [
      {
        name: 'q',
        maxDeliveries: 5,
        visibilityMs: 30_000,
        maxLen: 0,
        pushed: 1,
        acked: 0,
        redelivered: 0,
        deadLettered: 0,
      },
    ],
    [
      {
        queue: 'q',
        index: 9,
        pos: 0,
        payload: p('a'),
        state: 'ready',
        deliveries: 0,
        visibleAtMs: 0,
        dedupKey: null,
      },
    ],
    [],
  );
  t.throws(
    () => restored.apply({ op: 'tick' }, { index: 9, timeMs: 0 }),
    AssertionError,
    'rows know index 9',
  );
  t.same(restored.apply({ op: 'tick' }, { index: 10, timeMs: 0 }).result, { kind: 'ticked' });
});

t.test('takeChanges reports each changed row once, at its final state', async (t) => {
  const log = new Log();
  log.push('q', ['a', 'b'], { dedupKey: 'k' });
  log.pop('q', 1);
  const c1 = log.machine.takeChanges();
  t.same([...c1.queues.keys()], ['q']);
  t.same(
    [...c1.messages.entries()].map(([k, v]) => [k, v.row?.state]),
    [
      ['q\u00001-0', 'inflight'],
      ['q\u00001-1', 'ready'],
    ],
  );
  t.same(
    [...c1.dedup.values()].map((d) => [d.queue, d.key, d.row?.index]),
    [['q', 'k', 1]],
  );
  t.same(log.machine.takeChanges(), { queues: new Map(), messages: new Map(), dedup: new Map() }, 'cleared');
  log.pop('q', 5);
  log.pop('q', 5);
  log.tick();
  log.apply({ op: 'config', queue: 'q' });
  log.apply({ op: 'ack', queue: 'q', ids: ['8-0'] });
  const c2 = log.machine.takeChanges();
  t.same([...c2.queues.keys()], [], 'pops and no-ops leave the queue row alone');
  t.same([...c2.messages.keys()], ['q\u00001-1']);
  t.same(c2.dedup.size, 0);
});

t.test('a machine that does not track changes reports none', async (t) => {
  const m = QueueStateMachine.empty({ trackChanges: false });
  m.apply({ op: 'push', queue: 'q', payloads: [p('a')], delayMs: 0 }, { index: 1, timeMs: 0 });
  t.same(m.takeChanges(), { queues: new Map(), messages: new Map(), dedup: new Map() });
  t.equal(m.rows().messages.length, 1);
});

t.test('reads: totals, topQueues, stats of unknown queues', async (t) => {
  const log = new Log();
  log.push('a', ['1', '2', '3']);
  log.push('b', ['1'], { delayMs: 10 });
  log.push('c', ['1', '2']);
  log.pop('c', 1);
  t.same(log.machine.totals(), {
    queues: 3,
    ready: 4,
    inflight: 1,
    delayed: 1,
    dead: 0,
    pushed: 6,
    acked: 0,
    redelivered: 0,
    deadLettered: 0,
  });
  t.same(log.machine.topQueues(2), [
    { queue: 'a', depth: 3, ready: 3, inflight: 0, delayed: 0, dead: 0 },
    { queue: 'c', depth: 2, ready: 1, inflight: 1, delayed: 0, dead: 0 },
  ]);
  t.same(log.machine.topQueues(0), []);
  t.equal(log.machine.len('zz'), 0);
  t.same(log.machine.peek('zz', 3), []);
  t.same(log.machine.dead('zz', 3), []);
  t.same(log.machine.config('zz'), DEFAULT_QUEUE_CONFIG);
  t.same(log.machine.message('a', '9-0'), undefined);
});

t.test('large FIFO queue with redeliveries keeps id order', async (t) => {
  const log = new Log();
  const n = 5000;
  const payloads = Array.from({ length: n }, (_, i) => String(i));
  log.push('big', payloads);
  const first = log.pop('big', 3000, 100);
  t.equal(first.length, 3000);
  // Ack every other popped message; the rest come back at their id positions.
  log.ack(
    'big',
    Array.from({ length: 1500 }, (_, i) => `1-${2 * i}`),
  );
  log.tick(100);
  const all = log.machine.peek('big', n);
  t.equal(all.length, n - 1500);
  const positions = all.map((m) => Number(m.id.split('-')[1]));
  t.same(
    positions,
    [...positions].sort((a, b) => a - b),
    'ready in id order',
  );
  t.equal(positions[0], 1);
  t.equal(log.machine.stats('big').redelivered, 1500);
  const restored = QueueStateMachine.fromRows(
    log.machine.rows().queues,
    log.machine.rows().messages,
    log.machine.rows().dedup,
  );
  t.same(restored.rows(), log.machine.rows());
  t.same(decodeSnapshot(encodeSnapshot(log.machine.rows())), log.machine.rows());
});

t.test('a pop, a peek and a dead-letter listing stop at MAX_REPLY_PAYLOAD_BYTES', async (t) => {
  const log = new Log();
  const big = new Uint8Array(512 * 1024);
  for (let i = 0; i < 5; i++) log.apply({ op: 'push', queue: 'q', payloads: Array(4).fill(big), delayMs: 0 });
  const perReply = MAX_REPLY_PAYLOAD_BYTES / big.byteLength;
  t.equal(log.machine.peek('q', 20).length, perReply, `a peek of 20 returns ${perReply}`);
  const r = log.apply({ op: 'pop', queue: 'q', count: 20 });
  t.equal(r.kind === 'popped' ? r.messages.length : -1, perReply, 'a pop of 20 leases only what fits');
  t.equal(log.machine.peek('q', 20).length, 20 - perReply, 'the rest stay ready');
});
