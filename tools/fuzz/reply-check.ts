import Parser from 'redis-parser';
import { ERROR_CODES } from '../../src/lib/errors.js';
import { encodeReply } from '../../src/resp/encoder.js';
import type { Reply } from '../../src/resp/reply.js';

/**
 * What a client would make of a reply: it must encode in both protocols, and its RESP2 bytes
 * must parse as exactly one reply with redis-parser (the parser Node clients use). An error
 * reply must start with one of the codes in ERROR_CODES, the contract clients branch on.
 * Returns a description of what is wrong, or null.
 */
export function replyProblem(reply: unknown): string | null {
  if (!isReply(reply)) return `not a Reply value: ${String(reply)}`;
  let resp2: Buffer;
  try {
    resp2 = encodeReply(reply, 2);
    encodeReply(reply, 3);
  } catch (err) {
    return `does not encode: ${String(err)}`;
  }
  const parsed: unknown[] = [];
  let fatal: unknown = null;
  const parser = new Parser({
    returnReply: (r: unknown) => parsed.push(r),
    returnError: (e: Error) => parsed.push(e),
    returnFatalError: (e: Error) => {
      fatal = e;
    },
    returnBuffers: true,
  });
  parser.execute(resp2);
  if (fatal !== null) return `RESP2 bytes do not parse: ${String(fatal)}`;
  if (parsed.length !== 1) return `RESP2 bytes parse as ${parsed.length} replies`;
  if (reply.t === 'error') {
    const code = reply.v.split(' ', 1)[0]!;
    if (!Object.hasOwn(ERROR_CODES, code)) return `error reply with unknown code: ${reply.v.slice(0, 200)}`;
    if (reply.v.length <= code.length + 1) return `error reply without a message: ${reply.v}`;
  }
  return null;
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && typeof (value as { t?: unknown }).t === 'string';
}
