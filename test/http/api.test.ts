import { Redis } from 'ioredis';
import t from 'tap';
import { parseInfo } from '../../src/metrics/info-fields.js';
import { startTestNode } from '../helpers/node.js';
import { freePorts } from '../helpers/ports.js';
import { api, basicAuth } from './helpers.js';

/**
 * The JSON API on one in-process node: the seed walk-through's lock and queue calls, the
 * error mapping, validation, authentication, and that every call is an ordinary command run
 * by the dispatcher (it shows in INFO commandstats like a RESP client's).
 */
t.test('HTTP JSON API on one node', async (t) => {
  const [httpPort] = await freePorts(1);
  const node = await startTestNode(t, ['--http-port', String(httpPort)]);
  const port = node.httpPort!;
  const redis = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => redis.disconnect());
  await redis.connect();
  const post = (path: string, body: unknown, options = {}) => api(port, 'POST', path, body, options);
  const calls = async (command: string) =>
    Number(
      /calls=(\d+)/.exec(
        parseInfo(String(await redis.call('INFO', 'commandstats'))).get(`cmdstat_${command}`) ?? '',
      )?.[1] ?? 0,
    );

  t.test('GET /health', async (t) => {
    const r = await api(port, 'GET', '/health');
    t.equal(r.status, 200);
    t.match(r.body, { status: 'ok', node: 'n1', state: 'up', meta_leader: 'n1', members: 1 });
  });

  t.test('locks: acquire, refused while held, release, through the command layer', async (t) => {
    const before = await calls('lock.acquire');
    const a = await post('/lock/acquire', { name: 'resource1', mode: 'exclusive', owner: 'clientA' });
    t.equal(a.status, 200);
    t.match(a.body, { ok: true, token: Number });
    const b = await post('/lock/acquire', { name: 'resource1', mode: 'exclusive', owner: 'clientB' });
    t.same(b, { ...b, status: 200, body: { ok: false, reason: 'locked' } });
    t.equal(await calls('lock.acquire'), before + 2, 'counted by the dispatcher like RESP commands');
    const status = (await redis.call('LOCK.STATUS', 'resource1')) as unknown[];
    t.match(JSON.stringify(status), /clientA/, 'RESP clients see the HTTP hold');
    t.same((await post('/lock/release', { name: 'resource1', mode: 'exclusive', owner: 'clientA' })).body, {
      ok: true,
    });
    t.same((await post('/lock/release', { name: 'resource1', owner: 'clientA' })).body, {
      ok: false,
      reason: 'not_held',
    });
    const again = await post('/lock/acquire', { name: 'resource1', owner: 'clientB', ttl_ms: 5000 });
    t.ok(again.body.token > a.body.token, 'fencing tokens go up');
    const shared = await post('/lock/acquire', { name: 'shared1', mode: 'shared', owner: 'r1' });
    const shared2 = await post('/lock/acquire', { name: 'shared1', mode: 'shared', owner: 'r2' });
    t.ok(shared.body.ok && shared2.body.ok, 'shared holds coexist');
    t.same(
      (await post('/lock/release', { name: 'resource1', owner: 'clientB', token: again.body.token })).body,
      {
        ok: true,
      },
    );
  });

  t.test('a waiting acquire is granted on release; a wait that would deadlock is a 409', async (t) => {
    await post('/lock/acquire', { name: 'x', owner: 'A' });
    await post('/lock/acquire', { name: 'y', owner: 'B' });
    const aWaits = post('/lock/acquire', { name: 'y', owner: 'A', wait_ms: 10_000 });
    await waitFor(async () => JSON.stringify(await redis.call('LOCK.STATUS', 'y')).includes('"A"'));
    const cycle = await post('/lock/acquire', { name: 'x', owner: 'B', wait_ms: 10_000 });
    t.equal(cycle.status, 409);
    t.match(cycle.body, { ok: false, code: 'DEADLOCK', error: /cycle/ });
    t.same((await post('/lock/release', { name: 'y', owner: 'B' })).body, { ok: true });
    t.match((await aWaits).body, { ok: true, token: Number }, 'the waiter got y');
    await post('/lock/release', { name: 'x', owner: 'A' });
    await post('/lock/release', { name: 'y', owner: 'A' });
  });

  t.test('a client that goes away while waiting leaves the queue, as a RESP client would', async (t) => {
    await post('/lock/acquire', { name: 'held', owner: 'holder' });
    const cancelsBefore = Number(parseInfo(String(await redis.call('INFO', 'locks'))).get('locks_cancels'));
    const abort = new AbortController();
    // Short: the lock service keeps a cancelled waiter's guard timer until WAIT + request timeout.
    const waiting = post(
      '/lock/acquire',
      { name: 'held', owner: 'leaver', wait_ms: 2000 },
      { signal: abort.signal },
    );
    await waitFor(async () => JSON.stringify(await redis.call('LOCK.STATUS', 'held')).includes('leaver'));
    abort.abort();
    await t.rejects(waiting);
    await waitFor(async () => !JSON.stringify(await redis.call('LOCK.STATUS', 'held')).includes('leaver'));
    const cancels = Number(parseInfo(String(await redis.call('INFO', 'locks'))).get('locks_cancels'));
    t.equal(cancels, cancelsBefore + 1, 'the wait was cancelled');
    t.same((await post('/lock/release', { name: 'held', owner: 'holder' })).body, { ok: true });
  });

  t.test('queues: push, pop (seed body), ack; empty; COUNT', async (t) => {
    const pushed = await post('/queue/push', { queue: 'orders', payload: { order_id: 1, item: 'book' } });
    t.match(pushed.body, { ok: true, id: /^\d+-0$/ });
    t.equal(await redis.call('Q.LEN', 'orders'), 1, 'RESP sees it');
    const popped = await post('/queue/pop', { queue: 'orders', payload: {} });
    t.same(popped.body, { ok: true, id: pushed.body.id, item: { order_id: 1, item: 'book' }, deliveries: 1 });
    t.same((await post('/queue/pop', { queue: 'orders' })).body, { ok: false, reason: 'empty' });
    t.same((await post('/queue/ack', { queue: 'orders', id: pushed.body.id })).body, { ok: true, acked: 1 });
    t.same((await post('/queue/ack', { queue: 'orders', id: [pushed.body.id] })).body, {
      ok: false,
      acked: 0,
      reason: 'not_inflight',
    });
    await redis.call('Q.PUSH', 'mixed', 'from redis-cli', '42');
    const many = await post('/queue/pop', { queue: 'mixed', count: 5, visibility_ms: 60_000 });
    t.same(
      many.body.items.map((m: { item: unknown }) => m.item),
      ['from redis-cli', 42],
      'non-JSON payloads read as strings',
    );
    const blocked = post('/queue/pop', { queue: 'later', block_ms: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    await post('/queue/push', { queue: 'later', payload: 'wake up' });
    t.match((await blocked).body, { ok: true, item: 'wake up' }, 'a blocking pop wakes on a push');
  });

  t.test('bad requests get a 400 naming the problem; nothing runs', async (t) => {
    const before = await calls('lock.acquire');
    const cases: [unknown, RegExp][] = [
      [{ name: 'r', mode: 'exclusive' }, /body must have the field 'owner'/],
      [{ name: 'r', owner: 'o', nmae: 'r' }, /body has an unknown field 'nmae'/],
      [{ name: 'r', owner: 'o', mode: 'EXCLUSIVE' }, /body\/mode must be one of: exclusive, shared/],
      [{ name: 'r', owner: 'o', ttl_ms: '1000' }, /body\/ttl_ms must be of type integer/],
      [{ name: 'r', owner: 'o', ttl_ms: 0 }, /body\/ttl_ms must be >= 1/],
      [{ name: '', owner: 'o' }, /body\/name must NOT have fewer than 1 characters/],
      [[1, 2], /body must be of type object/],
    ];
    for (const [body, message] of cases) {
      const r = await post('/lock/acquire', body);
      t.equal(r.status, 400, JSON.stringify(body));
      t.match(r.body, { ok: false, code: 'ERR', error: message });
    }
    t.equal(await calls('lock.acquire'), before, 'no command ran for any of them');
    const form = await post('/lock/acquire', undefined, {
      rawBody: 'name=r',
      headers: { 'content-type': 'text/plain' },
    });
    t.equal(form.status, 415);
    t.match(form.body.error, /application\/json \(got text\/plain\)/);
    const broken = await post('/lock/acquire', undefined, {
      rawBody: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    t.equal(broken.status, 400);
    t.match(broken.body, { ok: false, code: 'ERR' });
    const missingKey = await api(port, 'GET', '/cache/read');
    t.equal(missingKey.status, 400);
    t.match(missingKey.body.error, /querystring must have the field 'key'/);
    const nowhere = await api(port, 'GET', '/nope?x=1');
    t.same(nowhere.body, { ok: false, code: 'NOTFOUND', error: 'no route GET /nope' });
    t.equal(nowhere.status, 404);
  });

  t.test('limits of the command layer come back as its own errors', async (t) => {
    const r = await post('/lock/acquire', { name: 'n'.repeat(600), owner: 'o' });
    t.equal(r.status, 400);
    t.match(r.body, { ok: false, code: 'ERR', error: /name/ });
  });

  t.test('status page and its JSON', async (t) => {
    await post('/lock/acquire', { name: 'shown', owner: 'page' });
    const page = await api(port, 'GET', '/');
    t.equal(page.status, 200);
    t.match(page.headers.get('content-type'), /text\/html/);
    t.match(page.body, /<title>lockstep status<\/title>/);
    const status = await api(port, 'GET', '/status.json');
    t.equal(status.status, 200);
    t.match(status.body, {
      servedBy: 'n1',
      clusterState: 'ok',
      nodes: [{ id: 'n1', reachable: true, metaRole: 'leader' }],
    });
    t.ok(status.body.groups.length >= 2, 'group 0 and the partitions');
    t.ok(
      status.body.locks.table.some(
        (l: { name: string; holders: { owner: string }[] }) =>
          l.name === 'shown' && l.holders[0]?.owner === 'page',
      ),
      'the lock table shows the hold',
    );
    const own = await api(port, 'GET', '/status.json?scope=node');
    t.match(own.body, { id: 'n1', myState: 'up' });
    t.equal((await api(port, 'GET', '/status.json?scope=everything')).status, 400);
  });

  t.test("the cache's metrics source shows in /metrics and on the status page", async (t) => {
    await api(port, 'POST', '/cache/write', { key: 'metric-key', value: 1 });
    await api(port, 'GET', '/cache/read?key=metric-key');
    const metrics = String((await api(port, 'GET', '/metrics')).body);
    t.match(metrics, /^lockstep_cache_hits_total [1-9]\d*$/m, 'the read was a local hit, counted');
    t.match(metrics, /^lockstep_cache_lines\{state="M"\} 1$/m, 'one line in M');
    t.match(metrics, /^lockstep_cache_coherence_duration_seconds_count \d+$/m);
    const status = await api(port, 'GET', '/status.json');
    t.match(status.body.nodes[0].panels.cache, { protocol: 'mesi', lines_M: 1 });
  });
});

t.test('with a password: the API needs Basic credentials, /health and /metrics do not', async (t) => {
  const [httpPort] = await freePorts(1);
  const node = await startTestNode(t, ['--http-port', String(httpPort), '--requirepass', 'pw-123']);
  const port = node.httpPort!;
  const body = { name: 'l', owner: 'o' };
  const none = await api(port, 'POST', '/lock/acquire', body);
  t.equal(none.status, 401);
  t.match(none.body, { ok: false, code: 'NOAUTH' });
  t.match(none.headers.get('www-authenticate'), /^Basic realm="lockstep"/);
  const wrong = await api(port, 'POST', '/lock/acquire', body, { headers: basicAuth('default', 'nope') });
  t.equal(wrong.status, 401);
  t.match(wrong.body, { code: 'WRONGPASS' });
  const malformed = await api(port, 'POST', '/lock/acquire', body, { headers: { authorization: 'Token x' } });
  t.equal(malformed.status, 400);
  const right = await api(port, 'POST', '/lock/acquire', body, { headers: basicAuth('', 'pw-123') });
  t.match(right, { status: 200, body: { ok: true } });
  t.equal(
    (await api(port, 'GET', '/status.json')).status,
    401,
    'the status page shows lock owners: credentials needed',
  );
  t.equal(
    (await api(port, 'GET', '/status.json', undefined, { headers: basicAuth('default', 'pw-123') })).status,
    200,
  );
  t.match(await api(port, 'GET', '/health'), { status: 200, body: { status: 'ok' } });
  t.equal((await api(port, 'GET', '/metrics')).status, 200);
});

t.test('--http-port 0 turns HTTP off', async (t) => {
  const node = await startTestNode(t);
  t.equal(node.httpPort, null);
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
