import { CATEGORIES, isRuleCategory } from './categories.js';
import { AclUser, type CommandRule, sha256 } from './user.js';

/** A bad ACL file; the message is one line with the line number. */
export class AclError extends Error {
  override name = 'AclError';
}

interface Draft {
  enabled: boolean;
  nopass: boolean;
  /** Hex digests, so a password given twice is stored once. */
  hashes: Set<string>;
  rules: CommandRule[];
}

/** Redis's new user: disabled, no password, no commands. */
const fresh = (): Draft => ({ enabled: false, nopass: false, hashes: new Set(), rules: [] });

/**
 * Key and channel rules that Redis writes into every ACL file. lockstep has no per-key
 * permissions and no channels, so the rules that restrict nothing it has are accepted and a
 * narrower key pattern is refused: ignoring `~app:*` would grant more than the file says.
 */
const UNRESTRICTED_PATTERNS = new Set(['~*', 'allkeys', '&*', 'allchannels', 'resetchannels']);

/**
 * Parses ACL file text: one `user <name> <rule> ...` per line, `#` at the start of a line for
 * comments. Rules are Redis's: `on`, `off`, `nopass`, `resetpass`, `reset`, `>password`,
 * `#<sha256-hex>`, `+@category`, `-@category`, `allcommands`, `nocommands`, `+command`,
 * `-command`, `+command|sub`. `commands` holds every command name, so a typo in `-lock.relese`
 * is an error instead of a permission that silently stays granted.
 */
export function parseAclText(text: string, commands: ReadonlySet<string>): Map<string, AclUser> {
  const users = new Map<string, AclUser>();
  const definedOn = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const lineNumber = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword, name, ...rules] = line.split(/\s+/);
    if (keyword !== 'user' || name === undefined) {
      throw lineError(lineNumber, 'expected "user <name> <rules...>"');
    }
    const firstLine = definedOn.get(name);
    if (firstLine !== undefined) {
      throw lineError(lineNumber, `user ${name} is defined twice (first on line ${firstLine})`);
    }
    definedOn.set(name, lineNumber);
    const draft = fresh();
    for (const rule of rules) {
      const problem = applyRule(draft, rule, commands);
      if (problem !== null) throw lineError(lineNumber, problem, name);
    }
    const hashes = [...draft.hashes].map((hex) => Buffer.from(hex, 'hex'));
    users.set(name, new AclUser(name, draft.enabled, draft.nopass, hashes, draft.rules));
  }
  return users;
}

function lineError(lineNumber: number, problem: string, user?: string): AclError {
  return new AclError(
    `acl-file line ${lineNumber}${user === undefined ? '' : ` (user ${user})`}: ${problem}`,
  );
}

/** Applies one rule to `draft`; returns what is wrong with it, or null. */
function applyRule(draft: Draft, rule: string, commands: ReadonlySet<string>): string | null {
  const lower = rule.toLowerCase();
  if (UNRESTRICTED_PATTERNS.has(lower)) return null;
  switch (lower) {
    case 'on':
    case 'off':
      draft.enabled = lower === 'on';
      return null;
    case 'nopass':
      draft.nopass = true;
      draft.hashes.clear();
      return null;
    case 'resetpass':
      draft.nopass = false;
      draft.hashes.clear();
      return null;
    case 'reset':
      Object.assign(draft, fresh());
      return null;
    case 'allcommands':
    case 'nocommands':
      draft.rules.push({ allow: lower === 'allcommands', category: 'all' });
      return null;
  }
  const sign = rule[0];
  const body = rule.slice(1);
  if (sign === '>') {
    if (body === '') return 'empty password after ">"';
    return addHash(draft, sha256(body).toString('hex'));
  }
  if (sign === '#') {
    if (!/^[0-9a-f]{64}$/i.test(body)) return `"${rule}" is not "#" and a SHA-256 digest in 64 hex digits`;
    return addHash(draft, body.toLowerCase());
  }
  if (sign === '~' || sign === '%' || sign === '&' || lower === 'resetkeys') {
    return `"${rule}": per-key and per-channel permissions are not supported (only ~*, allkeys, &*, allchannels)`;
  }
  if (sign !== '+' && sign !== '-') return `unknown rule "${rule}"`;
  const allow = sign === '+';
  if (body.startsWith('@')) {
    const category = body.slice(1).toLowerCase();
    if (!isRuleCategory(category)) {
      return `unknown category "${body}" (categories: all, ${Object.keys(CATEGORIES).join(', ')})`;
    }
    draft.rules.push({ allow, category });
    return null;
  }
  const command = body.toLowerCase();
  if (!commands.has(command)) return `unknown command "${body}"`;
  draft.rules.push({ allow, command });
  return null;
}

function addHash(draft: Draft, hex: string): null {
  draft.hashes.add(hex);
  draft.nopass = false;
  return null;
}
