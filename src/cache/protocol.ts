import { AssertionError } from '../lib/assert.js';

/**
 * The coherence protocol (DESIGN.md §8) as two explicit transition tables — one for a node's
 * cache controller, one for a key's home (directory) — and the two pure step functions that
 * interpret them. No I/O, no clock: a step takes a state and one event and returns the next
 * state and the messages to send. The tables are data: `CACHE_TABLES[protocol][state][event]`
 * and `HOME_TABLES[protocol][state][event]`; README.md in this folder walks through them.
 *
 * The shape follows the directory protocols of Sorin, Hill and Wood, "A Primer on Memory
 * Consistency and Cache Coherence", chapter 8 (states named `XY_Z`: going from X to Y, waiting
 * for Z: A = acks, D = data, C = ack count, U = unblock), simplified where it stays sound:
 *
 * - The home is *blocking*: once it has started a transaction for a key it queues every other
 *   request for that key until the requester's `Unblock` (and, under MESI, the old owner's
 *   writeback) arrives. So a cache never sees a forwarded request or an invalidation for a
 *   transaction that overtakes its own, and the cache side needs no stalls on messages.
 * - Evictions are requests too (`PutS`/`PutE`/`PutM`/`PutO`, each answered by `PutAck`), queued
 *   like the others; a cache keeps answering forwards until its `PutAck`, but no longer
 *   serves reads from the line.
 * - Invalidation acks go to the requester, as in the Primer (the write completes on the data
 *   plus the last ack); the home waits only for the requester's `Unblock`.
 * - Under MOESI a forwarded read leaves the exclusive holder in O whether it was E or M: the
 *   home cannot tell E from M (E → M is silent) and O is right for both.
 *
 * With these rules the protocol needs no ordering from the network: it is model-checked with
 * every message deliverable in any order (test/cache/model-check.test.ts), which covers FIFO
 * channels (TCP) as a special case.
 */

export type Protocol = 'mesi' | 'moesi';
export const PROTOCOLS: readonly Protocol[] = ['mesi', 'moesi'];

export type NodeId = string;
/**
 * What a client stores. Byte values are Buffers with their own memory (the service copies what
 * it takes from a socket or a frame), so a reply can carry the line's value without a wrapper.
 */
export type CacheValue = Buffer | string;
/** A key's value as the cache sees it: `null` is "no such key" (nil), never written or dropped. */
export type Stored = CacheValue | null;

export class CoherenceError extends AssertionError {
  override name = 'CoherenceError';
}

// ---------------------------------------------------------------------------------------------
// Messages

interface Base {
  readonly key: string;
  readonly from: NodeId;
  readonly to: NodeId;
  /**
   * The transaction this message belongs to, numbered by the node that started it: the
   * requester of a GetS/GetM (forwards, invalidations, their acks and the data carry the
   * requester's id) or the evicting node of a Put.
   */
  readonly requestId: number;
}

/** Cache → home: a request. The home queues it while the key is busy. */
export interface RequestMessage extends Base {
  readonly type: 'GetS' | 'GetM' | 'PutS' | 'PutE';
}
/** Cache → home: eviction of a dirty (M) or owned (O) line, with its value. */
export interface WritebackRequest extends Base {
  readonly type: 'PutM' | 'PutO';
  readonly value: Stored;
}
/** Requester → home: the transaction `requestId` is complete at the requester. */
export interface UnblockMessage extends Base {
  readonly type: 'Unblock';
}
/** Old owner → home (MESI only): the value it had, sent when a forwarded read demotes it to S. */
export interface WbDataMessage extends Base {
  readonly type: 'WbData';
  readonly value: Stored;
}
/** Home → owner: send the line to `requester` (FwdGetS: keep a copy; FwdGetM: give it up). */
export interface FwdGetSMessage extends Base {
  readonly type: 'FwdGetS';
  readonly requester: NodeId;
}
export interface FwdGetMMessage extends Base {
  readonly type: 'FwdGetM';
  readonly requester: NodeId;
  /** Invalidation acks `requester` must collect besides the data. */
  readonly acks: number;
}
/** Home → sharer: drop the line and ack to `requester`. */
export interface InvMessage extends Base {
  readonly type: 'Inv';
  readonly requester: NodeId;
}
/** Sharer → requester. */
export interface InvAckMessage extends Base {
  readonly type: 'InvAck';
}
/** Home or owner → requester: the line, granted in S, E (a read nobody else holds) or M. */
export interface DataMessage extends Base {
  readonly type: 'Data';
  readonly grant: 'S' | 'E' | 'M';
  /** Invalidation acks still to collect (M grants only; 0 otherwise). */
  readonly acks: number;
  readonly value: Stored;
}
/** Home → the O owner that asked for M: no data needed, collect this many acks. */
export interface AckCountMessage extends Base {
  readonly type: 'AckCount';
  readonly acks: number;
}
/** Home → evicting cache: the Put is done (or was stale); the line may go to I. */
export interface PutAckMessage extends Base {
  readonly type: 'PutAck';
}

