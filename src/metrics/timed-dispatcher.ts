import type { Reply } from '../resp/reply.js';
import { Dispatcher } from '../server/dispatcher.js';
import type { Session } from '../server/session.js';
import type { CommandLatency } from './command-latency.js';

/**
 * A Dispatcher that times every command it runs, from the call to the reply, into
 * `CommandLatency` (the source of `lockstep_command_duration_seconds` and `INFO latencystats`).
 * RESP connections and the HTTP API both call it, so both are measured the same way.
 *
 * The clock is the cost (about 65 ns a read here, half the cost of dispatching a PING), so
 * commands that run back to back in one synchronous run — a pipeline decoded from one read —
 * share reads: a command starts when the one before it in the run ended (so its own decoding
 * counts as its time, a fraction of a microsecond, far below the first 10 µs bucket). The run
 * ends at the next microtask checkpoint; an asynchronous reply ends it too. Measured on a
 * pipelined PING: src/metrics/README.md.
 */
export class TimedDispatcher extends Dispatcher {
  readonly #latency: CommandLatency;
  /** When the last synchronous command of the current run ended; -1 outside a run. */
  #runClockMs = -1;
  readonly #endRun = (): void => {
    this.#runClockMs = -1;
  };

  constructor(
    table: Dispatcher['table'],
    onInternalError: (err: unknown, command: string) => void,
    latency: CommandLatency,
  ) {
    super(table, onInternalError);
    this.#latency = latency;
  }

  override execute(session: Session, args: Buffer[]): Reply | Promise<Reply> {
    const histogram = this.#latency.histogramFor(args);
    if (histogram === undefined) return super.execute(session, args);
    let startedAt = this.#runClockMs;
    if (startedAt < 0) {
      startedAt = performance.now();
      queueMicrotask(this.#endRun);
    }
    const result = super.execute(session, args);
    if (result instanceof Promise) {
      this.#runClockMs = -1;
      // The base class turns every failure into an error reply: this promise never rejects.
      return result.then((reply) => {
        histogram.record((performance.now() - startedAt) / 1000);
        return reply;
      });
    }
    const endedAt = performance.now();
    this.#runClockMs = endedAt;
    histogram.record((endedAt - startedAt) / 1000);
    return result;
  }
}
