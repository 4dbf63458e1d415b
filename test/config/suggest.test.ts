import t from 'tap';
import { closestName, editDistance } from '../../src/config/suggest.js';

t.test('edit distance counts a swap of adjacent letters as one edit', (t) => {
  t.equal(editDistance('port', 'port'), 0);
  t.equal(editDistance('prot', 'port'), 1);
  t.equal(editDistance('bind', 'bond'), 1);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('kitten', 'sitting'), 3);
  t.end();
});

t.test('suggests a unit-suffixed name, else a close one, else nothing', (t) => {
  const names = [
    'port',
    'bus-port',
    'timeout-ms',
    'election-timeout-ms',
    'cache-max-bytes',
    'cache-protocol',
  ];
  t.equal(closestName('timeout', names), 'timeout-ms');
  t.equal(closestName('election-timeout', names), 'election-timeout-ms');
  t.equal(closestName('prot', names), 'port');
  t.equal(closestName('bus-prot', names), 'bus-port');
  t.equal(closestName('cache', names), undefined, 'two names extend it: no guess');
  t.equal(closestName('fuzz-runs', names), undefined);
  t.end();
});
