import type { CommandTable } from '../commands/table.js';
import { sameBytes } from '../lib/bytes.js';
import { Histogram, type HistogramSnapshot } from '../lib/histogram.js';

/** Spellings of command names remembered; bounded so odd spellings cannot grow memory. */
const MAX_CACHED_SPELLINGS = 1024;

/** A command name as sent, resolved to its histogram. */
interface Spelled {
  readonly spelling: Buffer;
  readonly histogram: Histogram;
}

/** How a command name as sent resolves: its histogram, unknown (null), or by its subcommand. */
type Resolution = Spelled | null | 'by-subcommand';

/**
 * One latency histogram per command of the table (subcommands apart: `client|id`), found from
 * the argument vector as sent. Unknown commands are not timed, so the label set is the command
 * table and cannot grow with what clients send.
 */
export class CommandLatency {
  readonly #table: CommandTable;
  readonly #byName = new Map<string, Histogram>();
  readonly #bySpelling = new Map<string, Resolution>();
  /** The last name resolved to a histogram, as sent: a pipeline repeats one command, and comparing bytes costs less than decoding them. */
  #last: Spelled | null = null;

  constructor(table: CommandTable) {
    this.#table = table;
  }

  /** The histogram `args` is timed in; undefined for an unknown command. */
  histogramFor(args: readonly Buffer[]): Histogram | undefined {
    const sentBytes = args[0];
    if (sentBytes === undefined) return undefined;
    if (this.#last !== null && sameBytes(sentBytes, this.#last.spelling)) return this.#last.histogram;
    const sent = sentBytes.toString('latin1');
    let resolution = this.#bySpelling.get(sent);
    if (resolution === undefined) {
      resolution = this.#resolve(sentBytes, sent.toLowerCase());
      if (this.#bySpelling.size < MAX_CACHED_SPELLINGS) this.#bySpelling.set(sent, resolution);
    }
    if (resolution === null) return undefined;
    if (resolution === 'by-subcommand') {
      const name = sent.toLowerCase();
      const full = `${name}|${args[1]?.toString('latin1').toLowerCase() ?? ''}`;
      return this.#histogram(this.#table.get(full) === undefined ? name : full);
    }
    this.#last = resolution;
    return resolution.histogram;
  }

  /** Commands called at least once, by name, with their histograms now. */
  snapshots(): [string, HistogramSnapshot][] {
    return [...this.#byName].map(([name, h]) => [name, h.snapshot()]);
  }

  #resolve(sentBytes: Buffer, name: string): Resolution {
    const spec = this.#table.get(name);
    if (spec === undefined) return null;
    if (spec.subcommands?.length) return 'by-subcommand';
    return { spelling: Buffer.from(sentBytes), histogram: this.#histogram(name) };
  }

  #histogram(name: string): Histogram {
    let h = this.#byName.get(name);
    if (h === undefined) {
      h = new Histogram();
      this.#byName.set(name, h);
    }
    return h;
  }
}
