import fc from 'fast-check';
import type { CacheMessage } from '../../src/cache/protocol.js';
import type { Hello } from '../../src/cluster/bus/handshake.js';
import type { ForwardReply, ForwardRequest } from '../../src/cluster/forward-codec.js';
import type { MemberAddress, MetaCommand } from '../../src/cluster/meta/commands.js';
import type { LockCommand } from '../../src/lock/commands.js';
import { LockTable } from '../../src/lock/state-machine.js';
import type { QueueCommand } from '../../src/queue/commands.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import type { ConfChange, Entry, Message } from '../../src/raft/types.js';
import type { Envelope } from '../../src/raft-runtime/envelope.js';
import type { Reply } from '../../src/resp/reply.js';

/**
 * Valid values of every payload codec that crosses the bus or lives in a Raft entry: the seeds
 * the codec fuzzer encodes and then damages. They are deliberately small and drawn from small
 * pools, so that mutations hit length fields, tags and bounds rather than long payloads.
 */

const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

const bytes = fc.uint8Array({ maxLength: 16 });
const small = fc.oneof(fc.nat({ max: 300 }), fc.constantFrom(2 ** 32, Number.MAX_SAFE_INTEGER));
const nodeId = fc.constantFrom('n1', 'n2', 'node-3', 'ñ', '节点');
/** Names with no whitespace or control characters: what owners, ids and hosts must be. */
const word = fc.oneof(fc.constantFrom('a', 'r1', 'clé', '😀'), fc.stringMatching(/^[a-z0-9._-]{1,12}$/));
const name = fc.oneof(word, fc.constantFrom('a b', 'tab\there', 'x'.repeat(200)));

const entry: fc.Arbitrary<Entry> = rec({
  term: small,
  index: small,
  type: fc.constantFrom('normal' as const, 'confChange' as const),
  data: bytes,
});
const header = { groupId: fc.nat({ max: 70_000 }), from: nodeId, to: nodeId, term: small };

export const raftMessage: fc.Arbitrary<Message> = fc.oneof(
  rec({
    ...header,
    type: fc.constant('append' as const),
    prevIndex: small,
    prevTerm: small,
    commit: small,
    entries: fc.array(entry, { maxLength: 3 }),
  }),
  rec({
    ...header,
    type: fc.constant('appendResponse' as const),
    index: small,
    reject: fc.boolean(),
    hintIndex: small,
    hintTerm: small,
  }),
  rec({
    ...header,
    type: fc.constantFrom('vote' as const, 'preVote' as const),
    lastIndex: small,
    lastTerm: small,
    transfer: fc.boolean(),
  }),
  rec({
    ...header,
    type: fc.constantFrom('voteResponse' as const, 'preVoteResponse' as const),
    reject: fc.boolean(),
  }),
  rec({ ...header, type: fc.constant('heartbeat' as const), commit: small, seq: small, sentTick: small }),
  rec({ ...header, type: fc.constant('heartbeatResponse' as const), seq: small, sentTick: small }),
  fc
    .tuple(
      rec(header),
      small,
      fc.nat({ max: 300 }),
      fc.array(nodeId, { maxLength: 3 }),
      fc.array(nodeId, { maxLength: 2 }),
      bytes,
    )
    .map(([h, index, offset, voters, learners, data]) => ({
      ...h,
      type: 'snapshot' as const,
      snapshot: { index, term: 1, sizeBytes: offset + data.length + 3, confState: { voters, learners } },
      offset,
      data,
    })),
  rec({
    ...header,
    type: fc.constant('snapshotResponse' as const),
    snapshotIndex: small,
    offset: small,
    reject: fc.boolean(),
  }),
  rec({ ...header, type: fc.constant('timeoutNow' as const) }),
  rec({ ...header, type: fc.constant('readIndex' as const), context: bytes }),
  rec({ ...header, type: fc.constant('readIndexResponse' as const), index: small, context: bytes }),
);

export const confChange: fc.Arbitrary<ConfChange> = rec({
  type: fc.constantFrom('addLearner' as const, 'addVoter' as const, 'promote' as const, 'remove' as const),
  nodeId,
});

export const envelope: fc.Arbitrary<Envelope> = fc.oneof(
  rec({
    timeMs: small,
    session: fc.constant(''),
    seq: fc.constant(0),
    ackedBelow: fc.constant(0),
    payload: bytes,
  }),
  rec({
    timeMs: small,
    session: fc.constantFrom('n1.4f1c', 's'),
    seq: small,
    ackedBelow: small,
    payload: bytes,
  }),
);

