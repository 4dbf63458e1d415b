import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import {
  addresses,
  bool,
  bytes,
  formatBytes,
  host,
  int,
  oneOf,
  type Setting,
  text,
} from '../../src/config/setting.js';

const common = { group: 'node', description: 'test setting.' } as const;

function parsedValue<T>(setting: Setting<T>, input: string): T {
  const parsed = setting.parse(input);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(input)} to parse, got: ${parsed.expected}`);
  return parsed.value;
}

function expectedOf(setting: Setting<unknown>, input: string): string {
  const parsed = setting.parse(input);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return parsed.expected;
}

t.test('int: decimal digits within the range', (t) => {
  const port = int({ ...common, min: 1, max: 65535, default: 7379 });
  t.equal(parsedValue(port, '7001'), 7001);
  t.equal(parsedValue(port, '65535'), 65535);
  for (const bad of ['0', '65536', '70x1', '-1', '1.5', '1e3', ' 1', '', '0x10', '99999999999999999999']) {
    t.equal(expectedOf(port, bad), 'an integer between 1 and 65535', JSON.stringify(bad));
  }
  t.end();
});

t.test('bytes: plain or with Redis suffixes (k = 1000, kb = 1024)', (t) => {
  const size = bytes({ ...common, min: 1, max: 1024 ** 3, default: 1024 });
  t.equal(parsedValue(size, '65536'), 65536);
  t.equal(parsedValue(size, '1k'), 1000);
  t.equal(parsedValue(size, '1kb'), 1024);
  t.equal(parsedValue(size, '2m'), 2_000_000);
  t.equal(parsedValue(size, '16MB'), 16 * 1024 ** 2);
  t.equal(parsedValue(size, '1g'), 1e9);
  t.equal(parsedValue(size, '1gb'), 1024 ** 3);
  for (const bad of ['0', '2gb', '1.5mb', '1 mb', 'mb', '1tb', '-1']) {
    t.equal(expectedOf(size, bad), 'a size between 1 and 1gb, like 65536, 64kb or 16mb', JSON.stringify(bad));
  }
  t.end();
});

t.test('bytes print in the largest exact binary unit', (t) => {
  t.equal(formatBytes(0), '0');
  t.equal(formatBytes(1000), '1000');
  t.equal(formatBytes(1024), '1kb');
  t.equal(formatBytes(1536), '1536');
  t.equal(formatBytes(64 * 1024 ** 2), '64mb');
  t.equal(formatBytes(3 * 1024 ** 3), '3gb');
  t.end();
});

t.test('bool: yes/no and the usual synonyms, any case', (t) => {
  const flag = bool({ ...common, default: true });
  for (const yes of ['yes', 'YES', 'true', 'on', '1']) t.equal(parsedValue(flag, yes), true, yes);
  for (const no of ['no', 'No', 'false', 'off', '0']) t.equal(parsedValue(flag, no), false, no);
  t.equal(expectedOf(flag, 'maybe'), 'yes or no');
  t.equal(flag.format(true), 'yes');
  t.end();
});

t.test('enum: one of the values, any case, stored lower case', (t) => {
  const fsync = oneOf(['always', 'everysec', 'no'], { ...common, default: 'always' });
  t.equal(parsedValue(fsync, 'EverySec'), 'everysec');
  t.equal(expectedOf(fsync, 'sometimes'), 'one of always, everysec, no');
  t.end();
});

t.test('text: optional text takes empty as unset; a pattern says what it expects', (t) => {
  const password = text({ ...common, noun: 'password', default: null });
  t.equal(parsedValue(password, ''), null);
  t.equal(parsedValue(password, ' s3cret '), ' s3cret ', 'kept as given');
  const name = text({
    ...common,
    noun: 'name',
    default: 'x',
    pattern: { regex: /^[a-z]+$/, expected: 'letters' },
  });
  t.equal(expectedOf(name, 'a1'), 'letters');
  t.equal(expectedOf(text({ ...common, noun: 'path', default: '.' }), ''), 'a non-empty path');
  t.end();
});

t.test('host: IP addresses and host names', (t) => {
  const bind = host({ ...common, default: '0.0.0.0' });
  for (const good of ['127.0.0.1', '::', '::1', 'fe80::1', 'localhost', 'node-1.example.com']) {
    t.equal(parsedValue(bind, good), good);
  }
  for (const bad of ['', 'a b', '[::1]', 'host:1', '-bad.example', 'x'.repeat(64)]) {
    t.equal(expectedOf(bind, bad), 'an IP address or a host name', JSON.stringify(bad));
  }
  t.equal(parsedValue(host({ ...common, default: null }), ''), null);
  t.end();
});

t.test('addresses: comma-separated host:port, IPv6 in brackets', (t) => {
  const join = addresses(common);
  t.same(parsedValue(join, '10.0.0.2:7379, node-b:7001,[::1]:7002,'), [
    { host: '10.0.0.2', port: 7379 },
    { host: 'node-b', port: 7001 },
    { host: '::1', port: 7002 },
  ]);
  t.same(parsedValue(join, ''), []);
  for (const bad of ['node-b', 'node-b:0', 'node-b:65536', '::1:7001', '[node-b]:1', 'a b:1', 'a:1:2']) {
    t.equal(
      expectedOf(join, bad),
      'a comma-separated list of host:port, like 10.0.0.2:7379 or [::1]:7379',
      JSON.stringify(bad),
    );
  }
  t.equal(
    join.format([
      { host: '::1', port: 1 },
      { host: 'a', port: 2 },
    ]),
    '[::1]:1,a:2',
  );
  t.end();
});

t.test('format then parse gives the value back', (t) => {
  const size = bytes({ ...common, min: 0, max: 2 ** 40, default: 0 });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => parsedValue(size, size.format(n)) === n),
  );
  const join = addresses(common);
  const address = fc.record({
    host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
    port: fc.integer({ min: 1, max: 65535 }),
  });
  fc.assert(
    fc.property(fc.array(address, { maxLength: 5 }), (list) =>
      isDeepStrictEqual(
        parsedValue(join, join.format(list)),
        list.map(({ host, port }) => ({ host, port })),
      ),
    ),
  );
  t.end();
});
