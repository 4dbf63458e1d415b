import { canDropMemory } from '../../src/cache/directory.js';
import { EMPTY_SLOT, type Slot, slotStep } from '../../src/cache/node-cache.js';
import {
  CACHE_TABLES,
  type CacheMessage,
  type CacheState,
  type Completion,
  type DirEntry,
  EMPTY_ENTRY,
  HOME_TABLES,
  homeStep,
  isHomeMessage,
  isStable,
  type LocalOp,
  OWNER_STATES,
  type Protocol,
  READABLE_STATES,
  type Stored,
  WRITABLE_STATES,
} from '../../src/cache/protocol.js';

/**
 * An explicit-state model checker over the pure protocol: the global state is every node's
 * slot (`slotStep`, the same function `NodeCache` runs), the home's entry (`homeStep`, the same
 * one `Directory` runs) and the multiset of messages in flight, for one key. Every message in
 * flight may be delivered next, in any order (no FIFO assumed, so every FIFO/TCP schedule is
 * covered), and any node with operations left may start a read, a write of a fresh value or an
 * eviction at any point, also while its earlier operations are pending. The search is a
 * depth-first walk that remembers every state it has seen, so every reachable state is
 * visited once and a cycle is noticed as an edge back into the current path.
 *
 * Checked in every state:
 * - SWMR: at most one node in an owner state (E, M, O, or those on their way out or up); if a
 *   node is in E or M (may write without asking), no other node holds a readable copy.
 * - Data value: every readable copy equals `latest`, the value of the last write performed
 *   (the instant the writer's line took it); the home's memory does too when the entry is I
 *   or S, or when a node holds the line in E (clean).
 * - Each read returns `latest` at the instant it completes, and a write completes with its own
 *   value: every operation takes effect atomically between its start and its completion, so
 *   every history is linearizable (stronger than "the last write before it or a concurrent one").
 * - Directory shape: I has no owner or sharers, S sharers and no owner, EM an owner and no
 *   sharers, O an owner.
 * - No deadlock and every operation completes: a state without successors has nothing in
 *   flight, every line stable with nothing pending or queued, and the home idle with an empty
 *   queue; and there is no cycle, so every run ends in such a state.
 * - Any input the tables have no row for throws, and is reported with the path to it.
 */

export interface ModelConfig {
  readonly protocol: Protocol;
  readonly nodes: number;
  /** Operations (read, write, evict) each node may start. */
  readonly opsPerNode: number;
  /** Operations all nodes together may start. */
  readonly totalOps: number;
  /** How many times the home may drop its idle memory copy (a delete: the value becomes nil). */
  readonly homeDrops: number;
}

export interface ModelResult {
  readonly states: number;
  readonly transitions: number;
  readonly terminal: number;
  readonly maxDepth: number;
  /** `cache:STATE:Event` / `home:STATE:Event` rows that fired. */
  readonly covered: ReadonlySet<string>;
}

export class ModelViolation extends Error {
  override name = 'ModelViolation';
}

const HOME = 'h';

interface Global {
  readonly slots: readonly Slot[];
  readonly home: DirEntry;
  /** Sorted by id: a multiset. */
  readonly msgs: readonly InFlight[];
  readonly budget: readonly number[];
  readonly total: number;
  readonly drops: number;
  readonly nextId: readonly number[];
  readonly latest: Stored;
}

interface Edge {
  readonly label: string;
  readonly state: Global;
  readonly key: string;
}

export function nodeName(i: number): string {
  return `n${i + 1}`;
}

function v(x: Stored): string {
  return x === null ? '~' : String(x);
}

function msgKey(m: CacheMessage): string {
  const x = m as unknown as Record<string, unknown>;
  const extra = [x['requester'], x['acks'], x['grant']]
    .map((e) => (e === undefined ? '' : String(e)))
    .join(',');
  return `${m.type} ${m.from}>${m.to} #${m.requestId} ${extra} ${'value' in m ? v(m.value) : ''}`;
}

interface InFlight {
  /** `msgKey`, and its interned number. */
  readonly k: string;
  readonly id: number;
  readonly m: CacheMessage;
}

// A state's key is made of small numbers: each part (a slot, the home entry, a message) is
// described once, its description interned, and the number cached on the (immutable) object.
const interned = new Map<string, number>();
function intern(s: string): number {
  let id = interned.get(s);
  if (id === undefined) {
    id = interned.size;
    interned.set(s, id);
  }
  return id;
}
const slotIds = new WeakMap<Slot, number>();
const homeIds = new WeakMap<DirEntry, number>();

