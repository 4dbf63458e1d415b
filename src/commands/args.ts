import { errors } from '../lib/errors.js';

/**
 * A cursor over a command's arguments for handlers' parsers: typed reads with Redis-style
 * errors, so every command rejects bad input the same way and before touching any state.
 */
export class ArgReader {
  #index: number;

  /** `start` skips the command name (1) or the command and subcommand (2). */
  constructor(
    private readonly args: readonly Buffer[],
    start = 1,
  ) {
    this.#index = start;
  }

  get remaining(): number {
    return this.args.length - this.#index;
  }

  hasMore(): boolean {
    return this.#index < this.args.length;
  }

  /** The next argument as raw bytes. */
  nextBuffer(): Buffer {
    const arg = this.args[this.#index];
    if (arg === undefined) throw errors.syntax();
    this.#index++;
    return arg;
  }

  /** The next argument as UTF-8 text. */
  next(): string {
    return this.nextBuffer().toString();
  }

  /** The next argument upper-cased, for keyword comparison; does not consume. */
  peekKeyword(): string | undefined {
    return this.args[this.#index]?.toString('latin1').toUpperCase();
  }

  /** Consumes the next argument when it equals `keyword` (case-insensitive). */
  acceptKeyword(keyword: string): boolean {
    if (this.peekKeyword() !== keyword) return false;
    this.#index++;
    return true;
  }

  /** An integer in [min, max]; Redis's error text otherwise. */
  nextInt(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.next();
    if (!/^-?\d{1,16}$/.test(text)) throw errors.notInteger();
    const value = Number(text);
    if (value < min || value > max) throw errors.notInteger();
    return value;
  }
}
