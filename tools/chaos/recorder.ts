/**
 * Records the run: each operation's invocation and completion and each fault, stamped with the
 * time since the run started (monotonic), into the history file and into memory for the checks.
 */
import type { CallResult } from './client.js';
import {
  type HistoryEvent,
  HistoryWriter,
  type OpEvent,
  type OpFunction,
  type Outcome,
  type Workload,
} from './history.js';

/** What an operation turned out to be, with the value its completion records. */
export interface Completion {
  readonly type: Outcome;
  readonly value?: unknown;
  readonly error?: string;
}

export class Recorder {
  readonly events: HistoryEvent[] = [];
  readonly #writer: HistoryWriter;
  readonly #startMs = performance.now();
  #nextId = 1;

  constructor(path: string) {
    this.#writer = new HistoryWriter(path);
  }

  nowMs(): number {
    return Math.round((performance.now() - this.#startMs) * 1000) / 1000;
  }

  /** Records the invocation, runs the operation, records its completion and returns it. */
  async op(
    base: { process: number; node: string; workload: Workload; f: OpFunction; key: string; value?: unknown },
    run: () => Promise<Completion>,
  ): Promise<Completion> {
    const id = this.#nextId++;
    this.add({ ...base, type: 'invoke', id, timeMs: this.nowMs() });
    const done = await run();
    const completion: OpEvent = {
      process: base.process,
      node: base.node,
      workload: base.workload,
      f: base.f,
      key: base.key,
      type: done.type,
      id,
      timeMs: this.nowMs(),
      ...(done.value !== undefined ? { value: done.value } : {}),
      ...(done.error !== undefined ? { error: done.error } : {}),
    };
    this.add(completion);
    return done;
  }

  add(event: HistoryEvent): void {
    this.events.push(event);
    this.#writer.write(event);
  }

  flush(): void {
    this.#writer.flush();
  }
}

/**
 * Error codes that say the request certainly changed nothing: it was refused before anything
 * was proposed (bad arguments, permissions, a limit), or its group never had a leader to take it
 * (`-NOQUORUM`, documented as "nothing was decided"). Every other error (`-TRYAGAIN` above all)
 * leaves the outcome unknown.
 */
const DEFINITE_ERRORS = new Set([
  'ERR',
  'WRONGPASS',
  'NOAUTH',
  'NOPERM',
  'NOPROTO',
  'DEADLOCK',
  'NOQUORUM',
  'BUSYGROUP',
  'LIMIT',
  'NOTFOUND',
]);

/** Turns what the client saw into a completion; `ok` decides how a reply is recorded. */
export function complete(result: CallResult, ok: (value: unknown) => Completion): Completion {
  switch (result.kind) {
    case 'reply':
      return ok(result.value);
    case 'error': {
      const code = result.message.split(' ', 1)[0] ?? '';
      return { type: DEFINITE_ERRORS.has(code) ? 'fail' : 'info', error: result.message };
    }
    case 'refused':
      return { type: 'fail', error: `not sent: ${result.reason}` };
    case 'unknown':
      return { type: 'info', error: result.reason };
  }
}
