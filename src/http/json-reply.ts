/**
 * Command replies as JSON, pure. The HTTP API runs the same commands as RESP clients
 * (src/http/command-runner.ts) and turns their `Reply` values into JSON here: one reply shape,
 * two encodings.
 */
import { ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import type { Reply } from '../resp/reply.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A reply as a plain JSON value: maps become objects, bulk strings UTF-8 text, errors `{error}`. */
export function replyToJson(reply: Reply): Json {
  switch (reply.t) {
    case 'null':
      return null;
    case 'simple':
    case 'verbatim':
      return reply.v;
    case 'bulk':
      return typeof reply.v === 'string' ? reply.v : reply.v.toString('utf8');
    case 'int':
      return typeof reply.v === 'bigint' ? bigintToJson(reply.v) : reply.v;
    case 'double':
      return Number.isFinite(reply.v) ? reply.v : String(reply.v);
    case 'bool':
      return reply.v;
    case 'error':
      return { error: reply.v };
    case 'array':
    case 'set':
    case 'push':
      return reply.v.map(replyToJson);
    case 'map': {
      const out: { [key: string]: Json } = {};
      for (const [k, v] of reply.v) out[String(replyToJson(k))] = replyToJson(v);
      return out;
    }
  }
}

function bigintToJson(v: bigint): Json {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}

/**
 * Values the API writes (queue payloads, cache values) are stored as JSON text, so any JSON
 * value makes the round trip; a stored value that is not JSON (written by a RESP client) reads
 * back as a string.
 */
export function encodeStoredValue(value: unknown): string {
  return JSON.stringify(value);
}

export function decodeStoredValue(reply: Reply): Json {
  if (reply.t !== 'bulk') return replyToJson(reply);
  const text = typeof reply.v === 'string' ? reply.v : reply.v.toString('utf8');
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/**
 * The HTTP status of each error code. Typed over every code of src/lib/errors.ts, so a new
 * code does not compile until it has a status here.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  ERR: 400,
  WRONGPASS: 401,
  NOAUTH: 401,
  NOPERM: 403,
  NOPROTO: 400,
  DEADLOCK: 409,
  NOQUORUM: 503,
  TRYAGAIN: 503,
  BUSYGROUP: 409,
  NOTLEADER: 503,
  LIMIT: 429,
  NOTFOUND: 404,
};

export interface ErrorBody {
  readonly ok: false;
  /** The RESP error code (`NOQUORUM`); `HTTP` for errors of the HTTP layer itself (a bad body). */
  readonly code: string;
  readonly error: string;
}

/** An error reply as an HTTP status and body (`-NOQUORUM no leader` → 503 `{code: 'NOQUORUM', ...}`). */
export function errorResponse(line: string): { status: number; body: ErrorBody } {
  const space = line.indexOf(' ');
  const code = space < 0 ? line : line.slice(0, space);
  const message = space < 0 ? line : line.slice(space + 1);
  const status = code in ERROR_CODES ? HTTP_STATUS_BY_CODE[code as ErrorCode] : 500;
  return { status, body: { ok: false, code, error: message } };
}
