import fc from 'fast-check';
import t from 'tap';
import {
  decodeLockCommand,
  encodeLockCommand,
  type LockCommand,
  type LockMode,
} from '../../src/lock/commands.js';
import { LockTable } from '../../src/lock/state-machine.js';
import type { LockOutcome } from '../../src/lock/types.js';
import { hex, OWNERS, plausibleSequence, resolve, type Step } from './helpers.js';

/**
 * Model-based: random command sequences, every invariant checked after every step against
 * what the table reports (status, holdsOf), with the wait-for graph rebuilt here
 * independently; and replicas (a twin fed the same entries, one restored from a snapshot
 * part way) must answer and snapshot identically.
 */

interface LockView {
  name: string;
  holders: { owner: string; mode: LockMode; token: number; expiresAtMs: number }[];
  waiters: { owner: string; mode: LockMode; deadlineMs: number }[];
}

function viewOf(table: LockTable): LockView[] {
  return table.list().map((name) => {
    const s = table.status(name)!;
    const holders = s.holders.map((h) => {
      const mode = table.holdsOf(h.owner).find((x) => x.name === name)?.mode;
      if (mode === undefined) throw new Error(`${h.owner} holds ${name} but holdsOf does not say so`);
      return { ...h, mode };
    });
    return { name, holders, waiters: [...s.waiters] };
  });
}

const fits = (a: LockMode, b: LockMode): boolean => a === 'shared' && b === 'shared';

/** owner → owners it waits for, from the rules in README.md, not from the table's code. */
function waitForGraph(view: LockView[]): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const lock of view) {
    lock.waiters.forEach((w, i) => {
      const out = g.get(w.owner) ?? new Set<string>();
      g.set(w.owner, out);
      for (const h of lock.holders) if (h.owner !== w.owner && !fits(h.mode, w.mode)) out.add(h.owner);
      for (const ahead of lock.waiters.slice(0, i)) if (!fits(ahead.mode, w.mode)) out.add(ahead.owner);
    });
  }
  return g;
}

function hasCycle(g: Map<string, Set<string>>): boolean {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (o: string): boolean => {
    if (state.get(o) === 'done') return false;
    if (state.get(o) === 'open') return true;
    state.set(o, 'open');
    for (const n of g.get(o) ?? []) if (visit(n)) return true;
    state.set(o, 'done');
    return false;
  };
  return [...g.keys()].some(visit);
}

class Checker {
  /** Per lock: the highest token seen, the highest exclusive token seen. */
  readonly #maxToken = new Map<string, number>();
  readonly #maxExclusive = new Map<string, number>();
  readonly #seen = new Set<string>();

