import type { CommandTable } from '../commands/table.js';
import type { CommandSpec } from '../commands/types.js';
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

export interface CommandStats {
  calls: number;
  failedCalls: number;
  rejectedCalls: number;
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

  constructor(
    readonly table: CommandTable,
    private readonly onInternalError: (err: unknown, command: string) => void,
  ) {}

  register(name: string, handler: Handler): void {
    if (!this.table.get(name)) throw new Error(`no spec for handler ${name}`);
    if (this.#handlers.has(name)) throw new Error(`handler ${name} is registered twice`);
    this.#handlers.set(name, handler);
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
    const name = (args[0] as Buffer).toString('latin1').toLowerCase();
    let spec = this.table.get(name);
    if (!spec) return error(errors.unknownCommand(name, args.slice(1).map(String)).toWire());
    if (spec.subcommands?.length && args.length >= 2) {
      const subName = `${name}|${(args[1] as Buffer).toString('latin1').toLowerCase()}`;
      const sub = this.table.get(subName);
      if (!sub) return error(errors.unknownSubcommand(name, String(args[1])).toWire());
      spec = sub;
    }
    const stats = this.#statsOf(spec.name);
    if (!arityOk(spec.arity, args.length)) {
      stats.rejectedCalls++;
      return error(errors.wrongArity(spec.name).toWire());
    }
    const user = session.user;
    if (user === null && !spec.flags.includes('noauth')) {
      stats.rejectedCalls++;
      return error(errors.noAuth().toWire());
    }
    if (user !== null && !user.can(spec.name, spec.categories)) {
      stats.rejectedCalls++;
      return error(errors.noPerm(user.name, spec.name).toWire());
    }
    const handler = this.#handlers.get(spec.name);
    if (!handler) return error(`ERR command '${spec.name}' is declared but has no handler on this node`);
    session.lastCommand = spec.name;
    const startedAt = performance.now();
    try {
      const result = handler({ session, spec }, args);
      if (result instanceof Promise) {
        return result.then(
          (reply) => this.#finish(stats, startedAt, reply),
          (err: unknown) => this.#fail(stats, startedAt, err, spec.name),
        );
      }
      return this.#finish(stats, startedAt, result);
    } catch (err) {
      return this.#fail(stats, startedAt, err, spec.name);
    }
  }

  #finish(stats: CommandStats, startedAt: number, reply: Reply): Reply {
    stats.calls++;
    stats.totalMicros += (performance.now() - startedAt) * 1000;
    if (reply.t === 'error') stats.failedCalls++;
    return reply;
  }

  #fail(stats: CommandStats, startedAt: number, err: unknown, command: string): Reply {
    stats.calls++;
    stats.failedCalls++;
    stats.totalMicros += (performance.now() - startedAt) * 1000;
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