const port = fc.integer({ min: 1, max: 65_535 });

export const forwardRequest: fc.Arbitrary<ForwardRequest> = fc.oneof(
  rec({
    kind: fc.constant('propose' as const),
    id: small,
    group: small,
    session: fc.constantFrom('n1.1', 'é'),
    seq: small,
    ackedBelow: small,
    payload: bytes,
  }),
  rec({
    kind: fc.constant('join' as const),
    id: small,
    member: rec({
      id: nodeId,
      host: fc.constantFrom('127.0.0.1', 'h', '::1'),
      port,
      busPort: port,
      httpPort: small,
    }),
  }),
  rec({ kind: fc.constant('transfer' as const), id: small, group: small, to: nodeId }),
  rec({ kind: fc.constant('query' as const), id: small, group: small, timeoutMs: small, payload: bytes }),
);

const leaf: fc.Arbitrary<Reply> = fc.oneof(
  rec({ t: fc.constant('simple' as const), v: fc.string({ maxLength: 8 }) }),
  rec({ t: fc.constant('error' as const), v: fc.constantFrom('ERR x', 'NOTFOUND no') }),
  rec({
    t: fc.constant('int' as const),
    v: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n })),
  }),
  rec({ t: fc.constant('bulk' as const), v: bytes.map((b) => Buffer.from(b)) }),
  fc.constant({ t: 'null' as const }),
  rec({ t: fc.constant('double' as const), v: fc.double() }),
  rec({ t: fc.constant('bool' as const), v: fc.boolean() }),
  rec({ t: fc.constant('verbatim' as const), format: fc.constant('txt'), v: fc.string({ maxLength: 8 }) }),
);

export const replyValue: fc.Arbitrary<Reply> = fc.letrec<{ reply: Reply }>((tie) => ({
  reply: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    rec({
      t: fc.constantFrom('array' as const, 'set' as const, 'push' as const),
      v: fc.array(tie('reply'), { maxLength: 3 }),
    }),
    rec({
      t: fc.constant('map' as const),
      v: fc.array(fc.tuple(tie('reply'), tie('reply')), { maxLength: 2 }),
    }),
  ),
})).reply;

export const forwardReply: fc.Arbitrary<ForwardReply> = fc.oneof(
  rec({ kind: fc.constant('done' as const), id: small, reply: fc.option(replyValue, { nil: undefined }) }),
  rec({ kind: fc.constant('redirect' as const), id: small, leaderId: fc.constantFrom('', 'n2') }),
);

const stored = fc.oneof(fc.constant(null), fc.constantFrom('v', 'é'), bytes);
const base = { key: word, from: nodeId, to: nodeId, requestId: small };
export const cacheMessage: fc.Arbitrary<CacheMessage> = fc.oneof(
  rec({ ...base, type: fc.constantFrom('GetS', 'GetM', 'PutS', 'PutE', 'Unblock', 'InvAck', 'PutAck') }),
  rec({ ...base, type: fc.constantFrom('PutM', 'PutO', 'WbData'), value: stored }),
  rec({ ...base, type: fc.constantFrom('FwdGetS', 'Inv'), requester: nodeId }),
  rec({ ...base, type: fc.constant('FwdGetM'), requester: nodeId, acks: small }),
  rec({ ...base, type: fc.constant('AckCount'), acks: small }),
  rec({
    ...base,
    type: fc.constant('Data'),
    grant: fc.constantFrom('S', 'E', 'M'),
    acks: small,
    value: stored,
  }),
) as fc.Arbitrary<CacheMessage>;

const ttl = fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constant(86_400_000));
export const lockCommand: fc.Arbitrary<LockCommand> = fc.oneof(
  rec({
    op: fc.constant('acquire' as const),
    name,
    owner: word,
    mode: fc.constantFrom('shared' as const, 'exclusive' as const),
    ttlMs: ttl,
    waitMs: fc.nat({ max: 50 }),
  }),
  rec({ op: fc.constant('release' as const), name, owner: word }),
  rec({
    op: fc.constant('release' as const),
    name,
    owner: word,
    token: fc.integer({ min: 1, max: 50 }),
  }),
  rec({ op: fc.constant('renew' as const), name, owner: word, ttlMs: ttl }),
  rec({ op: fc.constant('cancel' as const), name, owner: word }),
  fc.constant({ op: 'tick' as const }),
);

