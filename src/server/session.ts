import type { Protocol } from '../resp/encoder.js';

/** What a user may do, as the dispatcher sees it (implemented by src/acl). */
export interface AuthUser {
  readonly name: string;
  can(command: string, categories: readonly string[]): boolean;
}

/** Password checks and the user a fresh connection starts as. */
export interface Authenticator {
  authenticate(username: string, password: string): AuthUser | null;
  /** The user of a new or RESET connection, or null when it must AUTH first. */
  initialUser(): AuthUser | null;
  /** True when the default user has no password (`AUTH <password>` then is a mistake). */
  defaultUserIsNopass(): boolean;
}

/** Everything the server knows about one client connection. */
export class Session {
  name: string | null = null;
  protocol: Protocol = 2;
  user: AuthUser | null;
  libName = '';
  libVersion = '';
  lastCommand = 'NULL';
  lastActiveAtMs: number;
  /** Set by QUIT (and protocol errors): close once the replies before it are written. */
  closeAfterReply = false;
  readonly #closeHooks = new Set<() => void>();
  #closed = false;

  constructor(
    readonly id: number,
    readonly remoteAddress: string,
    readonly localAddress: string,
    readonly createdAtMs: number,
    initialUser: AuthUser | null,
  ) {
    this.user = initialUser;
    this.lastActiveAtMs = createdAtMs;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs `hook` when the connection closes (a blocked lock waiter leaves its queue, say).
   * Returns the function that unregisters it.
   */
  onClose(hook: () => void): () => void {
    if (this.#closed) {
      hook();
      return () => {};
    }
    this.#closeHooks.add(hook);
    return () => this.#closeHooks.delete(hook);
  }

  /** Called once by the connection. */
  markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const hook of this.#closeHooks) hook();
    this.#closeHooks.clear();
  }
}
