import { createHash, timingSafeEqual } from 'node:crypto';
import type { RuleCategory } from './categories.js';

/** A `+@category`, `-@category`, `+command` or `-command` rule; a command is `name` or `parent|sub`. */
export type CommandRule =
  | { readonly allow: boolean; readonly category: RuleCategory }
  | { readonly allow: boolean; readonly command: string };

/** Passwords are kept and compared only as SHA-256 digests, as Redis does. */
export function sha256(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}

/** One ACL user: whether it may log in, with which passwords, and which commands it may run. */
export class AclUser {
  readonly #passwordHashes: readonly Buffer[];
  readonly #rules: readonly CommandRule[];

  constructor(
    readonly name: string,
    readonly enabled: boolean,
    /** Any password is accepted (Redis's `nopass`). */
    readonly nopass: boolean,
    passwordHashes: readonly Buffer[],
    rules: readonly CommandRule[],
  ) {
    this.#passwordHashes = passwordHashes;
    this.#rules = rules;
  }

  /**
   * Redis's semantics: rules apply left to right and the last one that matches the command
   * decides, so `+@all -@admin` is everything but admin and `-@admin +@all` is everything.
   * `+config` covers every `config|...` subcommand; `+config|get` only that one.
   * `command` is lower case, as the command table names it.
   */
  can(command: string, categories: readonly string[]): boolean {
    let allowed = false;
    for (const rule of this.#rules) {
      if (matches(rule, command, categories)) allowed = rule.allow;
    }
    return allowed;
  }

  /** Compares with every stored digest in constant time, so timing tells nothing about them. */
  acceptsPasswordHash(hash: Buffer): boolean {
    let accepted = this.nopass;
    for (const stored of this.#passwordHashes) accepted = timingSafeEqual(stored, hash) || accepted;
    return accepted;
  }
}

function matches(rule: CommandRule, command: string, categories: readonly string[]): boolean {
  if ('category' in rule) return rule.category === 'all' || categories.includes(rule.category);
  return command === rule.command || command.startsWith(`${rule.command}|`);
}
