import { AclError, parseAclText } from './parse.js';
import { AclUser, sha256 } from './user.js';

export interface AclOptions {
  /** `--requirepass`: the default user's password, as in Redis. */
  readonly requirepass: string | null;
  /** Every command name of the command table (`config|get` for a subcommand), to check rules against. */
  readonly commands: Iterable<string>;
}

/**
 * The users of a node, built once at start from the ACL file's text and `requirepass`. It is
 * what `src/server` calls an `Authenticator`. The `default` user is the one a new connection
 * starts as, when it needs no password:
 *
 * - no ACL file: `default` is `on nopass +@all`, or `on >requirepass +@all`;
 * - an ACL file that declares `default`: as declared (with requirepass too, it is an error,
 *   since two places would set one password);
 * - an ACL file without `default`: `on >requirepass +@all` with requirepass, else `off`. Unlike
 *   Redis, which then opens `default` to everyone, an ACL file means every client logs in.
 */
export class AclStore {
  readonly #users: ReadonlyMap<string, AclUser>;
  readonly #default: AclUser;

  private constructor(users: ReadonlyMap<string, AclUser>, defaultUser: AclUser) {
    this.#users = users;
    this.#default = defaultUser;
  }

  /** `text` is the ACL file's content, or null when no ACL file is configured. */
  static fromText(text: string | null, options: AclOptions): AclStore {
    const users = text === null ? new Map<string, AclUser>() : parseAclText(text, new Set(options.commands));
    const declared = users.get('default');
    if (declared && options.requirepass !== null) {
      throw new AclError(
        'requirepass and the ACL file\'s "user default" line both set the default user; keep one',
      );
    }
    const defaultUser = declared ?? implicitDefaultUser(text !== null, options.requirepass);
    users.set('default', defaultUser);
    return new AclStore(users, defaultUser);
  }

  /** The user, when it exists, is on and takes this password; else null (reply -WRONGPASS). */
  authenticate(username: string, password: string): AclUser | null {
    // Hash first, so an unknown user costs the same as a wrong password.
    const hash = sha256(password);
    const user = this.#users.get(username);
    return user?.enabled && user.acceptsPasswordHash(hash) ? user : null;
  }

  /** The user of a new or RESET connection, or null when it must AUTH first. */
  initialUser(): AclUser | null {
    return this.#default.enabled && this.#default.nopass ? this.#default : null;
  }

  /** True when the default user takes any password, so a plain `AUTH <password>` is a mistake. */
  defaultUserIsNopass(): boolean {
    return this.#default.nopass;
  }
}

function implicitDefaultUser(hasAclFile: boolean, requirepass: string | null): AclUser {
  const all = [{ allow: true, category: 'all' } as const];
  if (requirepass !== null) return new AclUser('default', true, false, [sha256(requirepass)], all);
  return hasAclFile
    ? new AclUser('default', false, false, [], [])
    : new AclUser('default', true, true, [], all);
}
