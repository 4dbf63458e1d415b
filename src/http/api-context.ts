import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Reply } from '../resp/reply.js';
import type { Session } from '../server/session.js';
import type { CommandRunner, RequestFacts } from './command-runner.js';
import { errorResponse } from './json-reply.js';

/** A command answered with an error reply: the route's answer is that error (status by its code). */
export class CommandRefused extends Error {
  override name = 'CommandRefused';
  constructor(readonly line: string) {
    super(line);
  }
}

/**
 * What a route handler does with a session: run commands through `run` and return the JSON
 * body (any JSON-serialisable object). An error reply from `run` ends the request with that error.
 */
export type SessionHandler = (run: (args: readonly (string | Buffer)[]) => Promise<Reply>) => Promise<object>;

export function requestFacts(request: FastifyRequest): RequestFacts {
  const socket = request.raw.socket;
  return {
    authorization: request.headers.authorization,
    remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`,
    localAddress: `${socket.localAddress}:${socket.localPort}`,
  };
}

/**
 * Runs `handler` in a session of its own for this request and sends its answer. The session
 * closes with the response, also when the client goes away first: a lock wait or a blocking
 * pop behind it is then cancelled, as for a RESP client that disconnects.
 */
export async function withSession(
  runner: CommandRunner,
  request: FastifyRequest,
  response: FastifyReply,
  handler: SessionHandler,
  session: Session | { readonly refused: string } = runner.open(requestFacts(request)),
): Promise<void> {
  if ('refused' in session) return sendError(response, session.refused);
  response.raw.once('close', () => session.markClosed());
  try {
    const body = await handler(async (args) => {
      const reply = await runner.run(session, args);
      if (reply.t === 'error') throw new CommandRefused(reply.v);
      return reply;
    });
    await response.send(body);
  } catch (err) {
    if (!(err instanceof CommandRefused)) throw err;
    await sendError(response, err.line);
  }
}

export async function sendError(response: FastifyReply, line: string): Promise<void> {
  const { status, body } = errorResponse(line);
  if (status === 401) response.header('www-authenticate', 'Basic realm="lockstep", charset="UTF-8"');
  await response.code(status).send(body);
}

/** A reply of a shape the route does not expect: a bug, answered 500 and logged by the server. */
export function unexpectedReply(command: string, reply: Reply): Error {
  return new Error(`unexpected ${reply.t} reply to ${command}`);
}
