import fc from 'fast-check';
import t from 'tap';
import { AclStore } from '../../src/acl/store.js';
import type { AclUser } from '../../src/acl/user.js';

/** A small command table: name → categories, in the shape of src/commands. */
const TABLE: Readonly<Record<string, readonly string[]>> = {
  ping: ['connection'],
  'client|list': ['admin', 'connection'],
  'client|setname': ['connection'],
  'config|get': ['admin', 'server'],
  'config|help': ['server'],
  'lock.acquire': ['lock', 'write'],
  'lock.status': ['lock', 'read'],
  'q.push': ['queue', 'write'],
  'q.len': ['queue', 'read'],
  'cache.get': ['cache', 'read'],
};
const COMMANDS = [...Object.keys(TABLE), 'client', 'config'];

function userWith(rules: string): AclUser {
  const acl = AclStore.fromText(`user u on >pw ${rules}`, { requirepass: null, commands: COMMANDS });
  const user = acl.authenticate('u', 'pw');
  if (!user) throw new Error('user u did not authenticate');
  return user;
}

const allowed = (user: AclUser) =>
  Object.keys(TABLE).filter((name) => user.can(name, TABLE[name] as string[]));

t.test('a new user may run nothing', (t) => {
  t.same(allowed(userWith('')), []);
  t.end();
});

t.test('categories grant and revoke', (t) => {
  t.same(allowed(userWith('+@lock +@queue')), ['lock.acquire', 'lock.status', 'q.push', 'q.len']);
  t.same(allowed(userWith('+@all -@admin -@write')), [
    'ping',
    'client|setname',
    'config|help',
    'lock.status',
    'q.len',
    'cache.get',
  ]);
  t.same(allowed(userWith('+@read')), ['lock.status', 'q.len', 'cache.get']);
  t.end();
});

t.test('rules apply left to right: the last match decides', (t) => {
  t.same(allowed(userWith('-@admin +@all')), Object.keys(TABLE));
  t.same(allowed(userWith('+@all -@all +ping')), ['ping']);
  t.same(allowed(userWith('allcommands nocommands')), []);
  t.same(allowed(userWith('+@lock -lock.acquire')), ['lock.status']);
  t.end();
});

t.test('a command rule covers its subcommands; a subcommand rule only itself', (t) => {
  t.same(allowed(userWith('+client')), ['client|list', 'client|setname']);
  t.same(allowed(userWith('+client -client|list')), ['client|setname']);
  t.same(allowed(userWith('+config|get')), ['config|get']);
  t.same(allowed(userWith('+config|get -config')), []);
  t.end();
});

t.test('rule names are case-insensitive', (t) => {
  t.same(allowed(userWith('+@LOCK -LOCK.ACQUIRE')), ['lock.status']);
  t.end();
});

t.test('matches Redis’s model: each rule sets or clears the bits of the commands it names', (t) => {
  const categories = ['all', 'connection', 'admin', 'server', 'lock', 'queue', 'cache', 'read', 'write'];
  const rule = fc.tuple(
    fc.boolean(),
    fc.oneof(
      fc.constantFrom(...categories).map((c) => `@${c}`),
      fc.constantFrom(...COMMANDS),
    ),
  );
  fc.assert(
    fc.property(fc.array(rule, { maxLength: 8 }), (rules) => {
      const bits = new Map(Object.keys(TABLE).map((name) => [name, false]));
      for (const [allow, target] of rules) {
        for (const [name, cats] of Object.entries(TABLE)) {
          const hit = target.startsWith('@')
            ? target === '@all' || cats.includes(target.slice(1))
            : name === target || name.startsWith(`${target}|`);
          if (hit) bits.set(name, allow);
        }
      }
      const user = userWith(rules.map(([allow, target]) => `${allow ? '+' : '-'}${target}`).join(' '));
      return Object.entries(TABLE).every(([name, cats]) => user.can(name, cats) === bits.get(name));
    }),
  );
  t.end();
});
