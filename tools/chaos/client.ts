/**
 * The chaos workloads' Redis client: the benchmarks' RespConnection (one connection, requests in
 * order, nothing retried or queued behind a broken connection), reconnected between commands,
 * with an honest account of what is known about each command:
 *
 * - `refused`: the command was never sent (no connection): it certainly did not happen;
 * - `reply` / `error`: the server answered;
 * - `unknown`: sent, but the connection broke or the timeout passed first: it may have happened.
 *   RespConnection closes the connection then, so a late reply can never be taken for the next
 *   command's.
 */
import {
  type Reply,
  RespConnection,
  RespConnectionError,
  RespError,
  RespTimeoutError,
} from '../../bench/lib/resp-client.js';

export type CallResult =
  | { readonly kind: 'reply'; readonly value: Reply }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'refused'; readonly reason: string };

export class ChaosClient {
  readonly #port: number;
  #connection: RespConnection | undefined;
  #busy = false;

  constructor(port: number) {
    this.#port = port;
  }

  async call(args: readonly (string | number)[], timeoutMs: number): Promise<CallResult> {
    if (this.#busy) throw new Error('ChaosClient: one command at a time');
    this.#busy = true;
    try {
      if (this.#connection === undefined || this.#connection.closed) {
        try {
          this.#connection = await RespConnection.connect(this.#port, Math.min(timeoutMs, 1000));
        } catch (e) {
          this.#connection = undefined;
          return { kind: 'refused', reason: (e as Error).message };
        }
      }
      try {
        const value = await this.#connection.command(args.map(String), timeoutMs);
        return value instanceof RespError
          ? { kind: 'error', message: value.message }
          : { kind: 'reply', value };
      } catch (e) {
        if (e instanceof RespTimeoutError) return { kind: 'unknown', reason: 'timeout' };
        if (e instanceof RespConnectionError) return { kind: 'unknown', reason: 'connection closed' };
        throw e;
      }
    } finally {
      this.#busy = false;
    }
  }

  close(): void {
    this.#connection?.close();
    this.#connection = undefined;
  }
}
