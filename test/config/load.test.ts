import fc from 'fast-check';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';

const load = (argv: string[] = [], env: Record<string, string> = {}, dotenvText?: string) =>
  loadConfig({ argv, env, dotenvText });

const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
};

t.test('defaults follow DESIGN: client 7379, bus +10000, HTTP 8379, data ./data/<id>', (t) => {
  const config = load();
  t.equal(config.port, 7379);
  t.equal(config.busPort, 17379);
  t.equal(config.httpPort, 8379);
  t.equal(config.id, 'node-7379');
  t.equal(config.data, './data/node-7379');
  t.equal(config.fsync, 'always');
  t.equal(config.partitions, 16);
  t.equal(config.replicas, 3);
  t.equal(config.metaVotersMax, 5);
  t.equal(config.requirepass, null);
  t.same(config.join, []);
  t.end();
});

t.test('flags beat env, env beats .env, .env beats defaults', (t) => {
  const dotenv = 'LOCKSTEP_PORT=7003\nLOCKSTEP_HEARTBEAT_MS=50\nLOCKSTEP_FSYNC=no\nLOCKSTEP_REPLICAS=5\n';
  const env = { LOCKSTEP_PORT: '7002', LOCKSTEP_HEARTBEAT_MS: '60', LOCKSTEP_FSYNC: 'everysec' };
  const config = load(['--port', '7001', '--heartbeat-ms=70', '--election-timeout-ms=1000'], env, dotenv);
  t.equal(config.port, 7001, 'flag over env and .env');
  t.equal(config.heartbeatMs, 70, 'flag over env and .env');
  t.equal(config.fsync, 'everysec', 'env over .env');
  t.equal(config.replicas, 5, '.env over default');
  t.equal(config.partitions, 16, 'default');
  t.end();
});

t.test('the highest layer that gives a value wins, whichever layers give one', (t) => {
  const maybePort = fc.option(fc.integer({ min: 1, max: 9999 }), { nil: undefined });
  fc.assert(
    fc.property(maybePort, maybePort, maybePort, (flag, env, dotenv) => {
      const config = load(
        flag === undefined ? [] : [`--port=${flag}`],
        env === undefined ? {} : { LOCKSTEP_PORT: String(env) },
        dotenv === undefined ? '' : `LOCKSTEP_PORT=${dotenv}`,
      );
      return config.port === (flag ?? env ?? dotenv ?? 7379);
    }),
  );
  t.end();
});

t.test('derived defaults follow the resolved value from any layer, and yield to their own setting', (t) => {
  t.match(load(['--port', '7001']), {
    busPort: 17001,
    httpPort: 8001,
    id: 'node-7001',
    data: './data/node-7001',
  });
  t.match(load([], { LOCKSTEP_PORT: '7002' }), { busPort: 17002, httpPort: 8002 });
  t.match(load([], {}, 'LOCKSTEP_ID=n3'), { id: 'n3', data: './data/n3' });
  t.match(load(['--port', '7001', '--bus-port', '9000', '--http-port', '0']), { busPort: 9000, httpPort: 0 });
  t.equal(load(['--id', 'n1', '--data', '/var/lib/lockstep']).data, '/var/lib/lockstep');
  t.end();
});

t.test('a derived default out of range names its derivation', (t) => {
  t.equal(
    errorOf(() => load(['--port', '60000'])),
    'invalid --bus-port "70000" (the default, <port> + 10000): expected an integer between 0 and 65535',
  );
  t.equal(load(['--port', '60000', '--bus-port', '6000', '--http-port', '6001']).busPort, 6000);
  t.end();
});

t.test('flag syntax: --name value, --name=value, bare bools, repeated flags', (t) => {
  t.equal(load(['--requirepass=a=b']).requirepass, 'a=b', 'only the first = splits');
  t.equal(load(['--protected-mode', 'no']).protectedMode, false);
  t.equal(load(['--protected-mode=no']).protectedMode, false);
  t.equal(
    load(['--tls-bus', '--tls-cert-file', 'c', '--tls-key-file', 'k', '--tls-ca-file', 'ca']).tlsBus,
    true,
  );
  t.equal(load(['--port', '7001', '--port', '7002']).port, 7002, 'the last one wins');
  t.same(load(['--join', 'a:1,b:2', '--join', 'c:3']).join, [
    { host: 'a', port: 1 },
    { host: 'b', port: 2 },
    { host: 'c', port: 3 },
  ]);
  t.equal(load(['--requirepass', '']).requirepass, null, 'empty optional text is unset');
  t.end();
});

