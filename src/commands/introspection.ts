import { array, bulk, int, map, NULL, type Reply, set, simple } from '../resp/reply.js';
import type { ArgSpec, CommandSpec } from './types.js';

/**
 * Replies of `COMMAND INFO` and `COMMAND DOCS`, built from the table. Their shapes are the
 * ones Redis 7 sends, because clients assert on them: redis-cli aborts at start-up when
 * `COMMAND DOCS` is not a map of maps, and reads argument flags as simple strings.
 */

/** One `COMMAND INFO` entry: name, arity, flags, first/last/step key, ACL categories, tips, key specs, subcommands. */
export function commandInfo(spec: CommandSpec): Reply {
  const keys = spec.keys ?? { first: 0, last: 0, step: 0 };
  return array([
    bulk(spec.name),
    int(spec.arity),
    set(spec.flags.map(simple)),
    int(keys.first),
    int(keys.last),
    int(keys.step),
    set(spec.categories.map((c) => simple(`@${c}`))),
    array([]),
    array([]),
    array((spec.subcommands ?? []).map(commandInfo)),
  ]);
}

export function commandInfoOrNull(spec: CommandSpec | undefined): Reply {
  return spec ? commandInfo(spec) : NULL;
}

/** One `COMMAND DOCS` entry (the value; the key is the command name). */
export function commandDocs(spec: CommandSpec): Reply {
  const fields: Record<string, Reply> = {
    summary: bulk(spec.summary),
    since: bulk(spec.since),
    group: bulk(spec.group),
  };
  if (spec.complexity) fields['complexity'] = bulk(spec.complexity);
  fields['reply'] = bulk(spec.reply);
  if (spec.arguments.length > 0) fields['arguments'] = array(spec.arguments.map(argumentDocs));
  if (spec.subcommands?.length) {
    fields['subcommands'] = {
      t: 'map',
      v: spec.subcommands.map((sub) => [bulk(sub.name), commandDocs(sub)] as const),
    };
  }
  return map(fields);
}

function argumentDocs(arg: ArgSpec): Reply {
  const fields: Record<string, Reply> = { name: bulk(arg.name), type: bulk(arg.type) };
  if (arg.display) fields['display_text'] = bulk(arg.display);
  if (arg.token) fields['token'] = bulk(arg.token);
  const flags = [arg.optional && 'optional', arg.multiple && 'multiple'].filter((f): f is string => !!f);
  if (flags.length > 0) fields['flags'] = set(flags.map(simple));
  if (arg.arguments) fields['arguments'] = array(arg.arguments.map(argumentDocs));
  return map(fields);
}

/** The usage line of a command, `LOCK.ACQUIRE name [SHARED|EXCLUSIVE] ...`, as redis-cli renders hints. */
export function usage(spec: CommandSpec): string {
  const words = spec.name.toUpperCase().split('|');
  const params = spec.arguments.map(argumentUsage).join(' ');
  return params ? `${words.join(' ')} ${params}` : words.join(' ');
}

function argumentUsage(arg: ArgSpec): string {
  let repeat: string;
  if (arg.type === 'oneof') repeat = (arg.arguments ?? []).map(argumentUsage).join('|');
  else if (arg.type === 'block') repeat = (arg.arguments ?? []).map(argumentUsage).join(' ');
  else if (arg.type === 'pure-token') repeat = '';
  else repeat = arg.display ?? arg.name;
  const token = arg.token ? (repeat ? `${arg.token} ` : arg.token) : '';
  let text = token + repeat;
  if (arg.multiple) text += ` [${repeat} ...]`;
  return arg.optional ? `[${text}]` : text;
}
