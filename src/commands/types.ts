/**
 * The vocabulary of the command table. Mirrors Redis's command JSON so that `COMMAND INFO` and
 * `COMMAND DOCS` replies have the shape clients already parse.
 */

/** Redis command flags we use, with Redis's meaning. */
export type CommandFlag =
  | 'write' // may change replicated state
  | 'readonly' // never changes state
  | 'admin' // operator command (cluster membership, client kill)
  | 'blocking' // may wait for an event (BLOCK, WAIT)
  | 'deny-oom' // refused when a memory limit is reached
  | 'fast' // O(1) or O(log n), never blocks
  | 'noauth' // allowed before authentication
  | 'loading' // allowed while the node is recovering
  | 'stale'; // allowed when the node cannot reach its group

/** ACL categories: a user is granted categories (`+@lock`), not commands one by one. */
export type Category =
  | 'connection'
  | 'server'
  | 'admin'
  | 'lock'
  | 'queue'
  | 'cache'
  | 'cluster'
  | 'read'
  | 'write';

export type ArgType = 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'pure-token' | 'oneof' | 'block';

export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  /** A literal keyword that introduces the argument (`TTL` in `TTL ms`). */
  readonly token?: string;
  readonly optional?: boolean;
  readonly multiple?: boolean;
  /** Shown to humans instead of `name` (redis-cli hints). */
  readonly display?: string;
  /** Children of a `oneof` or `block`. */
  readonly arguments?: readonly ArgSpec[];
}

/** Which arguments are keys: Redis's legacy (first, last, step) triple, 1-based; last -1 = all. */
export interface KeySpec {
  readonly first: number;
  readonly last: number;
  readonly step: number;
}

export type CommandGroup = 'connection' | 'server' | 'lock' | 'queue' | 'cache' | 'cluster';

export interface CommandSpec {
  /** Lower case; a subcommand's name is `parent|sub` as in Redis (`client|setname`). */
  readonly name: string;
  /** Counts the command name itself. Positive: exactly that many; negative: at least |arity|. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly categories: readonly Category[];
  readonly keys?: KeySpec;
  readonly group: CommandGroup;
  readonly since: string;
  readonly summary: string;
  readonly complexity?: string;
  readonly arguments: readonly ArgSpec[];
  /** What a successful call replies, in words (RESP2 / RESP3 where they differ). */
  readonly reply: string;
  readonly subcommands?: readonly CommandSpec[];
}