export type HomeMessage = RequestMessage | WritebackRequest | UnblockMessage | WbDataMessage;
export type CacheBoundMessage =
  | FwdGetSMessage
  | FwdGetMMessage
  | InvMessage
  | InvAckMessage
  | DataMessage
  | AckCountMessage
  | PutAckMessage;
export type CacheMessage = HomeMessage | CacheBoundMessage;
export type MessageType = CacheMessage['type'];
/** Messages the home queues while a key is busy. */
export type QueuedRequest = RequestMessage | WritebackRequest;

const HOME_TYPES: ReadonlySet<MessageType> = new Set([
  'GetS',
  'GetM',
  'PutS',
  'PutE',
  'PutM',
  'PutO',
  'Unblock',
  'WbData',
]);

/** Routing: true for messages the key's home (`Directory`) takes, false for a `NodeCache`'s. */
export function isHomeMessage(m: CacheMessage): m is HomeMessage {
  return HOME_TYPES.has(m.type);
}

// ---------------------------------------------------------------------------------------------
// Cache side

export const CACHE_STATES = [
  'I',
  'S',
  'E',
  'O',
  'M',
  'IS_D',
  'IM_AD',
  'IM_A',
  'SM_AD',
  'SM_A',
  'OM_AC',
  'OM_A',
  'MI_A',
  'EI_A',
  'OI_A',
  'SI_A',
  'II_A',
] as const;
export type CacheState = (typeof CACHE_STATES)[number];
export const STABLE_CACHE_STATES: readonly CacheState[] = ['I', 'S', 'E', 'O', 'M'];

/**
 * States whose value is current: a local read is served from it without messages. A line on
 * its way out (`XI_A`) is not readable: once the home has taken its Put, another node may be
 * granted the line and write, and the PutAck that says so may still be on its way.
 */
export const READABLE_STATES: ReadonlySet<CacheState> = new Set([
  'S',
  'E',
  'O',
  'M',
  'SM_AD',
  'SM_A',
  'OM_AC',
  'OM_A',
]);
/** States that keep the value: the readable ones, and owners on their way out (forwards may come). */
export const DATA_STATES: ReadonlySet<CacheState> = new Set([...READABLE_STATES, 'MI_A', 'EI_A', 'OI_A']);
/** States in which a node may change the value without asking anyone. */
export const WRITABLE_STATES: ReadonlySet<CacheState> = new Set(['E', 'M']);
/** States of the one node responsible for the current value (the home's copy may be stale). */
export const OWNER_STATES: ReadonlySet<CacheState> = new Set(['E', 'M', 'O', 'OM_AC', 'OM_A']);

/**
 * What a cache controller reacts to. Local: Load (read), Store (write), Evict. Messages are
 * classified by what they mean here: `Data` by its grant and whether it completes the ack
 * count (`DataM` vs `DataMLast`), `InvAck` and `AckCount` likewise.
 */
export const CACHE_EVENTS = [
  'Load',
  'Store',
  'Evict',
  'FwdGetS',
  'FwdGetM',
  'Inv',
  'DataS',
  'DataE',
  'DataM',
  'DataMLast',
  'AckCount',
  'AckCountLast',
  'InvAck',
  'InvAckLast',
  'PutAck',
] as const;
export type CacheEventKind = (typeof CACHE_EVENTS)[number];

/**
 * - `sendGetS` … `sendPutO`: a request to the home (a Put carries the value for M and O);
 *   the local operation becomes the line's pending transaction.
 * - `sendUnblock`: tell the home the transaction is complete here.
 * - `sendInvAck`: ack an `Inv` to its requester.
 * - `sendDataS` / `sendDataM`: as owner, send the line to a forward's requester (granted S, or
 *   M with the forward's ack count).
 * - `sendWbData`: as owner demoted to S by a forward (MESI), send the value to the home.
 * - `hit`: complete a Load with the line's value. `store`: a write hit, the value changes.
 * - `fill`: take the value of a `Data`. `countAcks`: add a `Data`'s/`AckCount`'s ack count,
 *   subtract one for an `InvAck`. `complete`: the pending read or write is done (a write sets
 *   the value now).
 */
