import t from 'tap';
import { globMatch } from '../../src/lib/glob.js';

t.test('globMatch follows Redis stringmatchlen', (t) => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['lock:*:owner', 'lock:a:b:owner', true],
    ['*a*b*c', 'xaxbxc', true],
    ['*a*b*c', 'xaxbx', false],
    ['[abc', 'a', true],
    ['', '', true],
    ['', 'x', false],
  ];
  for (const [pattern, text, expected] of cases) {
    t.equal(globMatch(pattern, text), expected, `${JSON.stringify(pattern)} vs ${JSON.stringify(text)}`);
  }
  t.end();
});

t.test('globMatch nocase', (t) => {
  t.ok(globMatch('MAX*', 'maxclients', true));
  t.notOk(globMatch('MAX*', 'maxclients'));
  t.end();
});

t.test('a hostile pattern finishes quickly', (t) => {
  const pattern = `${'*a'.repeat(40)}b`;
  const text = 'a'.repeat(5000);
  const started = performance.now();
  t.notOk(globMatch(pattern, text));
  t.ok(performance.now() - started < 1000, 'no exponential backtracking');
  t.end();
});
