/**
 * A minimal HTTP/1.1 client over `net` for the etcd side of the lock benchmark: one keep-alive
 * connection, one request at a time (no pipelining), a client-side timeout per request. The
 * counterpart of bench/lib/resp-client.ts on the lockstep side.
 *
 * Why not `fetch` or `http.Agent`: on this machine, 50 connections POSTing puts to the etcd
 * JSON gateway in a loop for 5 s gave about 1.3k requests/s with Node 20's `fetch`, 2.5k with
 * `http.request` on a keep-alive `http.Agent` and 4.2k with this client; the comparison should
 * measure etcd, not the client. It reads only what etcd's gateway sends: a status line, headers
 * with `Content-Length`, a body. A chunked response (which the gateway does not use for these
 * small answers) is refused loudly rather than misparsed.
 */
import type net from 'node:net';
import { connectLoopback } from './loopback.js';

export class HttpTimeoutError extends Error {}
export class HttpConnectionError extends Error {}

export interface HttpResponse {
  status: number;
  body: string;
}

interface Pending {
  resolve(response: HttpResponse): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class HttpConnection {
  readonly #socket: net.Socket;
  #pending: Pending | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #closedReason: Error | undefined;

  private constructor(
    socket: net.Socket,
    readonly port: number,
  ) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#fail(new HttpConnectionError(`port ${port}: ${error.message}`)));
    socket.on('close', () => this.#fail(new HttpConnectionError(`port ${port}: connection closed`)));
  }

  /** Connects to 127.0.0.1:`port`; rejects after `timeoutMs`. */
  static async connect(port: number, timeoutMs = 1_000): Promise<HttpConnection> {
    const socket = await connectLoopback(port, timeoutMs, {
      timeout: (m) => new HttpTimeoutError(m),
      connection: (m) => new HttpConnectionError(m),
    });
    return new HttpConnection(socket, port);
  }

  /** The request bytes of a JSON POST, to build once and send many times. */
  static postRequest(port: number, pathname: string, json: string): Buffer {
    const body = Buffer.from(json);
    const head =
      `POST ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  }

  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  /**
   * Sends a whole request (from `postRequest`) and resolves with the response, whatever its
   * status. Rejects on timeout (closing the connection) or when the connection fails.
   */
  send(request: Buffer, timeoutMs: number): Promise<HttpResponse> {
    if (this.#closedReason !== undefined) return Promise.reject(this.#closedReason);
    if (this.#pending !== undefined) return Promise.reject(new Error('one request at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new HttpTimeoutError(`port ${this.port}: no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending = { resolve, reject, timer };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#fail(new HttpConnectionError(`port ${this.port}: closed by the client`));
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const headerEnd = this.#buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.#buffer.toString('latin1', 0, headerEnd);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
    if (!Number.isInteger(status) || length === undefined) {
      this.#fail(new Error(`port ${this.port}: unsupported response (no status or Content-Length): ${head}`));
      return;
    }
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(length);
    if (this.#buffer.length < bodyEnd) return;
    const body = this.#buffer.toString('utf8', bodyStart, bodyEnd);
    this.#buffer = this.#buffer.subarray(bodyEnd);
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending === undefined) {
      this.#fail(new Error(`port ${this.port}: a response nobody asked for`));
      return;
    }
    clearTimeout(pending.timer);
    pending.resolve({ status, body });
  }

  #fail(reason: Error): void {
    if (this.#closedReason === undefined) this.#closedReason = reason;
    this.#socket.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    if (pending !== undefined) {
      clearTimeout(pending.timer);
      pending.reject(reason);
    }
  }
}
