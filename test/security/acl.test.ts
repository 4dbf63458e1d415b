import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import t from 'tap';
import { FAST_CLUSTER_ARGS, fields, startTestCluster, waitUntil } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { api, basicAuth } from '../http/helpers.js';

/**
 * DESIGN §10, "unauthenticated and wrong-category commands are refused on every node": a
 * 3-node cluster with an ACL file and a default password, attacked through every node, over RESP
 * and the HTTP API. A refused command must change nothing anywhere, including a command that a
 * follower would have forwarded to its group's leader: the lock stays free, the queue empty, the
 * cache key unwritten (each then checked by doing the same as an allowed user, so the checks can
 * fail). test/server/clients.test.ts covers categories on one in-process node.
 */

const PASSWORDS = { admin: 'admin-pw', locker: 'lock-pw', queuer: 'queue-pw', reader: 'read-pw' } as const;
type User = keyof typeof PASSWORDS;

const ACL = [
  '# an operator, a lock-only, a queue-only and a read-only user; default gets --requirepass.',
  '# As in Redis, +@connection includes CLIENT LIST and KILL (also @admin): -@admin takes them away.',
  `user admin on >${PASSWORDS.admin} +@all`,
  `user locker on >${PASSWORDS.locker} +@connection +@lock -@admin`,
  `user queuer on >${PASSWORDS.queuer} +@connection +@queue -@admin`,
  `user reader on >${PASSWORDS.reader} +@connection +@read -@admin`,
].join('\n');

const NODES = ['n1', 'n2', 'n3'] as const;

