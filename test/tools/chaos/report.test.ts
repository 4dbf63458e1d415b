import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { checkHistory } from '../../../tools/chaos/check.js';
import { renderTimeline } from '../../../tools/chaos/timeline.js';
import { FIVE, History } from './builder.js';

const HOSTILE = '<script>alert("k&\'")</script>';

/** One op of each workload, all fine, with faults, leaders and phases around them. */
function clean(): History {
  const h = new History().phase('start', 0).leaders(0, { '0': 'n1', '1': 'n2' });
  h.phase('faults', 100).nemesis('partition', 100, FIVE, {
    components: [
      ['n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ],
  });
  h.nemesis('skew', 150, ['n3'], { skewMs: 500 }).leaders(200, { '0': 'n3' });
  h.op({
    process: 1,
    f: 'acquire',
    key: 'L',
    at: 300,
    done: 320,
    node: 'n3',
    result: { token: 9, ttlMs: 3000 },
  });
  h.op({ process: 1, f: 'release', key: 'L', at: 400, done: 420, node: 'n3', value: { token: 9 } });
  h.op({ process: 2, f: 'push', key: 'q', at: 300, done: 310, node: 'n4', value: 'm1', result: '5-0' });
  h.op({
    process: 3,
    f: 'pop',
    key: 'q',
    at: 1300,
    done: 1310,
    node: 'n4',
    result: { id: '5-0', body: 'm1' },
  });
  h.op({ process: 4, f: 'write', key: HOSTILE, at: 300, done: 350, node: 'n5', value: 'a' });
  h.op({ process: 5, f: 'read', key: HOSTILE, at: 360, done: 370, node: 'n5', result: 'a' });
  h.op({
    process: 6,
    f: 'read',
    key: 'k',
    at: 500,
    done: 700,
    node: 'n1',
    outcome: 'info',
    error: 'timeout',
  });
  h.nemesis('heal', 1000)
    .nemesis('unskew', 1000, ['n3'])
    .phase('heal', 1000)
    .leaders(1100, { '0': 'n3', '1': 'n2' });
  return h.phase('end', 2000);
}

/** The clean history plus one violation of every kind. */
function broken(): History {
  const h = clean();
  h.op({
    process: 7,
    f: 'acquire',
    key: 'L',
    at: 330,
    done: 340,
    node: 'n4',
    result: { token: 8, ttlMs: 3000 },
  });
  h.op({
    process: 8,
    f: 'acquire',
    key: 'M',
    at: 300,
    done: 320,
    node: 'n1',
    result: { token: 3, ttlMs: 3000 },
  });
  h.op({ process: 2, f: 'push', key: 'q', at: 500, done: 510, node: 'n4', value: 'm2', result: '6-0' });
  h.op({
    process: 3,
    f: 'pop',
    key: 'q',
    at: 1400,
    done: 1410,
    node: 'n4',
    result: { id: '7-0', body: 'boo' },
  });
  h.op({ process: 4, f: 'write', key: HOSTILE, at: 380, done: 390, node: 'n5', value: 'b' });
  h.op({ process: 5, f: 'read', key: HOSTILE, at: 400, done: 410, node: 'n5', result: 'a' });
  return h;
}

t.test('a clean history: no violations, summary ends with the count', async (t) => {
  const { report, summary, ok } = checkHistory(clean().events());
  t.ok(ok);
  t.same(report.violations, []);
  t.same(report.run.nodes, FIVE);
  t.same(report.run.ops, { lock: 2, queue: 2, cache: 3 });
  t.equal(report.run.durationMs, 2000);
  const lines = summary.split('\n');
  t.equal(lines.at(-1), 'chaos: 0 violations');
  t.match(summary, /^locks {8}1 holds on 1 locks/m);
  t.match(summary, /^queues {7}pushes ok 1\/fail 0\/info 0; 1 delivered, 0 lost, 0 phantom, 0 duplicates/m);
});

t.test('a broken history: every kind flagged, in the summary and the JSON', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-report-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const jsonPath = join(dir, 'report.json');
  const htmlPath = join(dir, 'timeline.html');
  const { report, summary, ok } = checkHistory(broken().events(), { jsonPath, htmlPath });
  t.notOk(ok);
  t.same(report.violations.map((v) => `${v.checker}/${v.kind}`).sort(), [
    'cache/non-linearizable',
    'locks/minority-grant',
    'locks/overlapping-holds',
    'locks/token-regression',
    'queues/lost-push',
    'queues/phantom-pop',
  ]);
  t.equal(summary.split('\n').at(-1), 'chaos: 6 violations');
  t.match(summary, /VIOLATION \[queues\/phantom-pop\] queue "q" popped "boo", which was never pushed/);
  const json = JSON.parse(readFileSync(jsonPath, 'utf8'));
  t.equal(json.violations.length, 6);
  t.ok(json.violations.every((v: { ops: unknown[] }) => v.ops.length > 0));
  t.ok(readFileSync(htmlPath, 'utf8').startsWith('<!doctype html>'));
});

t.test('the timeline is self-contained and escapes what clients and nodes named', async (t) => {
  const h = broken().nemesis('kill', 1500, ['<b>n9</b>']).nemesis('pause', 1600, ['n2']);
  const events = h.events();
  const { report } = checkHistory(events);
  const html = renderTimeline(events, report);
  t.notMatch(html, /<script/i, 'no script, hostile or not');
  t.notMatch(html, /<b>n9/);
  t.match(
    html,
    '&lt;script&gt;alert(\\&quot;k&amp;&#39;\\&quot;)&lt;/script&gt;',
    'the key, quoted in a description',
  );
  t.match(html, '&lt;b&gt;n9&lt;/b&gt;');
  t.notMatch(html, /\s(src|href)=/, 'no external assets');
  t.match(html, /<svg [^>]*>/);
  for (const legend of [
    'killed',
    'paused',
    'partitioned into a minority',
    'clock skewed',
    'op ok',
    'op info',
  ]) {
    t.match(html, legend, `legend: ${legend}`);
  }
  t.match(html, /<title>group 0: n1 led 0\.00s–0\.20s<\/title>/, 'leader lanes');
  t.match(html, /<title>n1 minority 0\.10s–1\.00s /, 'minority bars');
  t.match(html, /<title>n3 skewed 0\.15s–1\.00s skew 500 ms/, 'skew bars');
  t.match(html, /<title>phase heal at 1\.00s<\/title>/, 'phase lines');
  t.match(html, /<title>cache info 1 at 0\.00s<\/title>/, 'per-second counts');
  t.match(html, `<pre>run          6 nodes`, 'the summary at the top');
  t.match(html, `chaos: ${report.violations.length} violations</pre>`);
});

t.test('the CLI prints the summary, writes the timeline and exits 1 on a violation', async (t) => {
  const cli = join(process.cwd(), 'dist/tools/chaos/check.js');
  t.ok(existsSync(cli), 'built (npm run build)');
  const dir = mkdtempSync(join(tmpdir(), 'chaos-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, h: History): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      h
        .events()
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(''),
    );
    return path;
  };
  const good = spawnSync(process.execPath, [cli, write('clean.jsonl', clean())], { encoding: 'utf8' });
  t.equal(good.status, 0);
  t.match(good.stdout, /chaos: 0 violations\n$/);
  const html = join(dir, 'out.html');
  const bad = spawnSync(process.execPath, [cli, write('broken.jsonl', broken()), '--html', html], {
    encoding: 'utf8',
  });
  t.equal(bad.status, 1);
  t.match(bad.stdout, /chaos: 6 violations\ntimeline: /);
  t.ok(existsSync(html));
  const usage = spawnSync(process.execPath, [cli], { encoding: 'utf8' });
  t.equal(usage.status, 2);
  t.match(usage.stderr, /usage: /);
});