  check(table: LockTable, cmd: LockCommand, out: LockOutcome, index: number, now: number): void {
    const view = viewOf(table);
    for (const lock of view) {
      const { name, holders, waiters } = lock;
      ok(holders.length > 0, `${name} is live without holders`);
      const exclusive = holders.filter((h) => h.mode === 'exclusive');
      ok(exclusive.length === 0 || holders.length === 1, `${name}: exclusive beside other holders`);
      for (const h of holders) {
        ok(h.token <= index && h.expiresAtMs > now, `${name}: hold ${JSON.stringify(h)} at ${index}/${now}`);
        const key = `${name}/${h.owner}/${h.token}`;
        if (!this.#seen.has(key)) {
          // A new hold: fencing tokens only go up, and past every earlier exclusive one.
          this.#seen.add(key);
          ok(h.token >= (this.#maxToken.get(name) ?? 0), `${name}: token ${h.token} went back`);
          ok(
            h.token > (this.#maxExclusive.get(name) ?? 0),
            `${name}: token ${h.token} not past an exclusive one`,
          );
        }
        this.#maxToken.set(name, Math.max(this.#maxToken.get(name) ?? 0, h.token));
        if (h.mode === 'exclusive')
          this.#maxExclusive.set(name, Math.max(this.#maxExclusive.get(name) ?? 0, h.token));
      }
      const owners = new Set(waiters.map((w) => w.owner));
      ok(owners.size === waiters.length, `${name}: an owner waits twice`);
      waiters.forEach((w, i) => {
        ok(w.deadlineMs > now, `${name}: a wait past its deadline`);
        const held = holders.find((h) => h.owner === w.owner);
        ok(
          held === undefined || (held.mode === 'shared' && w.mode === 'exclusive' && i === 0),
          `${name}: ${w.owner} holds and waits other than as an upgrade at the front`,
        );
      });
      const head = waiters[0];
      if (head !== undefined) {
        const grantable = holders.every((h) => h.owner === head.owner || fits(h.mode, head.mode));
        ok(!grantable, `${name}: the head of the queue could be granted`);
      }
    }
    ok(!hasCycle(waitForGraph(view)), 'the wait-for graph has a cycle');

    const deadlines = view.flatMap((l) => [
      ...l.holders.map((h) => h.expiresAtMs),
      ...l.waiters.map((w) => w.deadlineMs),
    ]);
    const next = deadlines.length === 0 ? null : Math.min(...deadlines);
    ok(table.nextDeadlineMs() === next, `nextDeadlineMs ${table.nextDeadlineMs()}, expected ${next}`);

    this.#checkResult(view, cmd, out, index);
  }

  #checkResult(view: LockView[], cmd: LockCommand, out: LockOutcome, index: number): void {
    const r = out.result;
    const lock = cmd.op === 'tick' ? undefined : view.find((l) => l.name === cmd.name);
    const owner = cmd.op === 'tick' ? '' : cmd.owner;
    const hold = lock?.holders.find((h) => h.owner === owner);
    const waiting = lock?.waiters.some((w) => w.owner === owner) ?? false;
    for (const e of out.events)
      if (e.kind === 'granted') ok(e.token === index, 'a grant event with an old token');
    switch (r.kind) {
      case 'granted':
        ok(
          cmd.op === 'acquire' && hold?.token === r.token && r.token <= index,
          `granted ${r.token} but holds ${hold?.token}`,
        );
        break;
      case 'queued':
        ok(cmd.op === 'acquire' && waiting, 'queued but not waiting');
        break;
      case 'refused':
        // Newly holding only if a waiter's grant in the same entry says so (it fell due first).
        ok(
          cmd.op === 'acquire' &&
            (hold?.token !== index || out.events.some((e) => e.kind === 'granted' && e.owner === owner)),
          'refused but newly holding',
        );
        break;
      case 'deadlock': {
        ok(cmd.op === 'acquire' && !waiting, 'deadlocked but queued');
        const c = r.cycle;
        ok(c.length >= 3 && c[0] === owner && c[c.length - 1] === owner, `cycle ${c}`);
        // Its first edge is to someone in this lock; the others are edges of the graph now.
        ok(
          lock !== undefined && [...lock.holders, ...lock.waiters].some((x) => x.owner === c[1]),
          'first edge',
        );
        const g = waitForGraph(view);
        for (let i = 1; i < c.length - 1; i++)
          ok(g.get(c[i]!)?.has(c[i + 1]!) === true, `edge ${c[i]} → ${c[i + 1]}`);
        break;
      }
      case 'released':
      case 'notHeld':
        ok(cmd.op !== 'acquire' && cmd.op !== 'tick', r.kind);
        if (cmd.op === 'release' || cmd.op === 'renew')
          ok(hold === undefined || r.kind === 'notHeld', 'released but holds');
        break;
      case 'renewed':
        ok(cmd.op === 'renew' && hold !== undefined, 'renewed but not held');
        break;
      case 'cancelled':
        ok(cmd.op === 'cancel' && !waiting, 'cancelled but still waiting');
        break;
      case 'ticked':
        ok(cmd.op === 'tick', 'ticked');
        break;
      case 'error':
        ok(/^ERR (token|owner is already waiting)/.test(r.message), r.message);
        break;
    }
  }
}

function ok(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

t.test('invariants hold after every step; replicas agree, restored ones too', async (t) => {
  const seen = new Map<string, number>();
  const count = (what: string): void => {
    seen.set(what, (seen.get(what) ?? 0) + 1);
  };
  fc.assert(
    fc.property(plausibleSequence, fc.nat(), (steps: Step[], cutAt) => {
      const a = LockTable.empty();
      const b = LockTable.empty();
      const cut = steps.length === 0 ? 0 : cutAt % (steps.length + 1);
      let c: LockTable | undefined;
      const checker = new Checker();
      let now = 1000;
      for (const [i, step] of steps.entries()) {
        if (i === cut) {
          c = LockTable.restore(a.snapshot());
          ok(hex(c.snapshot()) === hex(a.snapshot()), 'restore gives back the same bytes');
        }
        now += step.elapsedMs;
        const ctx = { index: i + 1, timeMs: now };
        // Through the codec, as the log carries it.
        const cmd = decodeLockCommand(encodeLockCommand(resolve(step.cmd, a)));
        const out = a.apply(cmd, ctx);
        checker.check(a, cmd, out, ctx.index, now);
        const twin = JSON.stringify(b.apply(cmd, ctx));
        ok(twin === JSON.stringify(out), `twin answered ${twin}, not ${JSON.stringify(out)}`);
        if (c !== undefined) {
          const restored = JSON.stringify(c.apply(cmd, ctx));
          ok(restored === JSON.stringify(out), `restored answered ${restored}, not ${JSON.stringify(out)}`);
          ok(c.nextDeadlineMs() === a.nextDeadlineMs(), 'restored next deadline');
        }
        count(out.result.kind);
        if (out.result.kind === 'deadlock' && out.result.cycle.length > 3) count('longer cycle');
        for (const e of out.events) count(e.kind);
      }
      ok(hex(a.snapshot()) === hex(b.snapshot()), 'twins snapshot the same bytes');
      if (c !== undefined) ok(hex(a.snapshot()) === hex(c.snapshot()), 'restored snapshots the same bytes');
      for (const o of OWNERS) ok(JSON.stringify(a.holdsOf(o)) === JSON.stringify(b.holdsOf(o)), 'holdsOf');
      ok(JSON.stringify(a.counters()) === JSON.stringify(b.counters()), 'counters');
    }),
    { numRuns: 500 },
  );
  // The generator must reach the interesting cases, or the property says little.
  const kinds = ['granted', 'queued', 'refused', 'deadlock', 'released', 'renewed', 'notHeld'];
  for (const k of [...kinds, 'longer cycle', 'cancelled', 'error', 'expired', 'waitTimedOut']) {
    t.ok((seen.get(k) ?? 0) >= (kinds.includes(k) ? 100 : 20), `${k}: ${seen.get(k)}`);
  }
});