function slotId(s: Slot): number {
  let id = slotIds.get(s);
  if (id === undefined) {
    id = intern(slotKey(s));
    slotIds.set(s, id);
  }
  return id;
}

function homeId(e: DirEntry): number {
  let id = homeIds.get(e);
  if (id === undefined) {
    id = intern(homeKey(e));
    homeIds.set(e, id);
  }
  return id;
}

function slotKey(s: Slot): string {
  const p = s.line.pending;
  const pk = p === null ? '' : `${p.op}#${p.requestId}:${v(p.value)}:${p.acks}`;
  const w = s.waiting
    .map((o) => (o.kind === 'Load' ? `L${o.requestId}` : `S${o.requestId}=${v(o.value)}`))
    .join(',');
  return `${s.line.state}/${v(s.line.value)}/${pk}/${w}`;
}

function homeKey(e: DirEntry): string {
  const b = e.busy === null ? '' : `${e.busy.requester}#${e.busy.requestId}`;
  return `${e.state}/${e.owner ?? ''}/${e.sharers.join(',')}/${v(e.memory)}/${b}/${e.queue.map(msgKey).join(';')}`;
}

function stateKey(g: Global): string {
  let k = `${homeId(g.home)}:${g.total}:${g.drops}:${intern(v(g.latest))}`;
  for (let i = 0; i < g.slots.length; i++) k += `:${slotId(g.slots[i]!)},${g.budget[i]},${g.nextId[i]}`;
  for (const x of g.msgs) k += `.${x.id}`;
  return k;
}

/** For people: the state as a few lines. */
export function describe(g: Global): string {
  return [
    ...g.slots.map((s, i) => `  ${nodeName(i)}: ${slotKey(s)} (ops left ${g.budget[i]})`),
    `  home: ${homeKey(g.home)}`,
    `  in flight: ${g.msgs.map((x) => x.k).join(' | ') || 'nothing'}`,
    `  latest: ${v(g.latest)}`,
  ].join('\n');
}

function fail(message: string): never {
  throw new ModelViolation(message);
}

/** Every state-local invariant; `fail`s with what broke. */
function checkState(g: Global): void {
  const states = g.slots.map((s) => s.line.state);
  const owners = states.filter((s) => OWNER_STATES.has(s));
  if (owners.length > 1) fail(`SWMR: more than one owner (${states.join(' ')})`);
  const writers = states.flatMap((s, i) => (WRITABLE_STATES.has(s) ? [i] : []));
  for (const w of writers) {
    states.forEach((s, i) => {
      if (i !== w && READABLE_STATES.has(s))
        fail(`SWMR: ${nodeName(w)} may write while ${nodeName(i)} reads in ${s}`);
    });
  }
  g.slots.forEach((s, i) => {
    if (READABLE_STATES.has(s.line.state) && s.line.value !== g.latest) {
      fail(
        `data value: ${nodeName(i)} in ${s.line.state} holds ${v(s.line.value)}, latest is ${v(g.latest)}`,
      );
    }
  });
  const h = g.home;
  if ((h.state === 'I' || h.state === 'S') && h.memory !== g.latest) {
    fail(`data value: home in ${h.state} has ${v(h.memory)}, latest is ${v(g.latest)}`);
  }
  if (states.includes('E') && h.memory !== g.latest) {
    fail(`data value: a clean E line but home memory ${v(h.memory)}, latest ${v(g.latest)}`);
  }
  const shape =
    h.state === 'I'
      ? h.owner === null && h.sharers.length === 0
      : h.state === 'S'
        ? h.owner === null && h.sharers.length > 0
        : h.state === 'EM'
          ? h.owner !== null && h.sharers.length === 0
          : h.state === 'O'
            ? h.owner !== null
            : h.busy !== null;
  if (!shape) fail(`directory shape: ${homeKey(h)}`);
  if (g.msgs.length === 0) checkQuiescent(g);
}

/**
 * Nothing in flight: every line is stable with nothing pending, the home is idle, and the
 * directory knows exactly who holds what (no ghost sharers or owners, no forgotten copies).
 */