export type CacheAction =
  | 'sendGetS'
  | 'sendGetM'
  | 'sendPutS'
  | 'sendPutE'
  | 'sendPutM'
  | 'sendPutO'
  | 'sendUnblock'
  | 'sendInvAck'
  | 'sendDataS'
  | 'sendDataM'
  | 'sendWbData'
  | 'hit'
  | 'store'
  | 'fill'
  | 'countAcks'
  | 'complete';

export interface Transition<S, A> {
  readonly next: S;
  readonly actions: readonly A[];
}
/** `stall`: a local operation that must wait until the line is out of its transient state. */
export type CacheRow = Transition<CacheState, CacheAction> | 'stall';
export type CacheTable = {
  readonly [S in CacheState]?: { readonly [E in CacheEventKind]?: CacheRow };
};

const STALL = 'stall';
function go<S, A>(next: S, ...actions: A[]): Transition<S, A> {
  return { next, actions };
}

/**
 * Evict of a line already in transition does nothing. Reads stall in the `XI_A` states: once
 * the home has taken the Put, another node may be granted the line and write before the
 * PutAck arrives, so the old copy must not be read (the Primer allows those hits because it
 * orders by logical time; linearizability needs real time).
 */
const MESI_CACHE: CacheTable = {
  I: {
    Load: go('IS_D', 'sendGetS'),
    Store: go('IM_AD', 'sendGetM'),
    Evict: go('I'),
  },
  IS_D: {
    Load: STALL,
    Store: STALL,
    Evict: go('IS_D'),
    DataS: go('S', 'fill', 'complete', 'sendUnblock'),
    DataE: go('E', 'fill', 'complete', 'sendUnblock'),
  },
  IM_AD: {
    Load: STALL,
    Store: STALL,
    Evict: go('IM_AD'),
    DataM: go('IM_A', 'countAcks'),
    DataMLast: go('M', 'complete', 'sendUnblock'),
    InvAck: go('IM_AD', 'countAcks'),
  },
  IM_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('IM_A'),
    InvAck: go('IM_A', 'countAcks'),
    InvAckLast: go('M', 'complete', 'sendUnblock'),
  },
  S: {
    Load: go('S', 'hit'),
    Store: go('SM_AD', 'sendGetM'),
    Evict: go('SI_A', 'sendPutS'),
    Inv: go('I', 'sendInvAck'),
  },
  SM_AD: {
    Load: go('SM_AD', 'hit'),
    Store: STALL,
    Evict: go('SM_AD'),
    Inv: go('IM_AD', 'sendInvAck'),
    DataM: go('SM_A', 'countAcks'),
    DataMLast: go('M', 'complete', 'sendUnblock'),
    InvAck: go('SM_AD', 'countAcks'),
  },
  SM_A: {
    Load: go('SM_A', 'hit'),
    Store: STALL,
    Evict: go('SM_A'),
    InvAck: go('SM_A', 'countAcks'),
    InvAckLast: go('M', 'complete', 'sendUnblock'),
  },
  E: {
    Load: go('E', 'hit'),
    Store: go('M', 'store'),
    Evict: go('EI_A', 'sendPutE'),
    FwdGetS: go('S', 'sendDataS', 'sendWbData'),
    FwdGetM: go('I', 'sendDataM'),
  },
  M: {
    Load: go('M', 'hit'),
    Store: go('M', 'store'),
    Evict: go('MI_A', 'sendPutM'),
    FwdGetS: go('S', 'sendDataS', 'sendWbData'),
    FwdGetM: go('I', 'sendDataM'),
  },
  MI_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('MI_A'),
    FwdGetS: go('SI_A', 'sendDataS', 'sendWbData'),
    FwdGetM: go('II_A', 'sendDataM'),
    PutAck: go('I'),
  },
  EI_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('EI_A'),
    FwdGetS: go('SI_A', 'sendDataS', 'sendWbData'),
    FwdGetM: go('II_A', 'sendDataM'),
    PutAck: go('I'),
  },
  SI_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('SI_A'),
    Inv: go('II_A', 'sendInvAck'),
    PutAck: go('I'),
  },
  II_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('II_A'),
    PutAck: go('I'),
  },
};

