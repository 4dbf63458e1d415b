/**
 * A minimal RESP client over `net` for the cluster benchmarks: one connection, requests in
 * order, one reply each, a client-side timeout per request. Used instead of ioredis so that a
 * failover trial measures the server and not a client's reconnect and retry policy: nothing
 * here retries, reconnects or queues behind a broken connection.
 *
 * It speaks RESP2 (it never sends HELLO) but decodes the RESP3 types too, in case a server
 * answers with them.
 */
import type net from 'node:net';
import { connectLoopback } from './loopback.js';

/** An error reply (`-TRYAGAIN no leader`): a value, not a thrown error. */
export class RespError {
  constructor(readonly message: string) {}
  /** The first word: `TRYAGAIN`, `NOQUORUM`, `ERR`. */
  get code(): string {
    return this.message.split(' ', 1)[0] ?? '';
  }
}

export type Reply = string | number | bigint | boolean | null | RespError | Reply[] | Map<Reply, Reply>;

/** The request did not get its reply in time; the connection is then unusable and closed. */
export class RespTimeoutError extends Error {}
/** The connection failed or closed before the reply came. */
export class RespConnectionError extends Error {}

const CRLF = '\r\n';

export function encodeCommand(args: readonly string[]): Buffer {
  let head = `*${args.length}${CRLF}`;
  for (const arg of args) head += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`;
  return Buffer.from(head);
}

/** Thrown by the parser when the buffer holds only part of a reply. */
const INCOMPLETE = Symbol('incomplete');

/** Parses one reply at `offset`; returns it and the offset after it, or throws INCOMPLETE. */
function parseReply(buf: Buffer, offset: number): [Reply, number] {
  if (offset >= buf.length) throw INCOMPLETE;
  const lineEnd = buf.indexOf(CRLF, offset);
  if (lineEnd < 0) throw INCOMPLETE;
  const type = String.fromCharCode(buf[offset]!);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RespError(line), next];
    case ':':
      return [Number(line), next];
    case '(':
      return [BigInt(line), next];
    case ',':
      return [Number(line), next];
    case '#':
      return [line === 't', next];
    case '_':
      return [null, next];
    case '$':
    case '=':
    case '!': {
      const length = Number(line);
      if (length < 0) return [null, next];
      if (buf.length < next + length + 2) throw INCOMPLETE;
      const text = buf.toString('utf8', next, next + length);
      if (type === '!') return [new RespError(text), next + length + 2];
      // A verbatim string starts with a 3-letter format and a colon: `txt:...`.
      return [type === '=' ? text.slice(4) : text, next + length + 2];
    }
    case '*':
    case '~':
    case '>': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const [item, after] = parseReply(buf, at);
        items.push(item);
        at = after;
      }
      return [items, at];
    }
    case '%': {
      const count = Number(line);
      const map = new Map<Reply, Reply>();
      let at = next;
      for (let i = 0; i < count; i++) {
        const [key, afterKey] = parseReply(buf, at);
        const [value, afterValue] = parseReply(buf, afterKey);
        map.set(key, value);
        at = afterValue;
      }
      return [map, at];
    }
    default:
      throw new Error(
        `unexpected RESP type byte '${type}' in: ${buf.toString('latin1', offset, offset + 60)}`,
      );
  }
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RespConnection {
  readonly #socket: net.Socket;
  readonly #pending: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #closedReason: Error | undefined;

  private constructor(
    socket: net.Socket,
    readonly port: number,
  ) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(new RespConnectionError(`port ${port}: ${error.message}`)));
    socket.on('close', () => this.#fail(new RespConnectionError(`port ${port}: connection closed`)));
  }

  /** Connects to 127.0.0.1:`port`; rejects after `timeoutMs`. */
  static async connect(port: number, timeoutMs = 1_000): Promise<RespConnection> {
    const socket = await connectLoopback(port, timeoutMs, {
      timeout: (m) => new RespTimeoutError(m),
      connection: (m) => new RespConnectionError(m),
    });
    return new RespConnection(socket, port);
  }

  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  /**
   * Sends one command and resolves with its reply (an error reply resolves to a RespError).
   * Rejects on timeout (and closes the connection: a late reply would pair with the wrong
   * request) or when the connection fails.
   */
  command(args: readonly string[], timeoutMs: number): Promise<Reply> {
    if (this.#closedReason !== undefined) return Promise.reject(this.#closedReason);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new RespTimeoutError(`${args[0]} on port ${this.port}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.push({ resolve, reject, timer });
      this.#socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.#fail(new RespConnectionError(`port ${this.port}: closed by the client`));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    while (offset < this.#buffer.length) {
      let reply: Reply;
      try {
        [reply, offset] = parseReply(this.#buffer, offset);
      } catch (error) {
        if (error === INCOMPLETE) break;
        this.#fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const pending = this.#pending.shift();
      if (pending === undefined) continue; // a push message, or a reply nobody waits for
      clearTimeout(pending.timer);
      pending.resolve(reply);
    }
    this.#buffer = this.#buffer.subarray(offset);
  }

  #fail(reason: Error): void {
    if (this.#closedReason === undefined) this.#closedReason = reason;
    this.#socket.destroy();
    for (const pending of this.#pending.splice(0)) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
  }
}

/** One command over a fresh connection, closed afterwards. */
export async function commandOnce(port: number, args: readonly string[], timeoutMs = 1_000): Promise<Reply> {
  const connection = await RespConnection.connect(port, timeoutMs);
  try {
    return await connection.command(args, timeoutMs);
  } finally {
    connection.close();
  }
}

/** Parses an INFO-style bulk string (`field:value` lines, `#` comments) into a map. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** Describes a reply for an error message. */
export function describeReply(reply: Reply): string {
  if (reply instanceof RespError) return `-${reply.message}`;
  if (typeof reply === 'string')
    return JSON.stringify(reply.length > 200 ? `${reply.slice(0, 200)}…` : reply);
  return String(reply);
}