function checkQuiescent(g: Global): void {
  const h = g.home;
  if (h.busy !== null || h.queue.length > 0)
    fail(`deadlock: nothing in flight, the home waits in ${homeKey(h)}`);
  g.slots.forEach((s, i) => {
    const st = s.line.state;
    const id = nodeName(i);
    if (!isStable(st) || s.line.pending !== null || s.waiting.length > 0)
      fail(`deadlock: nothing in flight, ${id} waits in ${slotKey(s)}`);
    if ((st === 'S') !== h.sharers.includes(id)) fail(`${id} is ${st} but the sharers are [${h.sharers}]`);
    if ((st === 'E' || st === 'M' || st === 'O') !== (h.owner === id))
      fail(`${id} is ${st}, owner is ${h.owner}`);
  });
  if ((h.state === 'O') !== g.slots.some((s) => s.line.state === 'O')) fail(`home ${h.state} and no O line`);
}

function checkTerminal(g: Global): void {
  if (g.msgs.length > 0) fail('deadlock: messages in flight but nothing can move');
  g.slots.forEach((s, i) => {
    if (!isStable(s.line.state) || s.line.pending !== null || s.waiting.length > 0) {
      fail(`deadlock: ${nodeName(i)} stuck in ${slotKey(s)}`);
    }
  });
  if (g.home.busy !== null || g.home.queue.length > 0) fail(`deadlock: home stuck in ${homeKey(g.home)}`);
}

/** Apply completions in order: a write sets `latest`, a read must return it. */
function applyCompletions(
  latest: Stored,
  completed: readonly Completion[],
  expectWrite: Map<number, Stored>,
): Stored {
  let l = latest;
  for (const c of completed) {
    if (c.op === 'write') {
      if (c.value !== expectWrite.get(c.requestId))
        fail(`write #${c.requestId} completed with ${v(c.value)}`);
      l = c.value;
    } else if (c.value !== l) {
      fail(`read #${c.requestId} returned ${v(c.value)}, latest is ${v(l)}`);
    }
  }
  return l;
}

function withMessages(msgs: readonly InFlight[], removeAt: number, add: readonly CacheMessage[]): InFlight[] {
  const out = msgs.filter((_, i) => i !== removeAt);
  if (add.length === 0) return out;
  for (const m of add) {
    const k = msgKey(m);
    out.push({ k, id: intern(k), m });
  }
  out.sort((a, b) => a.id - b.id);
  return out;
}

/** The value node `i` writes with request `id`: unique across the run. */
function freshValue(i: number, id: number): string {
  return `${nodeName(i)}.${id}`;
}

