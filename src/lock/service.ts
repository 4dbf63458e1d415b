import type { ClusterNode } from '../cluster/cluster-node.js';
import { PayloadKind, withKind } from '../cluster/payload.js';
import { steadyNowMs } from '../lib/clock.js';
import { ReplyError } from '../lib/errors.js';
import { error, int, NULL, type Reply } from '../resp/reply.js';
import type { Session } from '../server/session.js';
import { encodeLockCommand, type LockCommand, type LockMode } from './commands.js';
import type { LockMachine } from './machine.js';
import type { LockTable } from './state-machine.js';
import type { LockEvent, LockStatus } from './types.js';

export interface LockServiceOptions {
  readonly node: ClusterNode;
  /** The lock table's place in group 0 on this node. */
  readonly machine: LockMachine;
  readonly defaultTtlMs: number;
  readonly maxWaiters: number;
  /** How often the group 0 leader checks whether a lease or a wait has fallen due. */
  readonly tickCheckMs: number;
  readonly requestTimeoutMs: () => number;
}

export interface AcquireRequest {
  readonly name: string;
  readonly mode: LockMode;
  readonly owner: string;
  readonly ttlMs: number;
  readonly waitMs: number;
}

/** How a queued acquire ended, as this node's replica of group 0 applied it. */
type WaitEnd = { readonly granted: number } | { readonly timedOut: true };

/**
 * A client waiting for (name, owner). Events are collected from the moment it registers; only
 * one from an entry after the acquire's own (`queuedAt`) ends the wait, because a restarted or
 * lagging replica replays older grants of the same owner.
 */
interface Waiter {
  queuedAt: number | null;
  readonly seen: { index: number; end: WaitEnd }[];
  readonly resolve: (end: WaitEnd) => void;
}

/** Local figures (not replicated) for INFO and metrics. */
export interface LockServiceStats {
  waitingClients: number;
  acquireCalls: number;
  cancelsSent: number;
  ticksProposed: number;
}

/**
 * The lock manager's service (DESIGN.md §6): turns LOCK.* into commands for group 0's lock
 * table, waits for grants, and keeps the table's clock moving.
 *
 * Waiting needs no messages of its own: every node hosts group 0 and applies every lock
 * event, so a client waiting on node X is woken when X applies the entry that granted it (or
 * timed its wait out). The waiter is registered before the acquire is proposed, so a grant
 * that X applies before the proposal's reply comes back is not missed.
 *
 * A client that disconnects while waiting is taken out of the queue (`cancel`). One that
 * disconnects while holding keeps the lock until its lease runs out, as with any lease-based
 * lock: the process may still be working under its fencing token.
 */
export class LockService {
  readonly #o: LockServiceOptions;
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #ticker: NodeJS.Timeout;
  #tickInFlight = false;
  readonly stats: LockServiceStats = { waitingClients: 0, acquireCalls: 0, cancelsSent: 0, ticksProposed: 0 };

  constructor(options: LockServiceOptions) {
    this.#o = options;
    options.machine.onEvents = (events, index) => this.#onEvents(events, index);
    this.#ticker = setInterval(() => this.#maybeTick(), options.tickCheckMs);
    this.#ticker.unref();
  }

  /** The owner a client acquires as when it names none: its CLIENT SETNAME, else node and client id. */
  defaultOwner(session: Session): string {
    return session.name ?? `${this.#o.node.id}-client-${session.id}`;
  }

