import { errors } from '../lib/errors.js';
import type { Reply } from '../resp/reply.js';
import type { Dispatcher } from '../server/dispatcher.js';
import { type Authenticator, type AuthUser, Session } from '../server/session.js';
import { parseBasicAuth } from './basic-auth.js';

/**
 * HTTP sessions are numbered from here, so they never share an id with a RESP client (whose ids
 * count from 1): a lock owner derived from a session id stays unique.
 */
const HTTP_SESSION_ID_BASE = 2 ** 40;

export interface RequestFacts {
  readonly authorization: string | undefined;
  readonly remoteAddress: string;
  readonly localAddress: string;
}

/**
 * The HTTP API's way into the command layer: each request gets a `Session` of its own
 * (authenticated from its Basic credentials, RESP3 so replies keep their maps) and runs
 * ordinary argument vectors through the same `Dispatcher` as RESP clients — arity, ACL,
 * handlers, forwarding, stats and latency included. There is no second implementation of any
 * command here.
 */
export class CommandRunner {
  #nextSessionId = HTTP_SESSION_ID_BASE;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly authenticator: Authenticator,
  ) {}

  /** A session for one request, or the error line (`WRONGPASS ...`) that refuses it. */
  open(request: RequestFacts): Session | { readonly refused: string } {
    const credentials = parseBasicAuth(request.authorization);
    let user: AuthUser | null;
    if (credentials === null) {
      user = this.authenticator.initialUser();
    } else if ('malformed' in credentials) {
      return { refused: `ERR ${credentials.malformed}` };
    } else {
      user = this.authenticator.authenticate(credentials.username, credentials.password);
      if (user === null) return { refused: errors.wrongPass().toWire() };
    }
    return this.#session(request, user);
  }

  /**
   * A session whose user may run only `commands` (lower-case names), whatever the node's ACL:
   * for `/health`, which load balancers and Docker probe without credentials.
   */
  openRestricted(request: RequestFacts, name: string, commands: readonly string[]): Session {
    const allowed = new Set(commands);
    return this.#session(request, { name, can: (command) => allowed.has(command) });
  }

  run(session: Session, args: readonly (string | Buffer)[]): Promise<Reply> {
    const argv = args.map((a) => (typeof a === 'string' ? Buffer.from(a, 'utf8') : a));
    return Promise.resolve(this.dispatcher.execute(session, argv));
  }

  #session(request: RequestFacts, user: AuthUser | null): Session {
    const session = new Session(
      this.#nextSessionId++,
      request.remoteAddress,
      request.localAddress,
      Date.now(),
      user,
    );
    session.protocol = 3;
    return session;
  }
}