export function explore(config: ModelConfig, covered = new Set<string>()): ModelResult {
  const { protocol } = config;
  const n = config.nodes;
  const initial: Global = {
    slots: Array.from({ length: n }, () => EMPTY_SLOT),
    home: EMPTY_ENTRY,
    msgs: [],
    budget: Array.from({ length: n }, () => config.opsPerNode),
    total: config.totalOps,
    drops: config.homeDrops,
    nextId: Array.from({ length: n }, () => 1),
    latest: null,
  };

  const successors = (g: Global): Edge[] => {
    const out: Edge[] = [];
    const push = (label: string, state: Global): void => {
      out.push({ label, state, key: stateKey(state) });
    };
    // Local operations.
    for (let i = 0; i < n; i++) {
      if (g.budget[i]! <= 0 || g.total <= 0) continue;
      const id = g.nextId[i]!;
      const slot = g.slots[i]!;
      const ctx = { node: nodeName(i), home: HOME, key: 'k' };
      const start = (label: string, input: LocalOp): void => {
        const r = slotStep(protocol, slot, input, ctx);
        for (const rule of r.rules) covered.add(`cache:${rule}`);
        const expect = new Map<number, Stored>(input.kind === 'Store' ? [[id, input.value]] : []);
        const latest = applyCompletions(g.latest, r.completed, expect);
        push(label, {
          ...g,
          slots: g.slots.map((s, j) => (j === i ? r.slot : s)),
          msgs: withMessages(g.msgs, -1, r.send),
          budget: g.budget.map((b, j) => (j === i ? b - 1 : b)),
          total: g.total - 1,
          nextId: g.nextId.map((x, j) => (j === i ? x + 1 : x)),
          latest,
        });
      };
      start(`${nodeName(i)} read#${id}`, { kind: 'Load', requestId: id });
      start(`${nodeName(i)} write#${id}=${freshValue(i, id)}`, {
        kind: 'Store',
        requestId: id,
        value: freshValue(i, id),
      });
      // Evicting a line that is absent or in transition does nothing: its row is checked to
      // be a no-op here instead of spending the budget on a state that is already known.
      const st = slot.line.state;
      if (st !== 'I' && isStable(st) && slot.waiting.length === 0) {
        start(`${nodeName(i)} evict#${id}`, { kind: 'Evict', requestId: id });
      } else {
        const r = slotStep(protocol, slot, { kind: 'Evict', requestId: id }, ctx);
        for (const rule of r.rules) covered.add(`cache:${rule}`);
        if (r.slot !== slot && slotKey(r.slot) !== slotKey(slot)) fail(`evict in ${st} changed the line`);
        if (r.send.length > 0 || r.completed.length > 0) fail(`evict in ${st} did something`);
      }
    }
    // Deliveries, one per distinct message.
    g.msgs.forEach(({ k, m }, idx) => {
      if (idx > 0 && g.msgs[idx - 1]!.k === k) return; // the same message twice: one choice
      const label = `deliver ${k}`;
      if (isHomeMessage(m)) {
        const r = homeStep(protocol, g.home, m, { node: HOME });
        for (const rule of r.rules) covered.add(`home:${rule}`);
        push(label, { ...g, home: r.entry, msgs: withMessages(g.msgs, idx, r.send) });
        return;
      }
      const i = Number(m.to.slice(1)) - 1;
      const r = slotStep(protocol, g.slots[i]!, m, { node: m.to, home: HOME, key: 'k' });
      for (const rule of r.rules) covered.add(`cache:${rule}`);
      // Writes waiting in the slot complete with their own value.
      const expect = new Map<number, Stored>();
      const s = g.slots[i]!;
      if (s.line.pending?.op === 'write') expect.set(s.line.pending.requestId, s.line.pending.value);
      for (const w of s.waiting) if (w.kind === 'Store') expect.set(w.requestId, w.value);
      const latest = applyCompletions(g.latest, r.completed, expect);
      push(label, {
        ...g,
        slots: g.slots.map((x, j) => (j === i ? r.slot : x)),
        msgs: withMessages(g.msgs, idx, r.send),
        latest,
      });
    });
    // The home forgets an idle memory copy: a delete, linearized here.
    if (g.drops > 0 && canDropMemory(g.home) && g.home.memory !== null) {
      covered.add('home:drop');
      push('home drops memory', {
        ...g,
        home: { ...g.home, memory: null },
        drops: g.drops - 1,
        latest: null,
      });
    }
    return out;
  };

  // Depth-first, iterative; `color`: 1 = on the current path, 2 = finished.
  const color = new Map<string, 1 | 2>();
  interface Frame {
    readonly label: string;
    readonly state: Global;
    readonly key: string;
    edges: Edge[];
    next: number;
  }
  const path: Frame[] = [];
  let transitions = 0;
  let terminal = 0;
  let maxDepth = 0;
  const where = (extra: string): string =>
    `${extra}\npath (${path.length} steps):\n${path
      .slice(1)
      .map((f) => `  ${f.label}`)
      .join('\n')}`;

  const enter = (label: string, state: Global, key: string): void => {
    color.set(key, 1);
    const frame: Frame = { label, state, key, edges: [], next: 0 };
    path.push(frame);
    maxDepth = Math.max(maxDepth, path.length);
    try {
      checkState(state);
      frame.edges = successors(state);
      if (frame.edges.length === 0) {
        terminal++;
        checkTerminal(state);
      }
    } catch (err) {
      const e = err as Error;
      throw new ModelViolation(where(`${config.protocol}: ${e.message}\nstate:\n${describe(state)}`));
    }
  };

  enter('start', initial, stateKey(initial));
  while (path.length > 0) {
    const top = path[path.length - 1]!;
    const edge = top.edges[top.next++];
    if (edge === undefined) {
      color.set(top.key, 2);
      path.pop();
      continue;
    }
    transitions++;
    const c = color.get(edge.key);
    if (c === 1) throw new ModelViolation(where(`cycle: ${edge.label} leads back to a state on the path`));
    if (c === 2) continue;
    enter(edge.label, edge.state, edge.key);
  }
  return { states: color.size, transitions, terminal, maxDepth, covered };
}

/** Every row of the protocol's tables, as `explore` names them in `covered`. */
export function allRows(protocol: Protocol): string[] {
  const rows: string[] = [];
  for (const [s, events] of Object.entries(CACHE_TABLES[protocol])) {
    for (const e of Object.keys(events ?? {})) rows.push(`cache:${s}:${e}`);
  }
  for (const [s, events] of Object.entries(HOME_TABLES[protocol])) {
    for (const e of Object.keys(events ?? {})) rows.push(`home:${s}:${e}`);
  }
  return rows;
}

export type { CacheState };
