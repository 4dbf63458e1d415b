import t from 'tap';
import { parseAclText } from '../../src/acl/parse.js';

const COMMANDS = new Set(['ping', 'lock.acquire', 'lock.release', 'config', 'config|get']);
const parse = (text: string) => parseAclText(text, COMMANDS);

t.test('one user per line; comments and blank lines are skipped', (t) => {
  const users = parse('# users\n\nuser alice on >pw +@lock\r\n  # indented comment\nuser bob off\n');
  t.same([...users.keys()], ['alice', 'bob']);
  t.ok(users.get('alice')?.enabled);
  t.notOk(users.get('bob')?.enabled);
  t.end();
});

t.test('password rules: nopass clears passwords, a password clears nopass, resetpass clears both', (t) => {
  const users = parse(
    [
      'user a on >pw nopass',
      'user b on nopass >pw',
      'user c on nopass resetpass',
      'user d on >pw reset on',
    ].join('\n'),
  );
  t.ok(users.get('a')?.nopass);
  t.notOk(users.get('b')?.nopass);
  t.notOk(users.get('c')?.nopass);
  t.notOk(users.get('d')?.can('ping', ['connection']), 'reset drops earlier rules');
  t.end();
});

t.test('the unrestricted key and channel rules of Redis ACL files are accepted', (t) => {
  const users = parse('user default on nopass ~* &* resetchannels allkeys allchannels +@all');
  t.ok(users.get('default')?.can('ping', ['connection']));
  t.end();
});

t.test('bad lines are errors that name the line', (t) => {
  const cases: [string, string][] = [
    ['user alice on\nalice on', 'acl-file line 2: expected "user <name> <rules...>"'],
    ['user', 'acl-file line 1: expected "user <name> <rules...>"'],
    ['user a on\n\nuser a off', 'acl-file line 3: user a is defined twice (first on line 1)'],
    [
      'user a on +@dangerous',
      'acl-file line 1 (user a): unknown category "@dangerous" (categories: all, connection, server, admin, lock, queue, cache, cluster, read, write)',
    ],
    ['user a on -lock.relese', 'acl-file line 1 (user a): unknown command "lock.relese"'],
    ['user a on sometimes', 'acl-file line 1 (user a): unknown rule "sometimes"'],
    ['user a on #abc', 'acl-file line 1 (user a): "#abc" is not "#" and a SHA-256 digest in 64 hex digits'],
    ['user a on >', 'acl-file line 1 (user a): empty password after ">"'],
    [
      'user a on ~app:*',
      'acl-file line 1 (user a): "~app:*": per-key and per-channel permissions are not supported (only ~*, allkeys, &*, allchannels)',
    ],
    [
      'user a on resetkeys',
      'acl-file line 1 (user a): "resetkeys": per-key and per-channel permissions are not supported (only ~*, allkeys, &*, allchannels)',
    ],
  ];
  for (const [text, message] of cases) t.throws(() => parse(text), { name: 'AclError', message }, text);
  t.end();
});

t.test('the subcommand form is checked against the command table too', (t) => {
  t.ok(parse('user a on +config|get').get('a')?.can('config|get', ['admin']));
  t.throws(() => parse('user a on +config|set'), {
    message: 'acl-file line 1 (user a): unknown command "config|set"',
  });
  t.end();
});
