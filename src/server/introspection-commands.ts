import { commandDocs, commandInfo, commandInfoOrNull } from '../commands/introspection.js';
import type { CommandTable } from '../commands/table.js';
import { errors } from '../lib/errors.js';
import { globMatch } from '../lib/glob.js';
import { array, bulk, error, int, type Reply, simple, verbatim } from '../resp/reply.js';
import type { Dispatcher } from './dispatcher.js';
import type { InfoRegistry } from './info.js';

/** Settings as `CONFIG GET` shows them: flat name → text, secrets already left out. */
export type ConfigView = () => ReadonlyMap<string, string>;

/** COMMAND [COUNT|INFO|DOCS|LIST|HELP], INFO [section ...], CONFIG GET|HELP. */
export function registerIntrospectionCommands(
  dispatcher: Dispatcher,
  table: CommandTable,
  info: InfoRegistry,
  configView: ConfigView,
): void {
  dispatcher.register('command', () => array(table.topLevel.map(commandInfo)));
  dispatcher.register('command|count', () => int(table.topLevel.length));
  dispatcher.register('command|info', (_ctx, args) => {
    const names = args.slice(2).map((a) => String(a).toLowerCase());
    if (names.length === 0) return array(table.topLevel.map(commandInfo));
    return array(names.map((name) => commandInfoOrNull(table.get(name))));
  });
  dispatcher.register('command|docs', (_ctx, args) => {
    const names = args.slice(2).map((a) => String(a).toLowerCase());
    const specs = names.length === 0 ? table.topLevel : names.flatMap((n) => table.get(n) ?? []);
    return { t: 'map', v: specs.map((spec) => [bulk(spec.name), commandDocs(spec)] as const) };
  });
  dispatcher.register('command|list', (_ctx, args) => commandList(table, args));
  dispatcher.register('command|help', () =>
    helpReply('COMMAND', [
      '(no subcommand) -- Return details about all commands.',
      'COUNT -- Return the total number of commands.',
      'INFO [<command-name> ...] -- Return details about the given commands (all without names).',
      'DOCS [<command-name> ...] -- Return documentation of the given commands (all without names).',
      'LIST [FILTERBY (ACLCAT <category> | PATTERN <pattern>)] -- Return the command names.',
    ]),
  );

  dispatcher.register('info', (_ctx, args) => verbatim(info.render(args.slice(1).map(String))));

  dispatcher.register('config|get', (_ctx, args) => {
    const patterns = args.slice(2).map(String);
    const pairs: (readonly [Reply, Reply])[] = [];
    for (const [name, value] of configView()) {
      if (patterns.some((p) => globMatch(p, name, true))) pairs.push([bulk(name), bulk(value)]);
    }
    return { t: 'map', v: pairs };
  });
  dispatcher.register('config|help', () =>
    helpReply('CONFIG', [
      'GET <pattern> [<pattern> ...] -- Return the settings matching the glob patterns.',
      'Settings change by restarting the node with new flags, env or .env (see docs/operations.md).',
    ]),
  );
}

function commandList(table: CommandTable, args: Buffer[]): Reply {
  const names = table.topLevel.map((spec) => spec.name);
  if (args.length === 2) return array(names.map(bulk));
  if (args.length !== 5 || String(args[2]).toUpperCase() !== 'FILTERBY')
    return error(errors.syntax().toWire());
  const filter = String(args[3]).toUpperCase();
  const value = String(args[4]);
  if (filter === 'PATTERN') return array(names.filter((n) => globMatch(value, n, true)).map(bulk));
  if (filter === 'ACLCAT') {
    const category = value.toLowerCase().replace(/^@/, '');
    return array(
      table.topLevel.filter((s) => s.categories.some((c) => c === category)).map((s) => bulk(s.name)),
    );
  }
  if (filter === 'MODULE') return array([]);
  return error(errors.syntax().toWire());
}

function helpReply(command: string, lines: readonly string[]): Reply {
  return array([`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines].map(simple));
}
