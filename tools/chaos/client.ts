/**
 * The chaos workloads' Redis client: one connection, one command at a time, and an honest
 * account of what is known about each command. Real client libraries retry and resend after a
 * reconnect, which would hide operations from the history; this one never does:
 *
 * - `refused`: the command was never sent (no connection): it certainly did not happen;
 * - `reply` / `error`: the server answered;
 * - `unknown`: sent, but the connection broke or the timeout passed first: it may have happened.
 *   The connection is dropped then, so a late reply can never be taken for the next command's.
 */
import { connect, type Socket } from 'node:net';
import Parser from 'redis-parser';

export type CallResult =
  | { readonly kind: 'reply'; readonly value: unknown }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

export class ChaosClient {
  readonly #port: number;
  #socket: Socket | undefined;
  #connecting: Promise<Socket> | undefined;
  #pending: ((result: CallResult) => void) | undefined;
  #parser: Parser | undefined;
  #busy = false;

  constructor(port: number) {
    this.#port = port;
  }

  async call(args: readonly (string | number)[], timeoutMs: number): Promise<CallResult> {
    if (this.#busy) throw new Error('ChaosClient: one command at a time');
    this.#busy = true;
    try {
      return await this.#call(args, timeoutMs);
    } finally {
      this.#busy = false;
    }
  }

  async #call(args: readonly (string | number)[], timeoutMs: number): Promise<CallResult> {
    let socket: Socket;
    try {
      socket = await this.#connect(Math.min(timeoutMs, 1000));
    } catch (e) {
      return { kind: 'refused', reason: (e as Error).message };
    }
    return new Promise<CallResult>((resolve) => {
      const timer = setTimeout(() => this.#settle({ kind: 'unknown', reason: 'timeout' }), timeoutMs);
      this.#pending = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      socket.write(encode(args));
    });
  }

  close(): void {
    this.#drop('closed');
  }

  #settle(result: CallResult): void {
    const pending = this.#pending;
    this.#pending = undefined;
    if (result.kind === 'unknown') this.#drop(result.reason);
    pending?.(result);
  }

  #drop(reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#parser = undefined;
    socket?.destroy();
    if (this.#pending) this.#settle({ kind: 'unknown', reason });
  }

  #connect(timeoutMs: number): Promise<Socket> {
    if (this.#socket) return Promise.resolve(this.#socket);
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port: this.#port, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('connect timeout'));
      }, timeoutMs);
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.setNoDelay(true);
        const parser = new Parser({
          returnReply: (value: unknown) => {
            if (this.#parser === parser) this.#settle({ kind: 'reply', value });
          },
          returnError: (e: Error) => {
            if (this.#parser === parser) this.#settle({ kind: 'error', message: e.message });
          },
          returnFatalError: (e: Error) => {
            if (this.#parser === parser) this.#drop(`protocol error: ${e.message}`);
          },
        });
        this.#parser = parser;
        socket.on('data', (chunk) => parser.execute(chunk));
        socket.on('error', () => {});
        socket.on('close', () => {
          if (this.#socket === socket) this.#drop('connection closed');
        });
        this.#socket = socket;
        resolve(socket);
      });
    }).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }
}

function encode(args: readonly (string | number)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const b = Buffer.from(String(arg));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
