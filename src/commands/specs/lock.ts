import type { CommandSpec } from '../types.js';

const since = '0.3.0';
const owner = { name: 'owner', type: 'string', token: 'OWNER', optional: true } as const;

/** LOCK.*: the distributed lock manager in group 0 (DESIGN.md §6, src/lock/README.md). */
export const lockCommands: readonly CommandSpec[] = [
  {
    name: 'lock.acquire',
    arity: -2,
    flags: ['write', 'blocking'],
    categories: ['lock', 'write'],
    keys: { first: 1, last: 1, step: 1 },
    group: 'lock',
    since,
    summary: 'Takes a lock, shared or exclusive (default), waiting up to WAIT ms; replies the fencing token.',
    arguments: [
      { name: 'name', type: 'key' },
      {
        name: 'mode',
        type: 'oneof',
        optional: true,
        arguments: [
          { name: 'shared', type: 'pure-token', token: 'SHARED' },
          { name: 'exclusive', type: 'pure-token', token: 'EXCLUSIVE' },
        ],
      },
      owner,
      { name: 'ttl-ms', type: 'integer', token: 'TTL', optional: true },
      { name: 'wait-ms', type: 'integer', token: 'WAIT', optional: true },
    ],
    reply:
      'Integer: the fencing token (the Raft index of the grant, increasing across failovers); nil when not granted within WAIT; -DEADLOCK naming the cycle when waiting would deadlock.',
  },
  {
    name: 'lock.release',
    arity: -2,
    flags: ['write', 'fast'],
    categories: ['lock', 'write'],
    keys: { first: 1, last: 1, step: 1 },
    group: 'lock',
    since,
    summary: 'Releases a lock held by the owner (and, if given, with that token).',
    arguments: [
      { name: 'name', type: 'key' },
      owner,
      { name: 'token', type: 'integer', token: 'TOKEN', optional: true },
    ],
    reply: 'Integer: 1 if released, 0 if the owner did not hold it.',
  },
  {
    name: 'lock.renew',
    arity: -4,
    flags: ['write', 'fast'],
    categories: ['lock', 'write'],
    keys: { first: 1, last: 1, step: 1 },
    group: 'lock',
    since,
    summary: "Sets the lease of the owner's hold to TTL ms from now.",
    arguments: [{ name: 'name', type: 'key' }, owner, { name: 'ttl-ms', type: 'integer', token: 'TTL' }],
    reply: 'Integer: 1 if renewed, 0 if the owner does not hold it (any more).',
  },
  {
    name: 'lock.status',
    arity: 2,
    flags: ['readonly'],
    categories: ['lock', 'read'],
    keys: { first: 1, last: 1, step: 1 },
    group: 'lock',
    since,
    summary: 'Mode, holders (token, remaining lease) and waiters of a lock, read linearizably.',
    arguments: [{ name: 'name', type: 'key' }],
    reply:
      'Map (RESP3) / flat Array (RESP2): mode, holders (owner, token, ttl-ms each), waiters (owner, mode, wait-ms each), contended; nil for a free lock.',
  },
  {
    name: 'lock.list',
    arity: -1,
    flags: ['readonly'],
    categories: ['lock', 'read'],
    group: 'lock',
    since,
    summary: 'Names of the locks that are held or waited for, in order, optionally filtered.',
    arguments: [
      { name: 'pattern', type: 'pattern', token: 'MATCH', optional: true },
      { name: 'count', type: 'integer', token: 'COUNT', optional: true },
    ],
    reply: 'Array of bulk strings.',
  },
];