t.test('ACL on a 3-node cluster', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-acl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, ACL);
  const cluster = await startTestCluster(t, {
    size: 3,
    extraArgs: [...FAST_CLUSTER_ARGS, '--acl-file', aclFile, '--requirepass', 'default-pw'],
  });
  const port = (id: string) => cluster.node(id).port;
  const http = (id: string) => cluster.node(id).httpPort;

  const clients: Redis[] = [];
  t.teardown(() => {
    for (const c of clients) c.disconnect();
  });
  const as = (user: User, id: string): Redis => {
    const c = new Redis({
      port: port(id),
      host: '127.0.0.1',
      username: user,
      password: PASSWORDS[user],
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      commandTimeout: 8000,
      // The ready check runs INFO, which most of these users may not.
      enableReadyCheck: false,
    });
    c.on('error', () => {});
    clients.push(c);
    return c;
  };
  const admin = as('admin', 'n1');

  await waitUntil('a healthy cluster of 3, seen by an authenticated admin', async () => {
    const infos = await Promise.all(
      NODES.map(async (id) => fields(await as('admin', id).call('CLUSTER.INFO'))),
    );
    return infos.every((i) => i.cluster_state === 'ok' && i.cluster_size === '3');
  });
  const metaLeader = fields(await admin.call('CLUSTER.INFO')).meta_leader;
  t.ok(metaLeader, `meta leader ${metaLeader}: the other two nodes forward lock commands to it`);

  t.test('without AUTH: NOAUTH for everything but the handshake, on every node', async (t) => {
    const refused = [
      'PING',
      'LOCK.ACQUIRE res-anon OWNER intruder',
      'LOCK.STATUS res-anon',
      'Q.PUSH jobs-anon x',
      'Q.LEN jobs-anon',
      'CACHE.SET key-anon v',
      'CACHE.GET key-anon',
      'INFO',
      'CONFIG GET *',
      'CLUSTER.INFO',
      'CLUSTER.NODES',
      'CLUSTER.LEAVE n3',
      'RAFT.INFO 0',
      'DEBUG.PARTITION n1',
      // It lists every client's address, name and user: a stranger must not see them.
      'CLIENT LIST',
    ];
    const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';
    const NOAUTH = '-NOAUTH Authentication required.\r\n';
    for (const id of NODES) {
      const raw = await RawClient.open(port(id));
      t.teardown(() => raw.close());
      raw.send(
        `${[...refused, 'AUTH admin wrong', 'AUTH nobody admin-pw', 'Q.LEN jobs-anon'].join('\r\n')}\r\n`,
      );
      const replies = (await raw.readLines(refused.length + 3)).split('\r\n');
      for (const [i, command] of refused.entries()) {
        t.equal(`${replies[i]}\r\n`, NOAUTH, `${id}: ${command}`);
      }
      t.equal(`${replies[refused.length]}\r\n`, WRONGPASS, `${id}: a wrong password`);
      t.equal(`${replies[refused.length + 1]}\r\n`, WRONGPASS, `${id}: an unknown user`);
      t.equal(`${replies[refused.length + 2]}\r\n`, NOAUTH, `${id}: still not authenticated after them`);

      // What Redis allows before AUTH still works: HELLO with AUTH, AUTH, QUIT.
      raw.clear();
      raw.send(`HELLO 3 AUTH reader ${PASSWORDS.reader}\r\n`);
      t.match(await raw.read((s) => s.includes('proto')), /^%/, `${id}: HELLO 3 AUTH answers with a map`);
      raw.clear();
      raw.send('PING\r\nQUIT\r\n');
      t.equal(await raw.readLines(2), '+PONG\r\n+OK\r\n', `${id}: authenticated by HELLO, then QUIT`);
      t.ok(await raw.waitClosed());
      const byDefault = await RawClient.open(port(id));
      t.teardown(() => byDefault.close());
      byDefault.send('AUTH default-pw\r\nPING\r\n');
      t.equal(await byDefault.readLines(2), '+OK\r\n+PONG\r\n', `${id}: AUTH with the default password`);
    }
    t.equal(await admin.call('Q.LEN', 'jobs-anon'), 0, 'nothing was pushed');
    t.equal(await admin.call('CACHE.GET', 'key-anon'), null, 'nothing was cached');
  });

  t.test('a user without the category gets NOPERM on every node and nothing is proposed', async (t) => {
    for (const id of NODES) {
      const queuer = as('queuer', id);
      const locker = as('locker', id);
      const reader = as('reader', id);
      const noPerm = (user: string, command: string) =>
        new RegExp(
          `^NOPERM User ${user} has no permissions to run the '${command.replace('|', '\\|')}' command`,
        );
      await t.rejects(
        queuer.call('LOCK.ACQUIRE', 'res1', 'OWNER', 'q-owner'),
        noPerm('queuer', 'lock.acquire'),
        id,
      );
      await t.rejects(
        queuer.call('LOCK.RELEASE', 'res1', 'OWNER', 'q-owner'),
        noPerm('queuer', 'lock.release'),
        id,
      );
      await t.rejects(
        reader.call('LOCK.ACQUIRE', 'res1', 'OWNER', 'r-owner'),
        noPerm('reader', 'lock.acquire'),
        id,
      );
      await t.rejects(locker.call('Q.PUSH', 'jobs', 'x'), noPerm('locker', 'q.push'), id);
      await t.rejects(locker.call('Q.POP', 'jobs'), noPerm('locker', 'q.pop'), id);
      await t.rejects(reader.call('Q.PUSH', 'jobs', 'x'), noPerm('reader', 'q.push'), id);
      await t.rejects(reader.call('Q.CONFIG', 'jobs', 'MAXLEN', '1'), noPerm('reader', 'q.config'), id);
      await t.rejects(locker.call('CACHE.SET', 'k1', 'v'), noPerm('locker', 'cache.set'), id);
      await t.rejects(reader.call('CACHE.SET', 'k1', 'v'), noPerm('reader', 'cache.set'), id);
      await t.rejects(queuer.call('CACHE.GET', 'k1'), noPerm('queuer', 'cache.get'), id);
      await t.rejects(reader.call('RAFT.NOOP', '0'), noPerm('reader', 'raft.noop'), id);
      // The reader may read what its category allows.
      t.equal(await reader.call('Q.LEN', 'jobs'), 0, `${id}: reader runs Q.LEN`);
      t.equal(await reader.call('CACHE.GET', 'k1'), null, `${id}: reader runs CACHE.GET`);
    }
    t.equal(await admin.call('Q.LEN', 'jobs'), 0, 'no refused push reached the partition');
    t.equal(await admin.call('CACHE.GET', 'k1'), null, 'no refused write reached the cache');
    // The lock is free: the user allowed to take it does, at once, on a follower.
    const follower = NODES.find((id) => id !== metaLeader)!;
    const token = await as('locker', follower).call('LOCK.ACQUIRE', 'res1', 'OWNER', 'l-owner', 'WAIT', '0');
    t.ok(Number(token) > 0, `the lock was free: locker got token ${String(token)}`);
    t.equal(await as('locker', follower).call('LOCK.RELEASE', 'res1', 'OWNER', 'l-owner'), 1);
    t.equal(String(await as('queuer', follower).call('Q.PUSH', 'jobs', 'x')).match(/^\d+-0$/)?.length, 1);
    t.equal(await admin.call('Q.LEN', 'jobs'), 1, 'the allowed push counts, so the check above can fail');
  });

  t.test('admin commands (CLUSTER.*, RAFT.TRANSFER, DEBUG.*, CONFIG, CLIENT) need @admin', async (t) => {
    for (const id of NODES) {
      for (const user of ['locker', 'queuer', 'reader'] as const) {
        const c = as(user, id);
        for (const command of [
          ['CLUSTER.JOIN', '127.0.0.1:1'],
          ['CLUSTER.LEAVE', 'n3'],
          ['RAFT.TRANSFER', '0', 'n2'],
          ['DEBUG.PARTITION', 'n1'],
          ['DEBUG.CLOCKSKEW', '1000'],
          ['CONFIG', 'GET', 'requirepass'],
          ['CLIENT', 'LIST'],
          ['CLIENT', 'KILL', 'ID', '1'],
        ]) {
          await t.rejects(
            c.call(command[0]!, ...command.slice(1)),
            /^NOPERM/,
            `${id} ${user}: ${command.join(' ')}`,
          );
        }
      }
    }
    const info = fields(await admin.call('CLUSTER.INFO'));
    t.equal(info.cluster_size, '3', 'still three members');
    t.equal(info.cluster_members_up, '3');
    t.equal(info.meta_leader, metaLeader, 'leadership did not move');
  });

  t.test('the HTTP API: Basic credentials and the same categories, on every node', async (t) => {
    const acquire = { name: 'res-http', mode: 'exclusive', owner: 'http-owner' };
    for (const id of NODES) {
      const none = await api(http(id), 'POST', '/lock/acquire', acquire);
      t.match(none, { status: 401, body: { ok: false, code: 'NOAUTH' } }, `${id}: no credentials`);
      const wrong = await api(http(id), 'POST', '/lock/acquire', acquire, {
        headers: basicAuth('locker', 'x'),
      });
      t.match(wrong, { status: 401, body: { code: 'WRONGPASS' } }, `${id}: wrong password`);
      const queuer = await api(http(id), 'POST', '/lock/acquire', acquire, {
        headers: basicAuth('queuer', PASSWORDS.queuer),
      });
      t.match(queuer, { status: 403, body: { code: 'NOPERM' } }, `${id}: queuer may not lock`);
      const push = await api(
        http(id),
        'POST',
        '/queue/push',
        { queue: 'jobs-http', payload: 1 },
        { headers: basicAuth('locker', PASSWORDS.locker) },
      );
      t.match(push, { status: 403, body: { code: 'NOPERM' } }, `${id}: locker may not push`);
      const write = await api(
        http(id),
        'POST',
        '/cache/write',
        { key: 'k-http', value: 1 },
        { headers: basicAuth('reader', PASSWORDS.reader) },
      );
      t.match(write, { status: 403, body: { code: 'NOPERM' } }, `${id}: reader may not write the cache`);
      const status = await api(http(id), 'GET', '/status.json');
      t.equal(status.status, 401, `${id}: the status data needs credentials`);
      t.equal((await api(http(id), 'GET', '/health')).status, 200, `${id}: /health needs none (documented)`);
    }
    t.equal(await admin.call('Q.LEN', 'jobs-http'), 0, 'no refused push was applied');
    t.equal(await admin.call('CACHE.GET', 'k-http'), null, 'no refused cache write was applied');
    const allowed = await api(http('n2'), 'POST', '/lock/acquire', acquire, {
      headers: basicAuth('locker', PASSWORDS.locker),
    });
    t.match(allowed, { status: 200, body: { ok: true } }, 'the lock was free, and the locker may take it');
  });
});
