/**
 * JSON Schemas of the API's request bodies (fastify validates them with ajv before a handler
 * runs; src/http/server.ts turns a failure into a 400 naming the field). Types and ranges
 * only: limits counted in bytes (names, payload sizes) are the command layer's, which answers
 * them with the same errors RESP clients get. Ranges come from the lock and queue limits.
 */
import { LOCK_LIMITS } from '../lock/commands.js';
import { MAX_POP_COUNT, MAX_QUEUE_MS } from '../queue/commands.js';

const name = { type: 'string', minLength: 1 } as const;
/** Any JSON value, stored as JSON text. */
const anyValue = {} as const;

export const LOCK_MODES = ['exclusive', 'shared'] as const;

export interface LockAcquireBody {
  name: string;
  owner: string;
  mode?: (typeof LOCK_MODES)[number];
  ttl_ms?: number;
  wait_ms?: number;
}

export const lockAcquireSchema = {
  type: 'object',
  required: ['name', 'owner'],
  additionalProperties: false,
  properties: {
    name,
    owner: name,
    mode: { type: 'string', enum: LOCK_MODES },
    ttl_ms: { type: 'integer', minimum: 1, maximum: LOCK_LIMITS.maxTtlMs },
    wait_ms: { type: 'integer', minimum: 0, maximum: LOCK_LIMITS.maxWaitMs },
  },
} as const;

export interface LockReleaseBody {
  name: string;
  owner: string;
  token?: number;
}

export const lockReleaseSchema = {
  type: 'object',
  required: ['name', 'owner'],
  additionalProperties: false,
  properties: {
    name,
    owner: name,
    token: { type: 'integer', minimum: 1 },
    // Accepted and ignored: a release frees whatever the owner holds (the seed walk-through sends it).
    mode: { type: 'string', enum: LOCK_MODES },
  },
} as const;

export interface QueuePushBody {
  queue: string;
  payload: unknown;
  dedup?: string;
  delay_ms?: number;
}

export const queuePushSchema = {
  type: 'object',
  required: ['queue', 'payload'],
  additionalProperties: false,
  properties: {
    queue: name,
    payload: anyValue,
    dedup: name,
    delay_ms: { type: 'integer', minimum: 0, maximum: MAX_QUEUE_MS },
  },
} as const;

export interface QueuePopBody {
  queue: string;
  count?: number;
  block_ms?: number;
  visibility_ms?: number;
}

export const queuePopSchema = {
  type: 'object',
  required: ['queue'],
  additionalProperties: false,
  properties: {
    queue: name,
    count: { type: 'integer', minimum: 1, maximum: MAX_POP_COUNT },
    block_ms: { type: 'integer', minimum: 0, maximum: MAX_QUEUE_MS },
    visibility_ms: { type: 'integer', minimum: 1, maximum: MAX_QUEUE_MS },
    // Accepted and ignored: the seed walk-through sends `"payload": {}` with its pop.
    payload: anyValue,
  },
} as const;

export interface QueueAckBody {
  queue: string;
  id: string | string[];
}

export const queueAckSchema = {
  type: 'object',
  required: ['queue', 'id'],
  additionalProperties: false,
  properties: {
    queue: name,
    // One id, or several; the keywords of the other type do not apply.
    id: { type: ['string', 'array'], minLength: 1, minItems: 1, items: name },
  },
} as const;

export interface CacheWriteBody {
  key: string;
  value: unknown;
}

export const cacheWriteSchema = {
  type: 'object',
  required: ['key', 'value'],
  additionalProperties: false,
  properties: { key: name, value: anyValue },
} as const;

export interface CacheReadQuery {
  key: string;
}

export const cacheReadQuerySchema = {
  type: 'object',
  required: ['key'],
  additionalProperties: false,
  properties: { key: name },
} as const;
