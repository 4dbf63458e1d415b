import { cacheCommands } from './specs/cache.js';
import { clusterCommands } from './specs/cluster.js';
import { connectionCommands } from './specs/connection.js';
import { lockCommands } from './specs/lock.js';
import { queueCommands } from './specs/queue.js';
import { serverCommands } from './specs/server.js';
import type { CommandSpec } from './types.js';

/**
 * The one command table. Each feature contributes its specs file; nothing else declares a
 * command. Lookups are by lower-case name; subcommands by `parent|sub`.
 */
export const COMMANDS: readonly CommandSpec[] = [
  ...connectionCommands,
  ...serverCommands,
  ...clusterCommands,
  ...lockCommands,
  ...queueCommands,
  ...cacheCommands,
];

export class CommandTable {
  readonly #byName = new Map<string, CommandSpec>();

  constructor(readonly specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      this.#add(spec);
      for (const sub of spec.subcommands ?? []) this.#add(sub);
    }
  }

  #add(spec: CommandSpec): void {
    if (this.#byName.has(spec.name)) throw new Error(`command ${spec.name} is declared twice`);
    if (spec.name !== spec.name.toLowerCase()) throw new Error(`command ${spec.name} must be lower case`);
    this.#byName.set(spec.name, spec);
  }

  /** `name` must already be lower case. */
  get(name: string): CommandSpec | undefined {
    return this.#byName.get(name);
  }

  /** Top-level commands, in declaration order. */
  get topLevel(): readonly CommandSpec[] {
    return this.specs;
  }

  /** Every spec including subcommands. */
  all(): IterableIterator<CommandSpec> {
    return this.#byName.values();
  }
}

export const commandTable = new CommandTable(COMMANDS);
