import type { CommandSpec } from '../types.js';

const since = '0.5.0';
const key = { first: 1, last: 1, step: 1 } as const;

/** CACHE.*: the coherent cache over every node's local cache (DESIGN.md §8, src/cache/README.md). */
export const cacheCommands: readonly CommandSpec[] = [
  {
    name: 'cache.set',
    arity: 3,
    flags: ['write', 'deny-oom'],
    categories: ['cache', 'write'],
    keys: key,
    group: 'cache',
    since,
    summary:
      'Writes a key: once this node holds it in M (every other copy invalidated), the write is done. Local when the line is already M or E.',
    arguments: [
      { name: 'key', type: 'key' },
      { name: 'value', type: 'string' },
    ],
    reply: 'Simple string OK.',
  },
  {
    name: 'cache.get',
    arity: 2,
    flags: ['readonly', 'fast'],
    categories: ['cache', 'read'],
    keys: key,
    group: 'cache',
    since,
    summary: 'Reads a key: a hit in M/E/S/O is local; a miss fetches the line from its home (or its owner).',
    arguments: [{ name: 'key', type: 'key' }],
    reply: 'Bulk string, or nil for a key never written, deleted or lost (see src/cache/README.md).',
  },
  {
    name: 'cache.del',
    arity: 2,
    flags: ['write'],
    categories: ['cache', 'write'],
    keys: key,
    group: 'cache',
    since,
    summary: 'Deletes a key: a write of nil, coherent like CACHE.SET.',
    arguments: [{ name: 'key', type: 'key' }],
    reply: 'Simple string OK.',
  },
  {
    name: 'cache.state',
    arity: 2,
    flags: ['readonly', 'fast'],
    categories: ['cache', 'read'],
    keys: key,
    group: 'cache',
    since,
    summary:
      "This node's line of a key (state M/E/S/O/I or a transient one, its value), the key's home, and on the home its directory entry.",
    arguments: [{ name: 'key', type: 'key' }],
    reply:
      'Map (RESP3) / flat Array (RESP2): state, value, home, protocol; on the home also directory (state, owner, sharers, memory, busy, queued).',
  },
  {
    name: 'cache.stats',
    arity: 1,
    flags: ['readonly', 'fast'],
    categories: ['cache', 'read'],
    group: 'cache',
    since,
    summary:
      "This node's cache figures: hits, misses, hit ratio, invalidations, writebacks, evictions, lines per state, coherence latency.",
    arguments: [],
    reply: 'Map (RESP3) / flat Array (RESP2) of figures.',
  },
];
