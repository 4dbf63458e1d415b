import type { CommandSpec } from '../types.js';

const since = '0.4.0';
const key = { first: 1, last: 1, step: 1 } as const;
const queue = { name: 'queue', type: 'key' } as const;
const messageEntry = 'Array [id, payload, deliveries]';

/** Q.*: durable queues in the partition groups (DESIGN.md §7, src/queue/README.md). */
export const queueCommands: readonly CommandSpec[] = [
  {
    name: 'q.push',
    arity: -3,
    flags: ['write', 'deny-oom', 'fast'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Appends messages to a queue once a majority of its partition has them on disk. DEDUP makes the push idempotent for 5 minutes; DELAY holds the messages back.',
    arguments: [
      queue,
      { name: 'payload', type: 'string', multiple: true },
      { name: 'dedup-key', type: 'string', token: 'DEDUP', optional: true },
      { name: 'delay-ms', type: 'integer', token: 'DELAY', optional: true },
    ],
    reply:
      'Bulk string: the message id (one payload); Array of ids (several). A DEDUP key seen within the window replies the first push’s ids and pushes nothing. -LIMIT when the push would exceed MAXLEN.',
  },
  {
    name: 'q.pop',
    arity: -2,
    flags: ['write', 'blocking'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Leases the oldest ready messages for VISIBILITY ms (default: the queue’s, 30 s); unacked they come back with deliveries + 1. BLOCK waits up to ms (0: until one comes).',
    arguments: [
      queue,
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'block-ms', type: 'integer', token: 'BLOCK', optional: true },
      { name: 'visibility-ms', type: 'integer', token: 'VISIBILITY', optional: true },
    ],
    reply: `${messageEntry} without COUNT; Array of those with COUNT (at most 8 MiB of payloads: fewer than COUNT when they are big); nil when the queue is empty (after BLOCK).`,
  },
  {
    name: 'q.ack',
    arity: -3,
    flags: ['write', 'fast'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary: 'Deletes delivered messages: the consumer is done with them.',
    arguments: [queue, { name: 'id', type: 'string', multiple: true }],
    reply: 'Integer: the number of messages deleted (unknown ids and dead letters count 0).',
  },
  {
    name: 'q.nack',
    arity: -3,
    flags: ['write', 'fast'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Gives a leased message back: ready again at once or after DELAY ms, or dead once it reached MAXDELIVERIES.',
    arguments: [
      queue,
      { name: 'id', type: 'string' },
      { name: 'delay-ms', type: 'integer', token: 'DELAY', optional: true },
    ],
    reply: 'Integer: 1 if the message was in flight, else 0.',
  },
  {
    name: 'q.extend',
    arity: 4,
    flags: ['write', 'fast'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary: 'Sets the lease of an in-flight message to end ms from now.',
    arguments: [queue, { name: 'id', type: 'string' }, { name: 'ms', type: 'integer' }],
    reply: 'Integer: 1 if the message was in flight, else 0.',
  },
  {
    name: 'q.len',
    arity: 2,
    flags: ['readonly', 'fast'],
    categories: ['queue', 'read'],
    keys: key,
    group: 'queue',
    since,
    summary: 'The number of ready messages (not in flight, delayed or dead), read linearizably.',
    arguments: [queue],
    reply: 'Integer.',
  },
  {
    name: 'q.peek',
    arity: -2,
    flags: ['readonly'],
    categories: ['queue', 'read'],
    keys: key,
    group: 'queue',
    since,
    summary: 'The oldest ready messages (default 1, at most 8 MiB of payloads), without leasing them.',
    arguments: [queue, { name: 'count', type: 'integer', token: 'COUNT', optional: true }],
    reply: `Array of ${messageEntry}.`,
  },
  {
    name: 'q.stats',
    arity: 2,
    flags: ['readonly', 'fast'],
    categories: ['queue', 'read'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Counts (ready, inflight, delayed, dead) and totals (pushed, acked, redelivered, deadlettered) of a queue.',
    arguments: [queue],
    reply:
      'Map (RESP3) / flat Array (RESP2): ready, inflight, delayed, dead, pushed, acked, redelivered, deadlettered, partition.',
  },
  {
    name: 'q.dead',
    arity: -2,
    flags: ['readonly'],
    categories: ['queue', 'read'],
    keys: key,
    group: 'queue',
    since,
    summary: 'The dead letters of a queue, oldest first (default 10, at most 8 MiB of payloads).',
    arguments: [queue, { name: 'count', type: 'integer', token: 'COUNT', optional: true }],
    reply: `Array of ${messageEntry}.`,
  },
  {
    name: 'q.redrive',
    arity: -2,
    flags: ['write'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Moves the oldest dead letters (up to COUNT, default 10000) back to ready with their delivery count reset; with DELETE, deletes them instead.',
    arguments: [
      queue,
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
      { name: 'delete', type: 'pure-token', token: 'DELETE', optional: true },
    ],
    reply: 'Integer: the number of dead letters moved (or deleted).',
  },
  {
    name: 'q.config',
    arity: -2,
    flags: ['write'],
    categories: ['queue', 'write'],
    keys: key,
    group: 'queue',
    since,
    summary:
      'Sets (or, with no option, shows) a queue’s MAXDELIVERIES (0: unlimited, default 5), VISIBILITY ms (default 30000) and MAXLEN (0: unlimited).',
    arguments: [
      queue,
      { name: 'max-deliveries', type: 'integer', token: 'MAXDELIVERIES', optional: true },
      { name: 'visibility-ms', type: 'integer', token: 'VISIBILITY', optional: true },
      { name: 'max-len', type: 'integer', token: 'MAXLEN', optional: true },
    ],
    reply:
      'Map (RESP3) / flat Array (RESP2): maxdeliveries, visibility-ms, maxlen, as they are after the call.',
  },
];