/** MOESI: a forwarded read leaves the owner in O (no writeback); O upgrades with AckCount. */
const MOESI_CACHE: CacheTable = {
  ...MESI_CACHE,
  E: { ...MESI_CACHE.E, FwdGetS: go('O', 'sendDataS') },
  M: { ...MESI_CACHE.M, FwdGetS: go('O', 'sendDataS') },
  MI_A: { ...MESI_CACHE.MI_A, FwdGetS: go('OI_A', 'sendDataS') },
  EI_A: { ...MESI_CACHE.EI_A, FwdGetS: go('OI_A', 'sendDataS') },
  O: {
    Load: go('O', 'hit'),
    Store: go('OM_AC', 'sendGetM'),
    Evict: go('OI_A', 'sendPutO'),
    FwdGetS: go('O', 'sendDataS'),
    FwdGetM: go('I', 'sendDataM'),
  },
  OM_AC: {
    Load: go('OM_AC', 'hit'),
    Store: STALL,
    Evict: go('OM_AC'),
    FwdGetS: go('OM_AC', 'sendDataS'),
    FwdGetM: go('IM_AD', 'sendDataM'),
    AckCount: go('OM_A', 'countAcks'),
    AckCountLast: go('M', 'complete', 'sendUnblock'),
    InvAck: go('OM_AC', 'countAcks'),
  },
  OM_A: {
    Load: go('OM_A', 'hit'),
    Store: STALL,
    Evict: go('OM_A'),
    InvAck: go('OM_A', 'countAcks'),
    InvAckLast: go('M', 'complete', 'sendUnblock'),
  },
  OI_A: {
    Load: STALL,
    Store: STALL,
    Evict: go('OI_A'),
    FwdGetS: go('OI_A', 'sendDataS'),
    FwdGetM: go('II_A', 'sendDataM'),
    PutAck: go('I'),
  },
};

export const CACHE_TABLES: Readonly<Record<Protocol, CacheTable>> = { mesi: MESI_CACHE, moesi: MOESI_CACHE };

/** The transaction a line waits on. `acks`: invalidation acks still due (negative: early ones). */
export interface Pending {
  readonly requestId: number;
  readonly op: 'read' | 'write' | 'evict';
  /** The value a pending write will store. */
  readonly value: Stored;
  readonly acks: number;
}

/** One key's line in a node's cache. The value is meaningful only in `DATA_STATES`. */
export interface CacheLine {
  readonly state: CacheState;
  readonly value: Stored;
  readonly pending: Pending | null;
}

export const EMPTY_LINE: CacheLine = { state: 'I', value: null, pending: null };

export type LocalOp =
  | { readonly kind: 'Load'; readonly requestId: number }
  | { readonly kind: 'Store'; readonly requestId: number; readonly value: Stored }
  | { readonly kind: 'Evict'; readonly requestId: number };
export type CacheInput = LocalOp | CacheBoundMessage;

export interface Completion {
  readonly requestId: number;
  readonly key: string;
  readonly op: 'read' | 'write';
  /** What the read returns, or what the write stored. */
  readonly value: Stored;
}

export interface CacheStepContext {
  readonly node: NodeId;
  readonly home: NodeId;
  readonly key: string;
}

export interface CacheStepResult {
  /** A local operation that must wait; nothing else in the result applies. */
  readonly stalled: boolean;
  readonly line: CacheLine;
  readonly send: readonly CacheMessage[];
  readonly completed: readonly Completion[];
  /** `state:event`, the row that fired (for coverage and counters). */
  readonly rule: string;
  readonly actions: readonly CacheAction[];
}

const AWAITING_ACKS_ONLY: ReadonlySet<CacheState> = new Set(['IM_A', 'SM_A', 'OM_A']);

function isLocal(input: CacheInput): input is LocalOp {
  return 'kind' in input;
}

/** What an input means to a line in `line`'s state. */
export function cacheEventOf(line: CacheLine, input: CacheInput): CacheEventKind {
  if (isLocal(input)) return input.kind;
  const acks = line.pending?.acks ?? 0;
  switch (input.type) {
    case 'Data':
      if (input.grant !== 'M') return input.grant === 'S' ? 'DataS' : 'DataE';
      return acks + input.acks === 0 ? 'DataMLast' : 'DataM';
    case 'AckCount':
      return acks + input.acks === 0 ? 'AckCountLast' : 'AckCount';
    case 'InvAck':
      return AWAITING_ACKS_ONLY.has(line.state) && acks - 1 === 0 ? 'InvAckLast' : 'InvAck';
    default:
      return input.type;
  }
}

/**
 * One transition of a cache line: classify the input, look the row up in the table, do its
 * actions. Throws `CoherenceError` for an input the table has no row for: under the protocol's
 * rules that cannot happen, so it is a bug (or a message from another epoch) and must not be
 * papered over.
 */
