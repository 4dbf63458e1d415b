/**
 * The chaos run's history: every client operation (its invocation and its completion) and every
 * fault the nemesis injected, one JSON object per line, in the order they happened. The runner
 * writes it; the checkers read nothing else, so a history file can be checked again later
 * (`node dist/tools/chaos/check.js history.jsonl`).
 *
 * Times are milliseconds since the run started, read from the runner's monotonic clock.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';

export type Workload = 'lock' | 'queue' | 'cache';

/**
 * What a completion says of its operation, as in Jepsen:
 * - `ok`: it took effect;
 * - `fail`: it certainly did not take effect (refused before anything was proposed, or a
 *   definite error reply such as a lock held by someone else);
 * - `info`: unknown, it may or may not have taken effect (a timeout, a lost connection).
 */
export type Outcome = 'ok' | 'fail' | 'info';

/** What each workload's operations carry. */
export type OpFunction =
  /** LOCK.ACQUIRE name owner PX ttlMs: ok value = { token, ttlMs }. */
  | 'acquire'
  /** LOCK.RELEASE name owner token: invoke value = { token }. */
  | 'release'
  /** Q.PUSH queue body: invoke value = body (unique in the run); ok value = message id. */
  | 'push'
  /** Q.POP queue: ok value = { id, body } or null when the queue was empty. */
  | 'pop'
  /** Q.ACK queue id: invoke value = id. */
  | 'ack'
  /** CACHE.SET key value: invoke value = value (unique in the run). */
  | 'write'
  /** CACHE.GET key: ok value = value or null. */
  | 'read';

export interface LockGrant {
  readonly token: number;
  readonly ttlMs: number;
}

export interface PoppedMessage {
  readonly id: string;
  readonly body: string;
}

export interface OpEvent {
  readonly type: 'invoke' | Outcome;
  /** Unique per operation; the completion repeats its invocation's id. */
  readonly id: number;
  /** The client (one connection, one operation at a time). */
  readonly process: number;
  /** The node the client's connection goes to. */
  readonly node: string;
  readonly workload: Workload;
  readonly f: OpFunction;
  /** Lock name, queue name or cache key. */
  readonly key: string;
  readonly value?: unknown;
  /** The error reply or the failure, for fail and info. */
  readonly error?: string;
  readonly timeMs: number;
}

export type NemesisAction =
  | 'kill'
  | 'restart'
  | 'pause'
  | 'resume'
  | 'partition'
  | 'heal'
  | 'skew'
  | 'unskew';

export interface NemesisEvent {
  readonly type: 'nemesis';
  readonly action: NemesisAction;
  /** The nodes it was done to. */
  readonly nodes: readonly string[];
  /**
   * For `partition`: the components, each a list of node ids (nodes in different components
   * cannot talk); the name of the shape (majority-minority, bridge, ring) is in `detail`.
   * Components may overlap (a bridge, a ring): a node reaches the union of those it is in.
   * For `skew`: the offset in ms, in `skewMs`.
   */
  readonly components?: readonly (readonly string[])[];
  readonly skewMs?: number;
  readonly detail: string;
  readonly timeMs: number;
}

/** Who led the metadata group and each partition group, sampled during the run. */
export interface LeaderEvent {
  readonly type: 'leaders';
  /** group id → leader node id (missing: no leader known). */
  readonly leaders: Readonly<Record<string, string>>;
  readonly timeMs: number;
}

/** Marks a phase of the run: `faults` starts the nemesis, `heal` ends it, `drain` starts the drain. */
export interface PhaseEvent {
  readonly type: 'phase';
  readonly phase: 'start' | 'faults' | 'heal' | 'drain' | 'end';
  readonly timeMs: number;
}

export type HistoryEvent = OpEvent | NemesisEvent | LeaderEvent | PhaseEvent;

export function isOp(e: HistoryEvent): e is OpEvent {
  return e.type === 'invoke' || e.type === 'ok' || e.type === 'fail' || e.type === 'info';
}

/** Appends events to a JSONL file, buffered and flushed in batches. */
export class HistoryWriter {
  readonly #path: string;
  #buffer: string[] = [];

  constructor(path: string) {
    this.#path = path;
    writeFileSync(path, '');
  }

  write(event: HistoryEvent): void {
    this.#buffer.push(JSON.stringify(event));
    if (this.#buffer.length >= 512) this.flush();
  }

  flush(): void {
    if (this.#buffer.length === 0) return;
    appendFileSync(this.#path, `${this.#buffer.join('\n')}\n`);
    this.#buffer = [];
  }
}

export function readHistory(path: string): HistoryEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as HistoryEvent);
}

/** An operation with its invocation and completion paired; `completion` is absent if it never returned. */
export interface PairedOp {
  readonly invoke: OpEvent;
  readonly completion: OpEvent | undefined;
}

/** Pairs each invocation with its completion, in invocation order. */
export function pairOps(events: readonly HistoryEvent[]): PairedOp[] {
  const open = new Map<number, OpEvent>();
  const done = new Map<number, OpEvent>();
  const order: OpEvent[] = [];
  for (const e of events) {
    if (!isOp(e)) continue;
    if (e.type === 'invoke') {
      open.set(e.id, e);
      order.push(e);
    } else {
      done.set(e.id, e);
    }
  }
  return order.map((invoke) => ({ invoke, completion: done.get(invoke.id) }));
}

/** What a checker found wrong: one line a person reads, and the operations that show it. */
export interface Violation {
  readonly checker: 'locks' | 'queues' | 'cache';
  /** A stable name for the kind of violation (`overlapping-holds`, `lost-push`, ...). */
  readonly kind: string;
  readonly description: string;
  readonly ops: readonly PairedOp[];
}

/** A JSON-ish rendering of an op's value for one-line descriptions. */
export function showValue(value: unknown): string {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `p3 acquire("L1") on n2 [1200 → 1250 ok {"token":7,"ttlMs":3000}]`: an op in one line. */
export function describeOp(op: PairedOp): string {
  const { invoke, completion } = op;
  const args = invoke.value === undefined ? '' : `, ${showValue(invoke.value)}`;
  const end =
    completion === undefined
      ? '→ ? (never returned)'
      : `→ ${completion.timeMs} ${completion.type}` +
        (completion.value === undefined ? '' : ` ${showValue(completion.value)}`) +
        (completion.error === undefined ? '' : ` (${completion.error})`);
  const node = completion !== undefined && completion.node !== invoke.node ? completion.node : invoke.node;
  return `p${invoke.process} ${invoke.f}(${JSON.stringify(invoke.key)}${args}) on ${node} [${invoke.timeMs} ${end}]`;
}

/** Items grouped by a key, each group in the items' order. */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return groups;
}

/** How an op ended; one that never returned is `info` (its outcome is unknown). */
export function outcomeOf(op: PairedOp): Outcome {
  const type = op.completion?.type;
  return type === undefined || type === 'invoke' ? 'info' : type;
}