  async acquire(session: Session, request: AcquireRequest): Promise<Reply> {
    this.stats.acquireCalls++;
    const { name, owner } = request;
    if (request.waitMs > 0) {
      const waiting = this.table()?.waiterCount(name) ?? 0;
      if (waiting >= this.#o.maxWaiters) {
        throw new ReplyError('LIMIT', `lock '${name}' already has ${waiting} waiters (lock-max-waiters)`);
      }
    }
    let end: ((e: WaitEnd) => void) | undefined;
    const ended = new Promise<WaitEnd>((resolve) => {
      end = resolve;
    });
    const waiter: Waiter = { queuedAt: null, seen: [], resolve: end! };
    const key = waitKey(name, owner);
    this.#add(key, waiter);
    let queued = false;
    const unhook = session.onClose(() => {
      if (queued) void this.#cancel(name, owner);
    });
    try {
      const reply = await this.#propose({ op: 'acquire', ...request });
      const queuedAt = reply.t === 'simple' ? /^QUEUED (\d+)$/.exec(reply.v) : null;
      if (queuedAt === null) return reply;
      queued = true;
      waiter.queuedAt = Number(queuedAt[1]);
      const early = waiter.seen.find((s) => s.index > waiter.queuedAt!);
      if (early !== undefined) waiter.resolve(early.end);
      // The table times the wait out by leader time; the extra request timeout only guards
      // against a group 0 that stopped applying (then the outcome is unknown: TRYAGAIN).
      const guardMs = request.waitMs + this.#o.requestTimeoutMs();
      let timer: NodeJS.Timeout | undefined;
      const guard = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), guardMs);
      });
      const outcome = await Promise.race([ended, guard]);
      clearTimeout(timer);
      if (outcome === null) {
        void this.#cancel(name, owner);
        return error(`TRYAGAIN the wait for '${name}' did not end in time; the lock may or may not be held`);
      }
      return 'granted' in outcome ? int(outcome.granted) : NULL;
    } finally {
      unhook();
      this.#remove(key, waiter);
    }
  }

  release(name: string, owner: string, token: number | undefined): Promise<Reply> {
    return this.#propose(
      token === undefined ? { op: 'release', name, owner } : { op: 'release', name, owner, token },
    );
  }

  renew(name: string, owner: string, ttlMs: number): Promise<Reply> {
    return this.#propose({ op: 'renew', name, owner, ttlMs });
  }

  /** LOCK.STATUS after a ReadIndex barrier: never from a stale or minority replica. */
  async status(name: string): Promise<{ status: LockStatus | undefined; nowMs: number } | Reply> {
    const refused = await this.#o.node.readBarrier(0);
    if (refused !== null) return refused;
    const locks = this.table();
    if (locks === undefined) return error('TRYAGAIN this node has no copy of the lock table yet');
    return { status: locks.status(name), nowMs: steadyNowMs() };
  }

  async list(pattern: string | undefined, count: number | undefined): Promise<string[] | Reply> {
    const refused = await this.#o.node.readBarrier(0);
    if (refused !== null) return refused;
    const locks = this.table();
    if (locks === undefined) return error('TRYAGAIN this node has no copy of the lock table yet');
    return locks.list(pattern, count);
  }

  close(): void {
    clearInterval(this.#ticker);
  }

  /** The table as applied here; undefined before this node has a group 0 replica. */
  table(): LockTable | undefined {
    return this.#o.node.host.group(0) === undefined ? undefined : this.#o.machine.table;
  }

  async #propose(command: LockCommand): Promise<Reply> {
    let payload: Uint8Array;
    try {
      payload = withKind(PayloadKind.lock, encodeLockCommand(command));
    } catch (e) {
      return error(`ERR ${(e as Error).message}`);
    }
    return this.#o.node.propose(0, payload);
  }

  async #cancel(name: string, owner: string): Promise<void> {
    this.stats.cancelsSent++;
    const reply = await this.#propose({ op: 'cancel', name, owner });
    // The cancel lost the race to a grant: the client is gone, so give the lock back.
    if (reply.t === 'int' && reply.v === 0) {
      const hold = this.table()
        ?.holdsOf(owner)
        .find((h) => h.name === name);
      if (hold !== undefined) await this.#propose({ op: 'release', name, owner, token: hold.token });
    }
  }

  /** On the group 0 leader: propose a tick when a lease or a wait has fallen due. */
  #maybeTick(): void {
    const g0 = this.#o.node.host.group(0);
    const locks = this.table();
    if (this.#tickInFlight || g0 === undefined || !g0.isLeader || locks === undefined) return;
    const due = locks.nextDeadlineMs();
    if (due === null || due > steadyNowMs()) return;
    this.#tickInFlight = true;
    this.stats.ticksProposed++;
    void this.#propose({ op: 'tick' }).finally(() => {
      this.#tickInFlight = false;
    });
  }

  #onEvents(events: readonly LockEvent[], index: number): void {
    for (const e of events) {
      if (e.kind === 'expired') continue;
      const waiters = this.#waiters.get(waitKey(e.name, e.owner));
      if (waiters === undefined) continue;
      const end: WaitEnd = e.kind === 'granted' ? { granted: e.token } : { timedOut: true };
      for (const w of waiters) {
        if (w.queuedAt === null) w.seen.push({ index, end });
        else if (index > w.queuedAt) w.resolve(end);
      }
    }
  }

  #add(key: string, waiter: Waiter): void {
    let set = this.#waiters.get(key);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(key, set);
    }
    set.add(waiter);
    this.stats.waitingClients++;
  }

  #remove(key: string, waiter: Waiter): void {
    const set = this.#waiters.get(key);
    if (set?.delete(waiter)) this.stats.waitingClients--;
    if (set?.size === 0) this.#waiters.delete(key);
  }
}

function waitKey(name: string, owner: string): string {
  return `${owner}\u0000${name}`;
}