export function cacheStep(
  protocol: Protocol,
  line: CacheLine,
  input: CacheInput,
  ctx: CacheStepContext,
): CacheStepResult {
  const event = cacheEventOf(line, input);
  const rule = `${line.state}:${event}`;
  const row = CACHE_TABLES[protocol][line.state]?.[event];
  if (row === undefined) {
    throw new CoherenceError(`${protocol} cache ${ctx.node} key '${ctx.key}': no transition for ${rule}`);
  }
  if (row === STALL) return { stalled: true, line, send: [], completed: [], rule, actions: [] };

  const local = isLocal(input) ? input : undefined;
  const msg = isLocal(input) ? undefined : input;
  let { value, pending } = line;
  const send: CacheMessage[] = [];
  const completed: Completion[] = [];
  const base = { key: ctx.key, from: ctx.node };
  const need = <T>(x: T | undefined, what: string): T => {
    if (x === undefined) throw new CoherenceError(`${protocol} ${rule} at ${ctx.node}: needs ${what}`);
    return x;
  };
  const toHome = (type: 'GetS' | 'GetM' | 'PutS' | 'PutE' | 'PutM' | 'PutO'): void => {
    const op = need(local, 'a local operation');
    pending = {
      requestId: op.requestId,
      op: op.kind === 'Load' ? 'read' : op.kind === 'Store' ? 'write' : 'evict',
      value: op.kind === 'Store' ? op.value : null,
      acks: 0,
    };
    send.push(
      type === 'PutM' || type === 'PutO'
        ? { type, ...base, to: ctx.home, requestId: op.requestId, value }
        : { type, ...base, to: ctx.home, requestId: op.requestId },
    );
  };
  if (
    msg !== undefined &&
    pending !== null &&
    expectsOwnId(msg.type) &&
    msg.requestId !== pending.requestId
  ) {
    throw new CoherenceError(
      `${protocol} ${rule} at ${ctx.node}: ${msg.type} for request ${msg.requestId}, pending ${pending.requestId}`,
    );
  }

  for (const action of row.actions) {
    switch (action) {
      case 'sendGetS':
        toHome('GetS');
        break;
      case 'sendGetM':
        toHome('GetM');
        break;
      case 'sendPutS':
        toHome('PutS');
        break;
      case 'sendPutE':
        toHome('PutE');
        break;
      case 'sendPutM':
        toHome('PutM');
        break;
      case 'sendPutO':
        toHome('PutO');
        break;
      case 'sendUnblock': {
        const requestId = need(line.pending ?? undefined, 'a pending request').requestId;
        send.push({ type: 'Unblock', ...base, to: ctx.home, requestId });
        break;
      }
      case 'sendInvAck': {
        const m = need(msg, 'a message') as InvMessage;
        send.push({ type: 'InvAck', ...base, to: m.requester, requestId: m.requestId });
        break;
      }
      case 'sendDataS': {
        const m = need(msg, 'a message') as FwdGetSMessage;
        send.push({
          type: 'Data',
          ...base,
          to: m.requester,
          requestId: m.requestId,
          grant: 'S',
          acks: 0,
          value,
        });
        break;
      }
      case 'sendDataM': {
        const m = need(msg, 'a message') as FwdGetMMessage;
        send.push({
          type: 'Data',
          ...base,
          to: m.requester,
          requestId: m.requestId,
          grant: 'M',
          acks: m.acks,
          value,
        });
        break;
      }
      case 'sendWbData': {
        const m = need(msg, 'a message') as FwdGetSMessage;
        send.push({ type: 'WbData', ...base, to: ctx.home, requestId: m.requestId, value });
        break;
      }
      case 'hit':
        completed.push({
          requestId: need(local, 'a local operation').requestId,
          key: ctx.key,
          op: 'read',
          value,
        });
        break;
      case 'store': {
        const op = need(local, 'a local operation') as Extract<LocalOp, { kind: 'Store' }>;
        value = op.value;
        completed.push({ requestId: op.requestId, key: ctx.key, op: 'write', value });
        break;
      }
      case 'fill':
        value = (need(msg, 'a message') as DataMessage).value;
        break;
      case 'countAcks': {
        const m = need(msg, 'a message');
        const p = need(pending ?? undefined, 'a pending request');
        const delta = m.type === 'InvAck' ? -1 : (m as DataMessage | AckCountMessage).acks;
        pending = { ...p, acks: p.acks + delta };
        break;
      }
      case 'complete': {
        const p = need(pending ?? undefined, 'a pending request');
        if (p.op === 'evict')
          throw new CoherenceError(`${protocol} ${rule} at ${ctx.node}: completes an eviction`);
        if (p.op === 'write') value = p.value;
        completed.push({ requestId: p.requestId, key: ctx.key, op: p.op, value });
        pending = null;
        break;
      }
    }
  }
  const next = row.next;
  if (isStable(next)) pending = null;
  if (!DATA_STATES.has(next)) value = null;
  return {
    stalled: false,
    line: { state: next, value, pending },
    send,
    completed,
    rule,
    actions: row.actions,
  };
}

