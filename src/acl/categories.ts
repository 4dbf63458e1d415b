import type { Category } from '../commands/types.js';

/**
 * The categories an ACL rule may name (`+@lock`), each with what it covers, for error messages
 * and `ACL CAT`. Typed as a record over the command table's `Category`, so a category added
 * there fails to compile until it is described here, and a rule can never name a category no
 * command carries. `all` is not in the table: it matches every command.
 */
export const CATEGORIES: Readonly<Record<Category, string>> = {
  connection: 'the connection itself and discovery: PING, HELLO, AUTH, CLIENT, COMMAND',
  server: 'the server as a whole: INFO, CONFIG, TIME',
  admin: 'operator commands that see or affect other clients or the cluster: CLIENT LIST|KILL, CONFIG GET',
  lock: 'LOCK.* commands',
  queue: 'Q.* commands',
  cache: 'CACHE.* commands',
  cluster: 'CLUSTER.* and RAFT.* commands',
  read: 'commands that only read data',
  write: 'commands that change data',
};

export type RuleCategory = Category | 'all';

export function isRuleCategory(name: string): name is RuleCategory {
  return name === 'all' || Object.hasOwn(CATEGORIES, name);
}
