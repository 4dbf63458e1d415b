import t from 'tap';
import {
  decodeStoredValue,
  encodeStoredValue,
  errorResponse,
  HTTP_STATUS_BY_CODE,
  replyToJson,
} from '../../src/http/json-reply.js';
import { ERROR_CODES } from '../../src/lib/errors.js';
import {
  array,
  bool,
  bulk,
  double,
  error,
  int,
  map,
  NULL,
  set,
  simple,
  verbatim,
} from '../../src/resp/reply.js';

t.test('replies become plain JSON', async (t) => {
  t.equal(replyToJson(NULL), null);
  t.equal(replyToJson(simple('OK')), 'OK');
  t.equal(replyToJson(bulk(Buffer.from('héllo'))), 'héllo');
  t.equal(replyToJson(int(42)), 42);
  t.equal(
    replyToJson(int(2n ** 70n)),
    '1180591620717411303424',
    'beyond 2^53: a string, never a rounded number',
  );
  t.equal(replyToJson(int(7n)), 7);
  t.equal(replyToJson(double(0.5)), 0.5);
  t.equal(replyToJson(double(Number.POSITIVE_INFINITY)), 'Infinity');
  t.equal(replyToJson(bool(true)), true);
  t.equal(replyToJson(verbatim('text')), 'text');
  t.same(replyToJson(error('ERR x')), { error: 'ERR x' });
  t.same(replyToJson(array([int(1), set([bulk('a')])])), [1, ['a']]);
  t.same(replyToJson(map({ state: bulk('S'), holders: array([map({ token: int(3) })]) })), {
    state: 'S',
    holders: [{ token: 3 }],
  });
});

t.test('stored values: JSON text written, parsed back; non-JSON reads as a string', async (t) => {
  for (const v of [25, 'text', { order_id: 1, item: 'book' }, [1, 2], null, true]) {
    t.same(decodeStoredValue(bulk(encodeStoredValue(v))), v, `${JSON.stringify(v)} round-trips`);
  }
  t.equal(encodeStoredValue('25'), '"25"', 'a string stays a string, not a number');
  t.equal(decodeStoredValue(bulk('plain words from redis-cli')), 'plain words from redis-cli');
  t.equal(decodeStoredValue(NULL), null);
});

t.test('every error code has an HTTP status; error replies carry their code', async (t) => {
  t.same(Object.keys(HTTP_STATUS_BY_CODE).sort(), Object.keys(ERROR_CODES).sort());
  t.same(errorResponse('NOQUORUM no leader for group 0'), {
    status: 503,
    body: { ok: false, code: 'NOQUORUM', error: 'no leader for group 0' },
  });
  t.equal(errorResponse('DEADLOCK waiting would close the cycle a -> b -> a').status, 409);
  t.equal(errorResponse('NOAUTH Authentication required.').status, 401);
  t.equal(errorResponse('NOPERM User u has no permissions').status, 403);
  t.equal(errorResponse('LIMIT queue full').status, 429);
  t.equal(errorResponse("ERR wrong number of arguments for 'x' command").status, 400);
  t.same(
    errorResponse('WEIRD'),
    { status: 500, body: { ok: false, code: 'WEIRD', error: 'WEIRD' } },
    'an unknown code is a 500',
  );
});