/** Messages that answer this node's own pending transaction (the rest serve others'). */
function expectsOwnId(type: MessageType): boolean {
  return type === 'Data' || type === 'AckCount' || type === 'InvAck' || type === 'PutAck';
}

export function isStable(state: CacheState): boolean {
  return state === 'I' || state === 'S' || state === 'E' || state === 'O' || state === 'M';
}

// ---------------------------------------------------------------------------------------------
// Home side

/**
 * Stable: I (no copies; memory is the value), S (sharers; memory is the value), EM (one owner
 * in E or M; memory may be stale), O (MOESI: an owner with the dirty value, maybe sharers).
 * Busy (a transaction in flight; requests queue): `X_U` becomes X on the requester's Unblock;
 * MESI's `S_DU` also waits for the old owner's `WbData` (then `S_U`, or `S_D` if the Unblock
 * came first).
 */
export const HOME_STATES = ['I', 'S', 'EM', 'O', 'EM_U', 'S_U', 'O_U', 'S_DU', 'S_D'] as const;
export type HomeState = (typeof HOME_STATES)[number];

/**
 * A request is classified against the entry when it is served (not when it arrives):
 * `GetMOwner` is a GetM from the O owner; a Put from the owner is `PutOwner` (or
 * `PutOwnerLast` when no sharers remain), from a sharer `PutS` (`PutSLast` for the last one),
 * from anyone else `PutStale` (its transaction was overtaken: a forward got there first). In a
 * busy state every request is `Request` and waits in the queue.
 */
export const HOME_EVENTS = [
  'GetS',
  'GetM',
  'GetMOwner',
  'PutS',
  'PutSLast',
  'PutOwner',
  'PutOwnerLast',
  'PutStale',
  'Request',
  'Unblock',
  'WbData',
] as const;
export type HomeEventKind = (typeof HOME_EVENTS)[number];

/**
 * `others` below is the sharers other than the requester, counted before the actions run.
 * - `sendDataS`/`sendDataE`/`sendDataM`: the memory copy to the requester (M: with `others`
 *   as the ack count). `sendAckCount`: just the count, to an O owner upgrading.
 * - `fwdGetS`/`fwdGetM`: forward to the owner (FwdGetM with `others` as the ack count).
 * - `invSharers`: Inv to every one of `others`.
 * - `addSharer`/`removeSharer`: the requester. `ownerToSharer`: the owner becomes a sharer.
 *   `clearSharers`. `setOwner`: the requester. `clearOwner`.
 * - `takeWriteback`: memory := the message's value (PutM, PutO, WbData; a PutE is clean and
 *   leaves memory as it is). `sendPutAck`.
 * - `busy`: the requester's transaction is now in flight. `done`: it is over.
 * - `queue`: keep the request until the entry is stable.
 */
export type HomeAction =
  | 'sendDataS'
  | 'sendDataE'
  | 'sendDataM'
  | 'sendAckCount'
  | 'fwdGetS'
  | 'fwdGetM'
  | 'invSharers'
  | 'addSharer'
  | 'removeSharer'
  | 'ownerToSharer'
  | 'clearSharers'
  | 'setOwner'
  | 'clearOwner'
  | 'takeWriteback'
  | 'sendPutAck'
  | 'busy'
  | 'done'
  | 'queue';

export type HomeRow = Transition<HomeState, HomeAction>;
export type HomeTable = {
  readonly [S in HomeState]?: { readonly [E in HomeEventKind]?: HomeRow };
};

