import type { CommandTable } from '../commands/table.js';
import type { CommandSpec } from '../commands/types.js';
import { sameBytes } from '../lib/bytes.js';
import { errors, ReplyError } from '../lib/errors.js';
import { error, type Reply } from '../resp/reply.js';
import type { Session } from './session.js';

/** What a handler may see besides its arguments. */
export interface CommandContext {
  readonly session: Session;
  readonly spec: CommandSpec;
}

/** `args[0]` is the command name as sent (and `args[1]` the subcommand, if any). */
export type Handler = (ctx: CommandContext, args: Buffer[]) => Reply | Promise<Reply>;

/** Case variants of command names remembered; bounded so odd spellings cannot grow memory. */
const MAX_CACHED_SPELLINGS = 1024;

interface Entry {
  readonly spec: CommandSpec;
  readonly handler: Handler | undefined;
  readonly stats: CommandStats;
}

/** A command name as sent (its bytes), resolved. */
interface Spelled {
  readonly spelling: Buffer;
  readonly entry: Entry;
}

export interface CommandStats {
  calls: number;
  failedCalls: number;
  rejectedCalls: number;
  /** Time from call to reply of commands that complete later (synchronous ones count 0). */
  totalMicros: number;
}

/**
 * Resolves a decoded command to its spec and handler, in Redis's order of checks: unknown
 * command, arity, authentication, ACL permission. A handler's `ReplyError` becomes an error
 * reply; anything else thrown is a bug, logged and answered with a generic error, never a crash.
 */
export class Dispatcher {
  readonly #handlers = new Map<string, Handler>();
  readonly #stats = new Map<string, CommandStats>();
  readonly #resolved = new Map<string, Spelled>();
  /**
   * The last command resolved, by its name's bytes as sent: a pipeline mostly repeats one
   * command, and comparing a few bytes costs a tenth of decoding them and hashing a new string.
   */
  #last: Spelled | null = null;

  constructor(
    readonly table: CommandTable,
    private readonly onInternalError: (err: unknown, command: string) => void,
  ) {}

  register(name: string, handler: Handler): void {
    if (!this.table.get(name)) throw new Error(`no spec for handler ${name}`);
    if (this.#handlers.has(name)) throw new Error(`handler ${name} is registered twice`);
    this.#handlers.set(name, handler);
    this.#resolved.clear();
    this.#last = null;
  }

  /** Specs without a handler: must be empty in a complete server (a test checks it). */
  unhandled(): string[] {
    const missing: string[] = [];
    for (const spec of this.table.all()) {
      if (!spec.subcommands?.length && !this.#handlers.has(spec.name)) missing.push(spec.name);
    }
    return missing;
  }

  stats(): ReadonlyMap<string, CommandStats> {
    return this.#stats;
  }

  execute(session: Session, args: Buffer[]): Reply | Promise<Reply> {
    const name = args[0] as Buffer;
    const last = this.#last;
    let entry: Entry | null;
    if (last !== null && sameBytes(name, last.spelling)) {
      entry = last.entry;
    } else {
      const sent = name.toString('latin1');
      const spelled = this.#resolved.get(sent) ?? this.#resolve(name, sent);
      if (spelled === null) {
        return error(errors.unknownCommand(sent.toLowerCase(), args.slice(1).map(String)).toWire());
      }
      entry = spelled.entry;
      this.#last = spelled;
    }
    if (entry.spec.subcommands?.length && args.length >= 2) {
      const parent = entry.spec.name;
      const sub = this.#entry(`${parent}|${(args[1] as Buffer).toString('latin1').toLowerCase()}`);
      if (sub === null) return error(errors.unknownSubcommand(parent, String(args[1])).toWire());
      entry = sub;
    }
    const { spec, handler, stats } = entry;
    if (!arityOk(spec.arity, args.length)) {
      stats.rejectedCalls++;
      return error(errors.wrongArity(spec.name).toWire());
    }
    const user = session.user;
    if (user === null ? !spec.flags.includes('noauth') : !user.can(spec.name, spec.categories)) {
      stats.rejectedCalls++;
      return error((user === null ? errors.noAuth() : errors.noPerm(user.name, spec.name)).toWire());
    }
    if (handler === undefined) {
      return error(`ERR command '${spec.name}' is declared but has no handler on this node`);
    }
    session.lastCommand = spec.name;
    stats.calls++;
    try {
      const result = handler({ session, spec }, args);
      if (result instanceof Promise) {
        // Only commands that wait (replication, forwarding, lock waits) are timed: reading the
        // clock twice per command is a measurable share of a pipelined PING.
        const startedAt = performance.now();
        return result.then(
          (reply) => {
            stats.totalMicros += (performance.now() - startedAt) * 1000;
            return this.#counted(stats, reply);
          },
          (err: unknown) => {
            stats.totalMicros += (performance.now() - startedAt) * 1000;
            return this.#fail(stats, err, spec.name);
          },
        );
      }
      return this.#counted(stats, result);
    } catch (err) {
      return this.#fail(stats, err, spec.name);
    }
  }

  /** Caches the lookup under the name exactly as sent, so the usual spellings skip lower-casing. */
  #resolve(name: Buffer, sent: string): Spelled | null {
    const entry = this.#entry(sent.toLowerCase());
    if (entry === null) return null;
    const spelled = { spelling: Buffer.from(name), entry };
    if (this.#resolved.size < MAX_CACHED_SPELLINGS) this.#resolved.set(sent, spelled);
    return spelled;
  }

  #entry(name: string): Entry | null {
    const spec = this.table.get(name);
    if (!spec) return null;
    return { spec, handler: this.#handlers.get(name), stats: this.#statsOf(name) };
  }

  #counted(stats: CommandStats, reply: Reply): Reply {
    if (reply.t === 'error') stats.failedCalls++;
    return reply;
  }

  #fail(stats: CommandStats, err: unknown, command: string): Reply {
    stats.failedCalls++;
    if (err instanceof ReplyError) return error(err.toWire());
    this.onInternalError(err, command);
    return error(`ERR internal error while running '${command}'; the node logged the details`);
  }

  #statsOf(name: string): CommandStats {
    let stats = this.#stats.get(name);
    if (!stats) {
      stats = { calls: 0, failedCalls: 0, rejectedCalls: 0, totalMicros: 0 };
      this.#stats.set(name, stats);
    }
    return stats;
  }
}

function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}
