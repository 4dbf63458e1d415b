/** Hand-made chaos histories for the checker tests: ops and faults at given times, sorted. */
import type {
  HistoryEvent,
  LeaderEvent,
  NemesisAction,
  OpEvent,
  OpFunction,
  Outcome,
  PhaseEvent,
  Workload,
} from '../../../tools/chaos/history.js';

export interface OpSpec {
  readonly process: number;
  readonly f: OpFunction;
  readonly key: string;
  readonly at: number;
  /** Completion time; omitted: never returned. */
  readonly done?: number;
  readonly outcome?: Outcome;
  readonly value?: unknown;
  readonly result?: unknown;
  readonly error?: string;
  readonly node?: string;
}

const WORKLOAD: Record<OpFunction, Workload> = {
  acquire: 'lock',
  release: 'lock',
  push: 'queue',
  pop: 'queue',
  ack: 'queue',
  write: 'cache',
  read: 'cache',
};

export class History {
  readonly #events: { event: HistoryEvent; seq: number }[] = [];
  #nextId = 1;

  op(spec: OpSpec): this {
    const id = this.#nextId++;
    const base = {
      id,
      process: spec.process,
      node: spec.node ?? 'n1',
      workload: WORKLOAD[spec.f],
      f: spec.f,
      key: spec.key,
    };
    const invoke: OpEvent = {
      ...base,
      type: 'invoke',
      timeMs: spec.at,
      ...(spec.value !== undefined ? { value: spec.value } : {}),
    };
    this.#add(invoke);
    if (spec.done !== undefined) {
      this.#add({
        ...base,
        type: spec.outcome ?? 'ok',
        timeMs: spec.done,
        ...(spec.result !== undefined ? { value: spec.result } : {}),
        ...(spec.error !== undefined ? { error: spec.error } : {}),
      });
    }
    return this;
  }

  nemesis(
    action: NemesisAction,
    at: number,
    nodes: readonly string[] = [],
    extra: { components?: string[][]; skewMs?: number } = {},
  ): this {
    this.#add({ type: 'nemesis', action, nodes, detail: action, timeMs: at, ...extra });
    return this;
  }

  phase(phase: PhaseEvent['phase'], at: number): this {
    this.#add({ type: 'phase', phase, timeMs: at });
    return this;
  }

  leaders(at: number, leaders: LeaderEvent['leaders']): this {
    this.#add({ type: 'leaders', leaders, timeMs: at });
    return this;
  }

  /** The events in time order (ties in the order they were added). */
  events(): HistoryEvent[] {
    return [...this.#events]
      .sort((a, b) => a.event.timeMs - b.event.timeMs || a.seq - b.seq)
      .map((e) => e.event);
  }

  #add(event: HistoryEvent): void {
    this.#events.push({ event, seq: this.#events.length });
  }
}

/** The five nodes of a cluster, so node counts and majorities are those of the real runs. */
export const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'] as const;
