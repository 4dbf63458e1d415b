import t from 'tap';
import { ArgReader } from '../../src/commands/args.js';

const argv = (...words: string[]) => words.map((w) => Buffer.from(w));

t.test('ArgReader reads keywords case-insensitively and integers with Redis errors', (t) => {
  const reader = new ArgReader(argv('CLIENT', 'KILL', 'id', '42', 'SKIPME', 'x'), 2);
  t.ok(reader.acceptKeyword('ID'));
  t.equal(reader.nextInt(1), 42);
  t.notOk(reader.acceptKeyword('ADDR'), 'a keyword that is not next is not consumed');
  t.equal(reader.remaining, 2);
  t.equal(reader.next(), 'SKIPME');
  t.throws(() => reader.nextInt(), /value is not an integer or out of range/);
  t.notOk(reader.hasMore());
  t.throws(() => reader.next(), /syntax error/, 'reading past the end is a syntax error');
  t.end();
});

t.test('nextInt refuses out-of-range, signs in the middle and huge numbers', (t) => {
  for (const [text, min, max] of [
    ['0', 1, 10],
    ['11', 1, 10],
    ['1-2', 0, 10],
    ['99999999999999999', 0, Number.MAX_SAFE_INTEGER],
    ['', 0, 10],
  ] as const) {
    t.throws(() => new ArgReader(argv('X', text)).nextInt(min, max), /not an integer/, JSON.stringify(text));
  }
  t.equal(new ArgReader(argv('X', '-5')).nextInt(), -5);
  t.end();
});
