import { createHash } from 'node:crypto';
import t from 'tap';
import { AclStore } from '../../src/acl/store.js';
import type { Authenticator } from '../../src/server/session.js';

const COMMANDS = [
  'ping',
  'auth',
  'config',
  'config|get',
  'config|help',
  'lock.acquire',
  'q.push',
  'cache.get',
];
const store = (text: string | null, requirepass: string | null = null) =>
  AclStore.fromText(text, { requirepass, commands: COMMANDS });
const sha256 = (password: string) => createHash('sha256').update(password).digest('hex');

t.test('no ACL file, no requirepass: default is on, nopass, +@all', (t) => {
  const acl = store(null);
  const user = acl.initialUser();
  t.equal(user?.name, 'default');
  t.ok(user?.can('config|get', ['admin', 'server']));
  t.ok(acl.defaultUserIsNopass());
  t.equal(acl.authenticate('default', 'anything')?.name, 'default', 'nopass takes any password');
  t.end();
});

t.test('requirepass is the default user’s password', (t) => {
  const acl = store(null, 's3cret');
  t.equal(acl.initialUser(), null, 'a new connection must AUTH');
  t.notOk(acl.defaultUserIsNopass());
  t.equal(acl.authenticate('default', 's3cret')?.name, 'default');
  t.equal(acl.authenticate('default', 'wrong'), null);
  t.ok(acl.authenticate('default', 's3cret')?.can('lock.acquire', ['lock', 'write']));
  t.end();
});

t.test('an ACL file without a default user turns it off', (t) => {
  const acl = store('user alice on >pw +@all');
  t.equal(acl.initialUser(), null);
  t.equal(acl.authenticate('default', ''), null);
  t.equal(acl.authenticate('alice', 'pw')?.name, 'alice');
  t.end();
});

t.test('an ACL file without a default user plus requirepass: default has the password', (t) => {
  const acl = store('user alice on >pw +@lock', 'rp');
  t.equal(acl.authenticate('default', 'rp')?.name, 'default');
  t.equal(acl.authenticate('alice', 'pw')?.name, 'alice');
  t.end();
});

t.test('an ACL file may declare the default user, but not together with requirepass', (t) => {
  const open = store('user default on nopass +@connection');
  t.equal(open.initialUser()?.name, 'default');
  t.notOk(open.initialUser()?.can('lock.acquire', ['lock', 'write']));
  t.throws(() => store('user default on >x +@all', 'rp'), {
    name: 'AclError',
    message: 'requirepass and the ACL file\'s "user default" line both set the default user; keep one',
  });
  t.end();
});

t.test('authenticate: unknown users, disabled users, hashed and plain passwords', (t) => {
  const acl = store(
    `user alice on #${sha256('hashed')} >plain +@all\nuser bob off >pw +@all\nuser carol on +@all`,
  );
  t.equal(acl.authenticate('alice', 'hashed')?.name, 'alice');
  t.equal(acl.authenticate('alice', 'plain')?.name, 'alice', 'a user may have several passwords');
  t.equal(acl.authenticate('alice', 'other'), null);
  t.equal(acl.authenticate('bob', 'pw'), null, 'off: the right password is not enough');
  t.equal(acl.authenticate('carol', ''), null, 'no password and not nopass: nobody gets in');
  t.equal(acl.authenticate('mallory', 'pw'), null);
  t.end();
});

t.test('the digest in the file may be upper case', (t) => {
  const acl = store(`user alice on #${sha256('pw').toUpperCase()} +@all`);
  t.equal(acl.authenticate('alice', 'pw')?.name, 'alice');
  t.end();
});

t.test('the store is the server’s Authenticator', (t) => {
  const authenticator: Authenticator = store(null, 'pw');
  t.equal(authenticator.authenticate('default', 'pw')?.name, 'default');
  t.end();
});
