import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { effectiveBind, isLoopback } from '../../src/config/protected-mode.js';

const load = (...argv: string[]) => loadConfig({ argv, env: {} });

t.test('every listener needs its own port', (t) => {
  t.throws(() => load('--bus-port', '7379'), {
    message: '--bus-port 7379 is also --port; every listener needs its own port',
  });
  t.throws(() => load('--tls-port', '8379'), {
    message: '--tls-port 8379 is also --http-port; every listener needs its own port',
  });
  t.throws(() => load('--port', '7001', '--http-port', '17001'), {
    message: '--http-port 17001 is also --bus-port; every listener needs its own port',
  });
  t.doesNotThrow(() => load('--http-port', '0', '--tls-port', '0'), 'ports that are off never clash');
  t.end();
});

t.test('TLS needs its files', (t) => {
  t.throws(() => load('--tls-cert-file', 'c.pem'), {
    message: '--tls-cert-file and --tls-key-file go together; give both or neither',
  });
  t.throws(() => load('--tls-port', '6380'), {
    message: '--tls-port needs --tls-cert-file and --tls-key-file',
  });
  t.throws(() => load('--tls-bus'), { message: '--tls-bus needs --tls-cert-file and --tls-key-file' });
  t.throws(() => load('--tls-bus', '--tls-cert-file', 'c', '--tls-key-file', 'k'), {
    message: '--tls-bus needs --tls-ca-file to verify the certificates of the other nodes',
  });
  t.match(load('--tls-port', '6380', '--tls-cert-file', 'c', '--tls-key-file', 'k'), { tlsPort: 6380 });
  t.end();
});

t.test('Raft timing: election timeout at least 5 heartbeats, down-after at least one election', (t) => {
  t.throws(() => load('--election-timeout-ms', '1000', '--heartbeat-ms', '300'), {
    message:
      '--election-timeout-ms 1000 must be at least 5 times --heartbeat-ms 300, or followers start elections between heartbeats',
  });
  t.doesNotThrow(() => load('--election-timeout-ms', '1000', '--heartbeat-ms', '200'));
  t.throws(() => load('--election-timeout-ms', '1000', '--down-after-ms', '999'), {
    message: /^--down-after-ms 999 must be at least --election-timeout-ms 1000/,
  });
  t.end();
});

t.test('protected mode: no password and no ACL file means loopback only', (t) => {
  t.equal(effectiveBind(load()), '127.0.0.1');
  t.equal(effectiveBind(load('--requirepass', 'pw')), '0.0.0.0');
  t.equal(effectiveBind(load('--acl-file', 'users.acl')), '0.0.0.0');
  t.equal(effectiveBind(load('--protected-mode', 'no')), '0.0.0.0');
  t.equal(effectiveBind(load('--bind', '::1')), '::1', 'an explicit loopback bind stays');
  t.equal(effectiveBind(load('--bind', '10.0.0.5', '--requirepass', 'pw')), '10.0.0.5');
  t.end();
});

t.test('protected mode refuses an explicit public bind instead of ignoring it', (t) => {
  t.throws(() => load('--bind', '0.0.0.0'), {
    message:
      'protected mode refuses --bind 0.0.0.0 without --requirepass or --acl-file; ' +
      'set a password, an ACL file, or --protected-mode no',
  });
  t.equal(effectiveBind(load('--bind', '0.0.0.0', '--protected-mode', 'no')), '0.0.0.0');
  t.end();
});

t.test('loopback addresses', (t) => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
    t.ok(isLoopback(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1'])
    t.notOk(isLoopback(host), host);
  t.end();
});
