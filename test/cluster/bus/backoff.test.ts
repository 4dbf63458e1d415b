import t from 'tap';
import { DEFAULT_RECONNECT_BACKOFF, reconnectDelayMs } from '../../../src/cluster/bus/backoff.js';
import { SeededRandom } from '../../../src/lib/random.js';

t.test('the ceiling doubles from minMs to maxMs; delays stay in its upper half', async (t) => {
  const random = new SeededRandom(7);
  const ceilings = [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000];
  ceilings.forEach((ceilingMs, failures) => {
    for (let i = 0; i < 200; i++) {
      const delayMs = reconnectDelayMs(failures, DEFAULT_RECONNECT_BACKOFF, random);
      if (delayMs < ceilingMs / 2 || delayMs > ceilingMs) t.fail(`failure ${failures}: ${delayMs} ms`);
    }
  });
  t.equal(reconnectDelayMs(10_000, DEFAULT_RECONNECT_BACKOFF, { next: () => 1, int: () => 0 }), 2000);
});
