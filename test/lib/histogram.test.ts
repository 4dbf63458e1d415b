import t from 'tap';
import { COMMAND_BUCKETS_SECONDS, Histogram, quantileSeconds } from '../../src/lib/histogram.js';

t.test('a value on a bound counts in that bucket (Prometheus le), above the last in +Inf', async (t) => {
  const h = new Histogram([0.001, 0.01, 0.1]);
  for (const v of [0, 0.001, 0.0010001, 0.01, 0.05, 0.1, 0.2, 7]) h.record(v);
  const s = h.snapshot();
  t.same(s.counts, [2, 2, 2, 2]);
  t.equal(s.count, 8);
  t.ok(Math.abs(s.sumSeconds - 7.3620001) < 1e-9);
});

t.test('a snapshot is a copy', async (t) => {
  const h = new Histogram([1]);
  const before = h.snapshot();
  h.record(0.5);
  t.same(before.counts, [0, 0]);
  t.same(h.snapshot().counts, [1, 0]);
});

t.test('bounds must ascend', async (t) => {
  t.throws(() => new Histogram([0.1, 0.1]), /must ascend/);
  t.throws(() => new Histogram([0.2, 0.1]), /must ascend/);
});

t.test('quantiles interpolate inside the bucket, as histogram_quantile does', async (t) => {
  const h = new Histogram([1, 2, 4]);
  for (let i = 0; i < 10; i++) h.record(0.5); // 10 in (0, 1]
  for (let i = 0; i < 10; i++) h.record(3); // 10 in (2, 4]
  const s = h.snapshot();
  t.equal(quantileSeconds(s, 0.25), 0.5, 'rank 5 of 10 in the first bucket: halfway to 1');
  t.equal(quantileSeconds(s, 0.5), 1, 'rank 10: the top of the first bucket');
  t.equal(quantileSeconds(s, 0.75), 3, 'rank 15: halfway through (2, 4], the empty bucket skipped');
  t.equal(quantileSeconds(s, 1), 4);
  h.record(100);
  t.equal(quantileSeconds(h.snapshot(), 1), 4, 'in +Inf: the highest finite bound');
  t.ok(Number.isNaN(quantileSeconds(new Histogram([1]).snapshot(), 0.5)), 'no samples: NaN');
});

t.test('command buckets span 10 µs to 10 s in ascending order', async (t) => {
  t.equal(COMMAND_BUCKETS_SECONDS[0], 0.00001);
  t.equal(COMMAND_BUCKETS_SECONDS.at(-1), 10);
  t.doesNotThrow(() => new Histogram());
});
