import t from 'tap';
import { namedCounts, numberField, parseInfo, parsePairs } from '../../src/metrics/info-fields.js';

t.test('parseInfo reads field:value lines and skips titles and blanks', async (t) => {
  const fields = parseInfo(
    '# Locks\r\nlocks_live:3\r\nlocks_top_contended:a=1\r\n\r\n# Queues\r\nqueue_deepest:\r\nurl:http://x:1\r\n',
  );
  t.same(
    [...fields],
    [
      ['locks_live', '3'],
      ['locks_top_contended', 'a=1'],
      ['queue_deepest', ''],
      ['url', 'http://x:1'],
    ],
  );
});

t.test('numberField: numbers only', async (t) => {
  const f = new Map([
    ['a', '12'],
    ['b', '0.25'],
    ['c', 'ok'],
    ['d', ''],
  ]);
  t.equal(numberField(f, 'a'), 12);
  t.equal(numberField(f, 'b'), 0.25);
  t.equal(numberField(f, 'c'), undefined);
  t.equal(numberField(f, 'd'), undefined);
  t.equal(numberField(f, 'missing'), undefined);
});

t.test('parsePairs reads role=leader,leader=n2,term=3', async (t) => {
  t.same(
    [...parsePairs('role=leader,leader=,term=3')],
    [
      ['role', 'leader'],
      ['leader', ''],
      ['term', '3'],
    ],
  );
  t.same([...parsePairs('')], []);
});

t.test('namedCounts keeps users names whole, commas and equals signs included', async (t) => {
  t.same(namedCounts('orders=5,jobs=2'), [
    ['orders', 5],
    ['jobs', 2],
  ]);
  t.same(namedCounts('a,b=3,c=d=2,{tag}x=0'), [
    ['a,b', 3],
    ['c=d', 2],
    ['{tag}x', 0],
  ]);
  t.same(namedCounts(''), []);
});
