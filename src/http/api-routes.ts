/**
 * The JSON API of the seed walk-through (/work/shared/seeds/003): each route builds the
 * argument vector a RESP client would send and runs it through the command layer
 * (`withSession`). Outcomes that are answers (a lock held by someone else, an empty queue)
 * are 200 with `ok: false` and a `reason`; error replies become 4xx/5xx with the error code.
 */
import type { FastifyInstance } from 'fastify';
import type { Reply } from '../resp/reply.js';
import { unexpectedReply, withSession } from './api-context.js';
import type { CommandRunner } from './command-runner.js';
import { decodeStoredValue, encodeStoredValue, type Json, replyToJson } from './json-reply.js';
import {
  type CacheReadQuery,
  type CacheWriteBody,
  cacheReadQuerySchema,
  cacheWriteSchema,
  type LockAcquireBody,
  type LockReleaseBody,
  lockAcquireSchema,
  lockReleaseSchema,
  type QueueAckBody,
  type QueuePopBody,
  type QueuePushBody,
  queueAckSchema,
  queuePopSchema,
  queuePushSchema,
} from './schemas.js';

export function registerApiRoutes(app: FastifyInstance, runner: CommandRunner): void {
  app.post<{ Body: LockAcquireBody }>('/lock/acquire', { schema: { body: lockAcquireSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      const b = req.body;
      const args = ['LOCK.ACQUIRE', b.name, (b.mode ?? 'exclusive').toUpperCase(), 'OWNER', b.owner];
      if (b.ttl_ms !== undefined) args.push('TTL', String(b.ttl_ms));
      if (b.wait_ms !== undefined) args.push('WAIT', String(b.wait_ms));
      const reply = await run(args);
      if (reply.t === 'int') return { ok: true, token: replyToJson(reply) };
      if (reply.t === 'null') return { ok: false, reason: 'locked' };
      throw unexpectedReply('LOCK.ACQUIRE', reply);
    }),
  );

  app.post<{ Body: LockReleaseBody }>('/lock/release', { schema: { body: lockReleaseSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      const b = req.body;
      const args = ['LOCK.RELEASE', b.name, 'OWNER', b.owner];
      if (b.token !== undefined) args.push('TOKEN', String(b.token));
      const reply = await run(args);
      if (reply.t !== 'int') throw unexpectedReply('LOCK.RELEASE', reply);
      return reply.v === 1 ? { ok: true } : { ok: false, reason: 'not_held' };
    }),
  );

  app.post<{ Body: QueuePushBody }>('/queue/push', { schema: { body: queuePushSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      const b = req.body;
      const args = ['Q.PUSH', b.queue, encodeStoredValue(b.payload)];
      if (b.dedup !== undefined) args.push('DEDUP', b.dedup);
      if (b.delay_ms !== undefined) args.push('DELAY', String(b.delay_ms));
      const reply = await run(args);
      if (reply.t !== 'bulk') throw unexpectedReply('Q.PUSH', reply);
      return { ok: true, id: replyToJson(reply) };
    }),
  );

  app.post<{ Body: QueuePopBody }>('/queue/pop', { schema: { body: queuePopSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      const b = req.body;
      const args = ['Q.POP', b.queue];
      if (b.count !== undefined) args.push('COUNT', String(b.count));
      if (b.block_ms !== undefined) args.push('BLOCK', String(b.block_ms));
      if (b.visibility_ms !== undefined) args.push('VISIBILITY', String(b.visibility_ms));
      const reply = await run(args);
      if (reply.t === 'null') return { ok: false, reason: 'empty' };
      if (reply.t !== 'array') throw unexpectedReply('Q.POP', reply);
      if (b.count === undefined) return { ok: true, ...message(reply) };
      return { ok: true, items: reply.v.map(message) };
    }),
  );

  app.post<{ Body: QueueAckBody }>('/queue/ack', { schema: { body: queueAckSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      const ids = typeof req.body.id === 'string' ? [req.body.id] : req.body.id;
      const reply = await run(['Q.ACK', req.body.queue, ...ids]);
      if (reply.t !== 'int') throw unexpectedReply('Q.ACK', reply);
      const acked = Number(reply.v);
      return acked === ids.length ? { ok: true, acked } : { ok: false, acked, reason: 'not_inflight' };
    }),
  );

  app.post<{ Body: CacheWriteBody }>('/cache/write', { schema: { body: cacheWriteSchema } }, (req, res) =>
    withSession(runner, req, res, async (run) => {
      await run(['CACHE.SET', req.body.key, encodeStoredValue(req.body.value)]);
      return { ok: true };
    }),
  );

  app.get<{ Querystring: CacheReadQuery }>(
    '/cache/read',
    { schema: { querystring: cacheReadQuerySchema } },
    (req, res) =>
      withSession(runner, req, res, async (run) => {
        const { key } = req.query;
        const value = await run(['CACHE.GET', key]);
        // This node's line after the read: S or E after a miss, M/E/O when it was already held.
        const line = replyToJson(await run(['CACHE.STATE', key]));
        if (line === null || typeof line !== 'object' || Array.isArray(line)) {
          throw new Error('unexpected reply to CACHE.STATE: not a map');
        }
        const where = { state: line['state'] ?? null, home: line['home'] ?? null };
        if (value.t === 'null') return { ok: false, reason: 'not_found', ...where };
        return { ok: true, value: decodeStoredValue(value), ...where };
      }),
  );
}

/** `[id, payload, deliveries]` of Q.POP. */
function message(reply: Reply): { id: Json; item: Json; deliveries: Json } {
  if (reply.t !== 'array' || reply.v.length !== 3) throw unexpectedReply('Q.POP (message)', reply);
  const [id, payload, deliveries] = reply.v as [Reply, Reply, Reply];
  return { id: replyToJson(id), item: decodeStoredValue(payload), deliveries: replyToJson(deliveries) };
}
