import t from 'tap';
import { Histogram } from '../../src/lib/histogram.js';
import { NodeMetrics } from '../../src/metrics/registry.js';
import { type Family, familyNameProblem } from '../../src/metrics/source.js';

const gauge = (name: string, read: Family['read'] = () => 1): Family =>
  ({ name, kind: 'gauge', help: 'h', labelNames: [], read }) as Family;

t.test('naming conventions are enforced when a source is added', async (t) => {
  t.equal(familyNameProblem(gauge('lockstep_x_bytes')), null);
  t.match(familyNameProblem(gauge('x_bytes')), /lockstep_ prefix/);
  t.match(familyNameProblem(gauge('lockstep_Upper')), /lower case/);
  t.match(familyNameProblem({ ...gauge('lockstep_hits'), kind: 'counter' } as Family), /must end in _total/);
  t.match(familyNameProblem(gauge('lockstep_hits_total')), /must not end in _total/);
  t.match(familyNameProblem(gauge('lockstep_wait_ms')), /base units/);
  t.match(familyNameProblem({ ...gauge('lockstep_a'), labelNames: ['le'] } as Family), /bad label name 'le'/);
  t.match(familyNameProblem({ ...gauge('lockstep_a'), help: ' ' } as Family), /help/);
});

t.test(
  'a source with a bad or taken name is refused at registration, before anything is registered',
  async (t) => {
    const m = new NodeMetrics({ processMetrics: false, onReadError: () => {} });
    m.addSource({ name: 'one', families: [gauge('lockstep_one')] });
    t.throws(() => m.addSource({ name: 'one', families: [] }), /added twice/);
    t.throws(
      () => m.addSource({ name: 'two', families: [gauge('lockstep_two'), gauge('lockstep_one')] }),
      /already registered/,
    );
    t.throws(
      () => m.addSource({ name: 'three', families: [gauge('lockstep_three_total')] }),
      /must not end in _total/,
    );
    t.throws(() => m.addSource({ name: 'Bad', families: [] }), /lower case/);
    t.notMatch(await m.text(), /lockstep_two/, 'nothing of the refused source was registered');
  },
);

t.test('values are read on every scrape from the owner, with labels, in the text format', async (t) => {
  const m = new NodeMetrics({ processMetrics: false, onReadError: () => {} });
  let hits = 1;
  m.addSource({
    name: 'cache',
    families: [
      { name: 'lockstep_cache_hits_total', kind: 'counter', help: 'Hits.', labelNames: [], read: () => hits },
      {
        name: 'lockstep_cache_lines',
        kind: 'gauge',
        help: 'Lines by state.',
        labelNames: ['state'],
        read: () => [
          { labels: { state: 'M' }, value: 2 },
          { labels: { state: 'S' }, value: 5 },
        ],
      },
      {
        name: 'lockstep_cache_absent',
        kind: 'gauge',
        help: 'Not there.',
        labelNames: [],
        read: () => undefined,
      },
    ],
    panel: () => ({ hit_ratio: 0.5 }),
  });
  let text = await m.text();
  t.match(
    text,
    '# HELP lockstep_cache_hits_total Hits.\n# TYPE lockstep_cache_hits_total counter\nlockstep_cache_hits_total 1\n',
  );
  t.match(text, 'lockstep_cache_lines{state="M"} 2\nlockstep_cache_lines{state="S"} 5');
  t.notMatch(text, /^lockstep_cache_absent /m, 'no value, no sample');
  hits = 7;
  text = await m.text();
  t.match(text, 'lockstep_cache_hits_total 7\n', 'read again at the next scrape');
  t.same(m.panels(), { cache: { hit_ratio: 0.5 } });
});

t.test('a histogram snapshot becomes cumulative buckets, sum and count', async (t) => {
  const m = new NodeMetrics({ processMetrics: false, onReadError: () => {} });
  const h = new Histogram([0.001, 0.01]);
  for (const v of [0.0005, 0.002, 0.003, 5]) h.record(v);
  m.addSource({
    name: 'lat',
    families: [
      {
        name: 'lockstep_lat_seconds',
        kind: 'histogram',
        help: 'Latency.',
        labelNames: ['op'],
        read: () => [{ labels: { op: 'get' }, snapshot: h.snapshot() }],
      },
    ],
  });
  const text = await m.text();
  t.match(text, '# TYPE lockstep_lat_seconds histogram');
  t.match(
    text,
    [
      'lockstep_lat_seconds_bucket{op="get",le="0.001"} 1',
      'lockstep_lat_seconds_bucket{op="get",le="0.01"} 3',
      'lockstep_lat_seconds_bucket{op="get",le="+Inf"} 4',
      'lockstep_lat_seconds_sum{op="get"} 5.0055',
      'lockstep_lat_seconds_count{op="get"} 4',
    ].join('\n'),
  );
});

t.test(
  'a family whose read throws is left out of that scrape, the others stay, the error is reported',
  async (t) => {
    const errors: string[] = [];
    const m = new NodeMetrics({ processMetrics: false, onReadError: (name) => errors.push(name) });
    m.addSource({
      name: 's',
      families: [
        gauge('lockstep_broken', () => {
          throw new Error('boom');
        }),
        gauge('lockstep_fine', () => 3),
      ],
      panel: () => {
        throw new Error('panel broke');
      },
    });
    const text = await m.text();
    t.match(text, 'lockstep_fine 3');
    t.notMatch(text, /^lockstep_broken /m);
    t.same(errors, ['lockstep_broken']);
    t.same(m.panels(), { s: { error: 'panel broke' } });
  },
);

t.test('process metrics are there when asked for', async (t) => {
  const m = new NodeMetrics({ processMetrics: true, onReadError: () => {} });
  const text = await m.text();
  t.match(text, /^process_cpu_user_seconds_total /m);
  t.match(text, /^nodejs_heap_size_used_bytes /m);
});