const MESI_HOME: HomeTable = {
  I: {
    GetS: go('EM_U', 'sendDataE', 'setOwner', 'busy'),
    GetM: go('EM_U', 'sendDataM', 'setOwner', 'busy'),
    PutStale: go('I', 'sendPutAck'),
  },
  S: {
    GetS: go('S_U', 'sendDataS', 'addSharer', 'busy'),
    GetM: go('EM_U', 'sendDataM', 'invSharers', 'clearSharers', 'setOwner', 'busy'),
    PutS: go('S', 'removeSharer', 'sendPutAck'),
    PutSLast: go('I', 'removeSharer', 'sendPutAck'),
    PutStale: go('S', 'sendPutAck'),
  },
  EM: {
    GetS: go('S_DU', 'fwdGetS', 'ownerToSharer', 'addSharer', 'busy'),
    GetM: go('EM_U', 'fwdGetM', 'setOwner', 'busy'),
    PutOwnerLast: go('I', 'takeWriteback', 'clearOwner', 'sendPutAck'),
    PutStale: go('EM', 'sendPutAck'),
  },
  EM_U: { Request: go('EM_U', 'queue'), Unblock: go('EM', 'done') },
  S_U: { Request: go('S_U', 'queue'), Unblock: go('S', 'done') },
  S_DU: { Request: go('S_DU', 'queue'), Unblock: go('S_D'), WbData: go('S_U', 'takeWriteback') },
  S_D: { Request: go('S_D', 'queue'), WbData: go('S', 'takeWriteback', 'done') },
};

const MOESI_HOME: HomeTable = {
  I: MESI_HOME.I,
  S: MESI_HOME.S,
  EM: { ...MESI_HOME.EM, GetS: go('O_U', 'fwdGetS', 'addSharer', 'busy') },
  O: {
    GetS: go('O_U', 'fwdGetS', 'addSharer', 'busy'),
    GetM: go('EM_U', 'fwdGetM', 'invSharers', 'clearSharers', 'setOwner', 'busy'),
    GetMOwner: go('EM_U', 'sendAckCount', 'invSharers', 'clearSharers', 'busy'),
    PutS: go('O', 'removeSharer', 'sendPutAck'),
    PutSLast: go('O', 'removeSharer', 'sendPutAck'),
    PutOwner: go('S', 'takeWriteback', 'clearOwner', 'sendPutAck'),
    PutOwnerLast: go('I', 'takeWriteback', 'clearOwner', 'sendPutAck'),
    PutStale: go('O', 'sendPutAck'),
  },
  EM_U: MESI_HOME.EM_U,
  S_U: MESI_HOME.S_U,
  O_U: { Request: go('O_U', 'queue'), Unblock: go('O', 'done') },
};

export const HOME_TABLES: Readonly<Record<Protocol, HomeTable>> = { mesi: MESI_HOME, moesi: MOESI_HOME };

/** The transaction a busy entry waits to finish. */
export interface BusyTransaction {
  readonly requester: NodeId;
  readonly requestId: number;
}

/** A key's directory entry at its home. Sharers are kept sorted (deterministic, comparable). */
export interface DirEntry {
  readonly state: HomeState;
  readonly owner: NodeId | null;
  readonly sharers: readonly NodeId[];
  /** The home's copy of the value; current in I and S, possibly stale in EM and O. */
  readonly memory: Stored;
  readonly busy: BusyTransaction | null;
  /** Requests that arrived while busy, served in arrival order once the entry is stable. */
  readonly queue: readonly QueuedRequest[];
}

export const EMPTY_ENTRY: DirEntry = {
  state: 'I',
  owner: null,
  sharers: [],
  memory: null,
  busy: null,
  queue: [],
};

export interface HomeStepContext {
  /** The home's own node id (the `from` of what it sends). */
  readonly node: NodeId;
}

export interface HomeStepResult {
  readonly entry: DirEntry;
  readonly send: readonly CacheMessage[];
  /** `state:event` of every row that fired: the message's, then each dequeued request's. */
  readonly rules: readonly string[];
  readonly actions: readonly HomeAction[];
}

export function isBusy(state: HomeState): boolean {
  return state === 'EM_U' || state === 'S_U' || state === 'O_U' || state === 'S_DU' || state === 'S_D';
}

/** What a home message means to `entry` now. */
export function homeEventOf(entry: DirEntry, m: HomeMessage): HomeEventKind {
  if (m.type === 'Unblock' || m.type === 'WbData') return m.type;
  if (isBusy(entry.state)) return 'Request';
  switch (m.type) {
    case 'GetS':
      return 'GetS';
    case 'GetM':
      return m.from === entry.owner ? 'GetMOwner' : 'GetM';
    default:
      if (m.from === entry.owner) return entry.sharers.length === 0 ? 'PutOwnerLast' : 'PutOwner';
      if (entry.sharers.includes(m.from)) return entry.sharers.length === 1 ? 'PutSLast' : 'PutS';
      return 'PutStale';
  }
}

