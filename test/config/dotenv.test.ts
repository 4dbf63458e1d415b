import fc from 'fast-check';
import t from 'tap';
import { parseDotenv } from '../../src/config/dotenv.js';

const pairs = (text: string) => parseDotenv(text).map(({ key, value }) => [key, value]);

t.test('KEY=value lines; blank lines, comments and export are skipped', (t) => {
  const text = '\uFEFF# a comment\n\n  # indented comment\nA=1\nexport B=2\r\n  C = three  \nexport=4\n';
  t.same(pairs(text), [
    ['A', '1'],
    ['B', '2'],
    ['C', 'three'],
    ['export', '4'],
  ]);
  t.end();
});

t.test('entries carry their line numbers, and repeated keys stay in order', (t) => {
  t.same(parseDotenv('\n# c\nA=1\nA=2\n'), [
    { key: 'A', value: '1', line: 3 },
    { key: 'A', value: '2', line: 4 },
  ]);
  t.end();
});

t.test('unquoted values: an inline comment needs whitespace before #', (t) => {
  t.same(pairs('A=value # comment\nB=a#b\nC= # only a comment\nD=#x\nE=\nF=x\t#tab'), [
    ['A', 'value'],
    ['B', 'a#b'],
    ['C', ''],
    ['D', '#x'],
    ['E', ''],
    ['F', 'x'],
  ]);
  t.end();
});

t.test('double quotes: escapes, # and spaces kept, comment after the closing quote', (t) => {
  t.same(pairs('A="a # b"\nB="x\\ty\\n\\"q\\"\\\\" # c\nC="  padded  "\nD="\\$HOME"\nE=""'), [
    ['A', 'a # b'],
    ['B', 'x\ty\n"q"\\'],
    ['C', '  padded  '],
    ['D', '\\$HOME'],
    ['E', ''],
  ]);
  t.end();
});

t.test("single quotes are literal except \\'", (t) => {
  t.same(pairs("A='$OTHER \\t'\nB='Let\\'s go!'\nC='a\"b'"), [
    ['A', '$OTHER \\t'],
    ['B', "Let's go!"],
    ['C', 'a"b'],
  ]);
  t.end();
});

t.test('quoted values may span lines', (t) => {
  t.same(parseDotenv('A="line 1\nline 2"\nB=after'), [
    { key: 'A', value: 'line 1\nline 2', line: 1 },
    { key: 'B', value: 'after', line: 3 },
  ]);
  t.end();
});

t.test('malformed lines are errors with their line number', (t) => {
  t.throws(() => parseDotenv('A=1\nnot a pair\n'), {
    name: 'ConfigError',
    message: '.env line 2: expected KEY=value',
  });
  t.throws(() => parseDotenv('1A=x'), { message: '.env line 1: expected KEY=value' });
  t.throws(() => parseDotenv('A B=x'), { message: '.env line 1: expected KEY=value' });
  t.throws(() => parseDotenv('\nA="open\nstill open'), { message: '.env line 2: unterminated " quote' });
  t.throws(() => parseDotenv("A='x' y"), {
    message: ".env line 1: unexpected text after the closing ' quote",
  });
  t.end();
});

t.test('any value survives double quoting with escapes', (t) => {
  const quote = (value: string) =>
    `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n').replaceAll('\r', '\\r')}"`;
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (value) => {
      const [entry] = parseDotenv(`KEY=${quote(value)} # comment`);
      return entry?.value === value;
    }),
  );
  t.end();
});
