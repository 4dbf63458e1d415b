import { ArgReader } from '../commands/args.js';
import { errors, ReplyError } from '../lib/errors.js';
import { array, bulk, error, int, map, OK, PONG, type Reply, simple } from '../resp/reply.js';
import type { Dispatcher } from './dispatcher.js';
import type { Authenticator, Session } from './session.js';

export interface ServerIdentity {
  readonly nodeId: string;
  readonly version: string;
}

/** PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, TIME: what every client sends on connect. */
export function registerConnectionCommands(
  dispatcher: Dispatcher,
  authenticator: Authenticator,
  identity: ServerIdentity,
): void {
  dispatcher.register('ping', (_ctx, args) => {
    if (args.length > 2) return error(errors.wrongArity('ping').toWire());
    return args.length === 2 ? bulk(args[1] as Buffer) : PONG;
  });

  dispatcher.register('echo', (_ctx, args) => bulk(args[1] as Buffer));

  dispatcher.register('hello', (ctx, args) => hello(ctx.session, args, authenticator, identity));

  dispatcher.register('auth', (ctx, args) => {
    if (args.length > 3) return error(errors.syntax().toWire());
    const [username, password] =
      args.length === 3 ? [String(args[1]), String(args[2])] : ['default', String(args[1])];
    if (args.length === 2 && authenticator.defaultUserIsNopass()) {
      return error(
        'ERR AUTH <password> called without any password configured for the default user. ' +
          'Are you sure your configuration is correct?',
      );
    }
    const user = authenticator.authenticate(username, password);
    if (!user) return error(errors.wrongPass().toWire());
    ctx.session.user = user;
    return OK;
  });

  dispatcher.register('select', (_ctx, args) => {
    const index = new ArgReader(args).nextInt();
    if (index !== 0) return error('ERR DB index is out of range');
    return OK;
  });

  dispatcher.register('quit', (ctx) => {
    ctx.session.closeAfterReply = true;
    return OK;
  });

  dispatcher.register('reset', (ctx) => {
    const session = ctx.session;
    session.protocol = 2;
    session.name = null;
    session.user = authenticator.initialUser();
    return simple('RESET');
  });

  dispatcher.register('time', () => {
    const nowUs = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    return array([bulk(String(nowUs / 1_000_000n)), bulk(String(nowUs % 1_000_000n))]);
  });
}

function hello(
  session: Session,
  args: Buffer[],
  authenticator: Authenticator,
  identity: ServerIdentity,
): Reply {
  const reader = new ArgReader(args);
  let protocol = session.protocol;
  if (reader.hasMore()) {
    const text = reader.next();
    if (!/^\d+$/.test(text)) return error('ERR Protocol version is not an integer or out of range');
    const version = Number(text);
    if (version !== 2 && version !== 3) return error('NOPROTO unsupported protocol version');
    protocol = version;
  }
  let user = session.user;
  let name: string | null | undefined;
  while (reader.hasMore()) {
    if (reader.acceptKeyword('AUTH') && reader.remaining >= 2) {
      user = authenticator.authenticate(reader.next(), reader.next());
      if (!user) return error(errors.wrongPass().toWire());
    } else if (reader.acceptKeyword('SETNAME') && reader.remaining >= 1) {
      name = validateClientName(reader.next());
    } else {
      return error(`ERR Syntax error in HELLO option '${reader.next()}'`);
    }
  }
  if (user === null) {
    return error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the ' +
        'HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and ' +
        'select the RESP protocol version at the same time',
    );
  }
  session.user = user;
  session.protocol = protocol;
  if (name !== undefined) session.name = name;
  return map({
    server: bulk('lockstep'),
    version: bulk(identity.version),
    proto: int(protocol),
    id: int(session.id),
    // Every node serves every command (it forwards internally), so to a client lockstep is
    // one standalone server: no MOVED redirects, no CLUSTER SLOTS.
    mode: bulk('standalone'),
    role: bulk('master'),
    modules: array([]),
  });
}

/** Redis's rule: no spaces or newlines, so CLIENT LIST lines stay parseable. Empty clears. */
export function validateClientName(name: string): string | null {
  if (/[^!-~]/.test(name)) {
    throw new ReplyError('ERR', 'Client names cannot contain spaces, newlines or special characters.');
  }
  return name === '' ? null : name;
}