/**
 * One message at a key's home: classify, look up, act; then, while the entry is stable, serve
 * the queued requests in order. Throws `CoherenceError` for a message the table has no row for
 * (or an Unblock/WbData for a transaction that is not the one in flight).
 */
export function homeStep(
  protocol: Protocol,
  entry: DirEntry,
  message: HomeMessage,
  ctx: HomeStepContext,
): HomeStepResult {
  const send: CacheMessage[] = [];
  const rules: string[] = [];
  const actions: HomeAction[] = [];
  let e = homeOne(protocol, entry, message, ctx, send, rules, actions);
  while (!isBusy(e.state) && e.queue.length > 0) {
    const [head, ...rest] = e.queue;
    e = homeOne(protocol, { ...e, queue: rest }, head!, ctx, send, rules, actions);
  }
  return { entry: e, send, rules, actions };
}

function homeOne(
  protocol: Protocol,
  entry: DirEntry,
  m: HomeMessage,
  ctx: HomeStepContext,
  send: CacheMessage[],
  rules: string[],
  performed: HomeAction[],
): DirEntry {
  const event = homeEventOf(entry, m);
  const rule = `${entry.state}:${event}`;
  const row = HOME_TABLES[protocol][entry.state]?.[event];
  if (row === undefined) {
    throw new CoherenceError(
      `${protocol} home ${ctx.node} key '${m.key}': no transition for ${rule} from ${m.from}`,
    );
  }
  if (m.type === 'Unblock' || m.type === 'WbData') {
    const b = entry.busy;
    const fromWhom = m.type === 'Unblock' ? b?.requester : m.from;
    if (b === null || m.requestId !== b.requestId || m.from !== fromWhom) {
      throw new CoherenceError(
        `${protocol} home ${ctx.node} key '${m.key}': ${m.type} ${m.from}#${m.requestId} ` +
          `while busy with ${b === null ? 'nothing' : `${b.requester}#${b.requestId}`}`,
      );
    }
  }
  rules.push(rule);
  performed.push(...row.actions);
  const req = m.from;
  const others = entry.sharers.filter((s) => s !== req);
  let { owner, sharers, memory, busy, queue } = entry;
  const base = { key: m.key, from: ctx.node, requestId: m.requestId };
  for (const action of row.actions) {
    switch (action) {
      case 'sendDataS':
      case 'sendDataE':
        send.push({
          type: 'Data',
          ...base,
          to: req,
          grant: action === 'sendDataS' ? 'S' : 'E',
          acks: 0,
          value: memory,
        });
        break;
      case 'sendDataM':
        send.push({ type: 'Data', ...base, to: req, grant: 'M', acks: others.length, value: memory });
        break;
      case 'sendAckCount':
        send.push({ type: 'AckCount', ...base, to: req, acks: others.length });
        break;
      case 'fwdGetS':
        send.push({ type: 'FwdGetS', ...base, to: ownerOf(owner, rule), requester: req });
        break;
      case 'fwdGetM':
        send.push({
          type: 'FwdGetM',
          ...base,
          to: ownerOf(owner, rule),
          requester: req,
          acks: others.length,
        });
        break;
      case 'invSharers':
        for (const s of others) send.push({ type: 'Inv', ...base, to: s, requester: req });
        break;
      case 'addSharer':
        sharers = sharers
          .filter((s) => s !== req)
          .concat(req)
          .sort();
        break;
      case 'removeSharer':
        sharers = sharers.filter((s) => s !== req);
        break;
      case 'ownerToSharer':
        sharers = [ownerOf(owner, rule)];
        owner = null;
        break;
      case 'clearSharers':
        sharers = [];
        break;
      case 'setOwner':
        owner = req;
        break;
      case 'clearOwner':
        owner = null;
        break;
      case 'takeWriteback':
        if (m.type === 'PutM' || m.type === 'PutO' || m.type === 'WbData') memory = m.value;
        break;
      case 'sendPutAck':
        send.push({ type: 'PutAck', ...base, to: req });
        break;
      case 'busy':
        busy = { requester: req, requestId: m.requestId };
        break;
      case 'done':
        busy = null;
        break;
      case 'queue':
        queue = [...queue, m as QueuedRequest];
        break;
    }
  }
  return { state: row.next, owner, sharers, memory, busy, queue };
}

function ownerOf(owner: NodeId | null, rule: string): NodeId {
  if (owner === null) throw new CoherenceError(`home ${rule}: no owner to forward to`);
  return owner;
}

// ---------------------------------------------------------------------------------------------
// Values

export function valueBytes(v: Stored): number {
  if (v === null) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.byteLength;
}
