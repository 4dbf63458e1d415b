import fc from 'fast-check';
import t from 'tap';
import { SendQueue } from '../../../src/cluster/bus/send-queue.js';

const frame = (id: number, bytes: number): Uint8Array => new Uint8Array(bytes).fill(id);
const ids = (frames: Uint8Array[]): number[] => frames.map((f) => f[0]!);

t.test('a full queue refuses frames that are not droppable', async (t) => {
  const queue = new SendQueue(100);
  t.ok(queue.offer(frame(1, 60), false, 0));
  t.notOk(queue.offer(frame(2, 60), false, 0), 'over the bound');
  t.notOk(queue.offer(frame(3, 30), false, 20), 'socket bytes count too');
  t.ok(queue.offer(frame(4, 40), false, 0));
  t.same(ids(queue.drain()), [1, 4]);
  t.equal(queue.bytes, 0);
});

t.test('a droppable frame evicts the oldest droppable frames, never the others', async (t) => {
  const queue = new SendQueue(100);
  t.ok(queue.offer(frame(1, 30), false, 0));
  t.ok(queue.offer(frame(2, 30), true, 0));
  t.ok(queue.offer(frame(3, 30), true, 0));
  t.ok(queue.offer(frame(4, 40), true, 0), 'evicts 2, the oldest droppable');
  t.equal(queue.droppedFrames, 1);
  t.notOk(queue.offer(frame(5, 80), true, 0), 'evicting 3 and 4 would not make room beside 1');
  t.equal(queue.droppedFrames, 1, 'a refused offer evicts nothing');
  t.same(ids(queue.drain()), [1, 3, 4]);
});

t.test('the bound holds, order is kept and only droppable frames go missing', async (t) => {
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('offer' as const),
      bytes: fc.integer({ min: 1, max: 120 }),
      droppable: fc.boolean(),
      socketBytes: fc.nat(100),
    }),
    fc.record({ kind: fc.constant('drain' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const maxBytes = 200;
      const queue = new SendQueue(maxBytes);
      const sequence = new Map<Uint8Array, number>();
      const mustArrive: number[] = [];
      const sent: number[] = [];
      const drain = () => {
        for (const f of queue.drain()) sent.push(sequence.get(f)!);
      };
      for (const [index, o] of ops.entries()) {
        if (o.kind === 'drain') {
          drain();
          continue;
        }
        const f = new Uint8Array(o.bytes);
        sequence.set(f, index);
        if (!queue.offer(f, o.droppable, o.socketBytes)) continue;
        if (queue.bytes + o.socketBytes > maxBytes) throw new Error(`bound exceeded at op ${index}`);
        if (!o.droppable) mustArrive.push(index);
      }
      drain();
      const inOrder = sent.every((s, i) => i === 0 || sent[i - 1]! < s);
      return inOrder && mustArrive.every((index) => sent.includes(index));
    }),
  );
  t.pass('property held');
});
