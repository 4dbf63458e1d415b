import fc from 'fast-check';
import type { LockCommand, LockMode } from '../../src/lock/commands.js';
import { LockTable } from '../../src/lock/state-machine.js';
import type { LockEvent, LockOutcome, LockResult } from '../../src/lock/types.js';

export interface AcquireOptions {
  mode?: LockMode;
  ttlMs?: number;
  waitMs?: number;
}

/** Applies commands at successive log indexes; time moves only when a step says so. */
export class Log {
  table = LockTable.empty();
  index = 0;
  timeMs = 1_000_000;
  /** Every outcome's events, in order. */
  events: LockEvent[] = [];
  last: LockOutcome | undefined;

  apply(cmd: LockCommand, elapsedMs = 0): LockResult {
    this.index += 1;
    this.timeMs += elapsedMs;
    this.last = this.table.apply(cmd, { index: this.index, timeMs: this.timeMs });
    this.events.push(...this.last.events);
    return this.last.result;
  }

  acquire(name: string, owner: string, o: AcquireOptions = {}, elapsedMs = 0): LockResult {
    const cmd: LockCommand = {
      op: 'acquire',
      name,
      owner,
      mode: o.mode ?? 'exclusive',
      ttlMs: o.ttlMs ?? 30_000,
      waitMs: o.waitMs ?? 0,
    };
    return this.apply(cmd, elapsedMs);
  }

  /** Acquires and returns the token; throws unless granted. */
  grant(name: string, owner: string, o: AcquireOptions = {}, elapsedMs = 0): number {
    const r = this.acquire(name, owner, o, elapsedMs);
    if (r.kind !== 'granted') throw new Error(`${owner} on ${name}: ${JSON.stringify(r)}`);
    return r.token;
  }

  release(name: string, owner: string, token?: number, elapsedMs = 0): LockResult {
    return this.apply(
      token === undefined ? { op: 'release', name, owner } : { op: 'release', name, owner, token },
      elapsedMs,
    );
  }

  renew(name: string, owner: string, ttlMs: number, elapsedMs = 0): LockResult {
    return this.apply({ op: 'renew', name, owner, ttlMs }, elapsedMs);
  }

  cancel(name: string, owner: string, elapsedMs = 0): LockResult {
    return this.apply({ op: 'cancel', name, owner }, elapsedMs);
  }

  tick(elapsedMs = 0): LockResult {
    return this.apply({ op: 'tick' }, elapsedMs);
  }

  /** Events of the last apply. */
  get lastEvents(): readonly LockEvent[] {
    return this.last?.events ?? [];
  }

  /** `owner:token` of the holders, `owner:mode` of the waiters: compact for assertions. */
  brief(name: string): { mode: string; holders: string[]; waiters: string[] } | undefined {
    const s = this.table.status(name);
    if (s === undefined) return undefined;
    return {
      mode: s.mode,
      holders: s.holders.map((h) => `${h.owner}:${h.token}`),
      waiters: s.waiters.map((w) => `${w.owner}:${w.mode}`),
    };
  }
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A command over a small pool of names and owners, its release token still to be chosen. */
export type PlausibleCommand =
  | Exclude<LockCommand, { op: 'release' }>
  | { op: 'release'; name: string; owner: string; token: 'none' | 'right' | 'wrong' };

export interface Step {
  readonly cmd: PlausibleCommand;
  readonly elapsedMs: number;
}

export const NAMES = ['a', 'b', 'c'];
export const OWNERS = ['A', 'B', 'C', 'D'];

const record = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });
const pname = fc.constantFrom(...NAMES);
const powner = fc.constantFrom(...OWNERS);

/**
 * Short leases and waits against few names and owners, so that random sequences queue,
 * upgrade, deadlock, expire and time out often.
 */
export const plausibleCommand: fc.Arbitrary<PlausibleCommand> = fc.oneof(
  {
    weight: 6,
    arbitrary: record({
      op: fc.constant('acquire' as const),
      name: pname,
      owner: powner,
      mode: fc.constantFrom('shared' as const, 'exclusive' as const),
      ttlMs: fc.integer({ min: 1, max: 200 }),
      waitMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200 })),
    }),
  },
  {
    weight: 3,
    arbitrary: record({
      op: fc.constant('release' as const),
      name: pname,
      owner: powner,
      token: fc.constantFrom('none' as const, 'right' as const, 'wrong' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: record({
      op: fc.constant('renew' as const),
      name: pname,
      owner: powner,
      ttlMs: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: record({ op: fc.constant('cancel' as const), name: pname, owner: powner }) },
  { weight: 1, arbitrary: fc.constant({ op: 'tick' as const }) },
);

export const plausibleSequence: fc.Arbitrary<Step[]> = fc.array(
  record({ cmd: plausibleCommand, elapsedMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 })) }),
  { maxLength: 100, size: 'max' },
);

/** The concrete command: a release's token is the hold's, one off it, or none. */
export function resolve(cmd: PlausibleCommand, table: LockTable): LockCommand {
  if (cmd.op !== 'release') return cmd;
  const { name, owner } = cmd;
  if (cmd.token === 'none') return { op: 'release', name, owner };
  const held = table.holdsOf(owner).find((h) => h.name === name)?.token ?? 1;
  return { op: 'release', name, owner, token: cmd.token === 'right' ? held : held + 1 };
}
