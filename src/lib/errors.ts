/**
 * Every error code a client can see, in one table. The code is the first word of a RESP error
 * reply (`-NOAUTH Authentication required.`) and the `code` of the JSON API's error bodies.
 * Codes that Redis also uses keep Redis's meaning, so clients' error handling carries over.
 */
export const ERROR_CODES = {
  ERR: 'generic error: bad arguments, unknown command, limits',
  WRONGPASS: 'AUTH or HELLO AUTH with an unknown user or a wrong password',
  NOAUTH: 'the connection must authenticate first',
  NOPERM: 'the user may not run this command (ACL category)',
  NOPROTO: 'HELLO asked for a protocol version this server does not speak',
  DEADLOCK: 'a lock wait would close a cycle in the wait-for graph',
  NOQUORUM: 'this node cannot reach a majority of the group; nothing was decided',
  TRYAGAIN: 'the outcome is unknown or the group is electing a leader; retry',
  BUSYGROUP: 'the named group or member already exists',
  NOTLEADER: 'internal: a forwarded request reached a node that no longer leads the group',
  LIMIT: 'a configured limit (queue length, message size, cache bytes) refused the request',
  NOTFOUND: 'the named lock, queue, message or node does not exist',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error that is the server's answer to a request: it becomes a RESP error reply. */
export class ReplyError extends Error {
  override name = 'ReplyError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The text after the `-` of a RESP error line, without CRLF. */
  toWire(): string {
    return `${this.code} ${this.message}`;
  }
}

/** A broken wire stream: the connection that sent it is closed after the reply. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export const errors = {
  unknownCommand(name: string, args: readonly string[]): ReplyError {
    const preview = args
      .slice(0, 8)
      .map((a) => `'${a.length > 128 ? a.slice(0, 128) : a}'`)
      .join(' ');
    return new ReplyError('ERR', `unknown command '${name}', with args beginning with: ${preview}`);
  },
  unknownSubcommand(command: string, sub: string): ReplyError {
    return new ReplyError('ERR', `unknown subcommand '${sub}'. Try ${command.toUpperCase()} HELP.`);
  },
  wrongArity(name: string): ReplyError {
    return new ReplyError('ERR', `wrong number of arguments for '${name}' command`);
  },
  syntax(): ReplyError {
    return new ReplyError('ERR', 'syntax error');
  },
  notInteger(): ReplyError {
    return new ReplyError('ERR', 'value is not an integer or out of range');
  },
  noAuth(): ReplyError {
    return new ReplyError('NOAUTH', 'Authentication required.');
  },
  wrongPass(): ReplyError {
    return new ReplyError('WRONGPASS', 'invalid username-password pair or user is disabled.');
  },
  noPerm(user: string, command: string): ReplyError {
    return new ReplyError('NOPERM', `User ${user} has no permissions to run the '${command}' command`);
  },
};