t.test('flag syntax errors', (t) => {
  t.equal(
    errorOf(() => load(['--port'])),
    'missing value for --port (--port <n>)',
  );
  t.equal(
    errorOf(() => load(['--requirepass', '--port', '1'])),
    'missing value for --requirepass (--requirepass <password>)',
  );
  t.equal(
    errorOf(() => load(['7001'])),
    'unexpected argument "7001" (options are spelled --name value; see --help)',
  );
  t.equal(
    errorOf(() => load(['-p', '7001'])),
    'unknown option -p (options are spelled --name; see --help)',
  );
  t.equal(
    errorOf(() => load(['--protected-mode', 'maybe'])),
    'invalid --protected-mode "maybe": expected yes or no',
  );
  t.end();
});

t.test('unknown options suggest the closest name', (t) => {
  t.equal(
    errorOf(() => load(['--prot', '7001'])),
    'unknown option --prot (did you mean --port?)',
  );
  t.equal(
    errorOf(() => load(['--requirepas', 'x'])),
    'unknown option --requirepas (did you mean --requirepass?)',
  );
  t.equal(
    errorOf(() => load(['--election-timeout=900'])),
    'unknown option --election-timeout (did you mean --election-timeout-ms?)',
  );
  t.equal(
    errorOf(() => load(['--Port', '1'])),
    'unknown option --Port (did you mean --port?)',
  );
  t.equal(
    errorOf(() => load(['--frobnicate', '1'])),
    'unknown option --frobnicate (see --help)',
  );
  t.end();
});

t.test('the error names the layer the bad value came from', (t) => {
  t.equal(
    errorOf(() => load(['--port', '70x1'])),
    'invalid --port "70x1": expected an integer between 0 and 65535',
  );
  t.equal(
    errorOf(() => load([], { LOCKSTEP_PORT: '70x1' })),
    'invalid LOCKSTEP_PORT "70x1": expected an integer between 0 and 65535',
  );
  t.equal(
    errorOf(() => load([], {}, '# nodes\n\nLOCKSTEP_PORT=70x1\n')),
    'invalid LOCKSTEP_PORT "70x1" in .env line 3: expected an integer between 0 and 65535',
  );
  t.end();
});

t.test('a bad lower layer is reported even when a higher one overrides it', (t) => {
  t.match(
    errorOf(() => load(['--port', '7001'], {}, 'LOCKSTEP_PORT=x')),
    /LOCKSTEP_PORT "x" in \.env line 1/,
  );
  t.end();
});

t.test('secrets never appear in errors', (t) => {
  const message = errorOf(() => load(['--cluster-secret', 'hunter2']));
  t.equal(message, 'invalid --cluster-secret (value hidden): expected at least 16 characters');
  t.notMatch(message, /hunter2/);
  t.equal(
    load([], { LOCKSTEP_CLUSTER_SECRET: 'a-secret-of-16-chars' }).clusterSecret,
    'a-secret-of-16-chars',
  );
  t.end();
});

t.test('environment: empty means unset, near-miss names are errors, others are ignored', (t) => {
  t.equal(load([], { LOCKSTEP_PORT: '' }, 'LOCKSTEP_PORT=7005').port, 7005);
  t.equal(
    errorOf(() => load([], { LOCKSTEP_REQUIREPAS: 'x' })),
    'unknown setting LOCKSTEP_REQUIREPAS (did you mean LOCKSTEP_REQUIREPASS?)',
  );
  t.equal(
    errorOf(() => load([], { LOCKSTEP_ELECTION_TIMEOUT: '900' })),
    'unknown setting LOCKSTEP_ELECTION_TIMEOUT (did you mean LOCKSTEP_ELECTION_TIMEOUT_MS?)',
  );
  t.equal(load([], { LOCKSTEP_FUZZ_RUNS: '150', PORT: '1', HOME: '/root' }).port, 7379);
  t.end();
});

t.test('.env: every LOCKSTEP_ key must be a setting, other keys belong to other tools', (t) => {
  t.equal(
    errorOf(() => load([], {}, 'COMPOSE_PROJECT_NAME=x\nLOCKSTEP_PROT=1')),
    'unknown setting LOCKSTEP_PROT in .env line 2 (did you mean LOCKSTEP_PORT?)',
  );
  t.equal(
    errorOf(() => load([], {}, 'LOCKSTEP_WIDGETS=1')),
    'unknown setting LOCKSTEP_WIDGETS in .env line 1',
  );
  t.equal(load([], {}, 'LOCKSTEP_PORT=7001\nLOCKSTEP_PORT=').port, 7379, 'a later empty line unsets');
  t.equal(load([], {}, 'LOCKSTEP_PORT=7001\nLOCKSTEP_PORT=7002').port, 7002, 'the last line wins');
  t.end();
});

t.test('the config is frozen', (t) => {
  const config = load();
  t.ok(Object.isFrozen(config));
  t.end();
});

t.test('--help is the caller’s to answer before loading', (t) => {
  t.throws(() => load(['--help']), { name: 'AssertionError' });
  t.end();
});