const msgId = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.nat({ max: 3 })).map(([i, p]) => `${i}-${p}`);
const ms = fc.nat({ max: 50 });
export const queueCommand: fc.Arbitrary<QueueCommand> = fc.oneof(
  rec({
    op: fc.constant('push' as const),
    queue: name,
    payloads: fc.array(bytes, { minLength: 1, maxLength: 3 }),
    delayMs: ms,
  }),
  rec({
    op: fc.constant('push' as const),
    queue: name,
    payloads: fc.array(bytes, { minLength: 1, maxLength: 2 }),
    dedupKey: word,
    delayMs: ms,
  }),
  rec({ op: fc.constant('pop' as const), queue: name, count: fc.integer({ min: 1, max: 3 }) }),
  rec({
    op: fc.constant('pop' as const),
    queue: name,
    count: fc.integer({ min: 1, max: 3 }),
    visibilityMs: fc.integer({ min: 1, max: 50 }),
  }),
  rec({ op: fc.constant('ack' as const), queue: name, ids: fc.array(msgId, { minLength: 1, maxLength: 3 }) }),
  rec({ op: fc.constant('nack' as const), queue: name, id: msgId, delayMs: ms }),
  rec({ op: fc.constant('extend' as const), queue: name, id: msgId, ms }),
  rec({
    op: fc.constant('config' as const),
    queue: name,
    maxDeliveries: fc.nat({ max: 5 }),
    maxLen: fc.nat({ max: 5 }),
  }),
  rec({ op: fc.constant('config' as const), queue: name, visibilityMs: fc.integer({ min: 1, max: 50 }) }),
  fc.constant({ op: 'tick' as const }),
  rec({
    op: fc.constant('redrive' as const),
    queue: name,
    count: fc.integer({ min: 1, max: 3 }),
    drop: fc.boolean(),
  }),
);

const address: fc.Arbitrary<MemberAddress> = rec({
  id: word,
  host: fc.constantFrom('127.0.0.1', 'h.example', '::1'),
  port,
  busPort: port,
  httpPort: fc.constantFrom(0, 80, 65_535),
});
export const metaCommand: fc.Arbitrary<MetaCommand> = fc.oneof(
  rec({
    op: fc.constant('init' as const),
    partitions: fc.integer({ min: 1, max: 64 }),
    replicas: fc.integer({ min: 1, max: 5 }),
    metaVotersMax: fc.integer({ min: 1, max: 7 }),
    founder: address,
  }),
  rec({ op: fc.constant('join' as const), member: address }),
  rec({
    op: fc.constantFrom(
      'leave' as const,
      'remove' as const,
      'down' as const,
      'up' as const,
      'evict' as const,
    ),
    id: word,
  }),
  fc
    .tuple(fc.nat({ max: 64 }), fc.uniqueArray(word, { minLength: 1, maxLength: 5 }), fc.nat({ max: 5 }))
    .map(([group, ids, split]) => ({
      op: 'conf' as const,
      group,
      voters: ids.slice(0, Math.max(1, ids.length - split)),
      learners: ids.slice(Math.max(1, ids.length - split)),
    })),
);

export const hello: fc.Arbitrary<Hello> = rec({
  version: fc.constant(1),
  nonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  incarnation: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
  clusterName: fc.constantFrom('lockstep', 'c', 'ü'),
  nodeId,
});

/** Lock tables reached by applying valid commands: holders, waiters, counters, deadlines. */
export const lockTable: fc.Arbitrary<LockTable> = fc.array(lockCommand, { maxLength: 12 }).map((commands) => {
  const table = LockTable.empty();
  for (const [i, c] of commands.entries()) table.apply(c, { index: i + 1, timeMs: 1000 + i * 10 });
  return table;
});

/** Queue states reached the same way: ready, in-flight, delayed and dead messages, dedup keys. */
export const queueState: fc.Arbitrary<QueueStateMachine> = fc
  .array(queueCommand, { maxLength: 12 })
  .map((commands) => {
    const state = QueueStateMachine.empty();
    for (const [i, c] of commands.entries()) state.apply(c, { index: i + 1, timeMs: 1000 + i * 10 });
    return state;
  });
