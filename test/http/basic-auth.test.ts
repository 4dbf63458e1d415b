import t from 'tap';
import { parseBasicAuth } from '../../src/http/basic-auth.js';

const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

t.test('Basic credentials', async (t) => {
  t.equal(parseBasicAuth(undefined), null);
  t.equal(parseBasicAuth(''), null);
  t.same(
    parseBasicAuth(basic('alice:s3cr:et')),
    { username: 'alice', password: 's3cr:et' },
    'the password may hold a colon',
  );
  t.same(
    parseBasicAuth(basic(':pw')),
    { username: 'default', password: 'pw' },
    'no user: the default user, as AUTH pw',
  );
  t.same(parseBasicAuth(`basic   ${Buffer.from('u:p').toString('base64')}`), {
    username: 'u',
    password: 'p',
  });
  t.match(parseBasicAuth('Bearer abc'), { malformed: /Basic/ });
  t.match(parseBasicAuth(basic('no-colon')), { malformed: /user:password/ });
});
