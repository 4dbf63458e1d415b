import { createServer, type Server, type Socket } from 'node:net';
import { Connection, type ConnectionLimits } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import { type Authenticator, Session } from './session.js';

export interface RespServerOptions {
  host: string;
  port: number;
  maxClients: number;
  limits: ConnectionLimits;
}

/**
 * Accepts client connections and owns their lifecycle: ids, `maxclients`, the client registry
 * behind CLIENT LIST/KILL, and a clean shutdown that lets queued replies reach their clients.
 */
export class RespServer {
  readonly #server: Server;
  readonly #connections = new Map<number, Connection>();
  #nextClientId = 1;
  #totalConnections = 0;
  #rejectedConnections = 0;

  constructor(
    private readonly options: RespServerOptions,
    private readonly dispatcher: Dispatcher,
    readonly authenticator: Authenticator,
  ) {
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.options.port, this.options.host, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        const port = typeof address === 'object' && address ? address.port : this.options.port;
        resolve({ host: this.options.host, port });
      });
    });
  }

  get connections(): ReadonlyMap<number, Connection> {
    return this.#connections;
  }

  get totalConnections(): number {
    return this.#totalConnections;
  }

  get rejectedConnections(): number {
    return this.#rejectedConnections;
  }

  #accept(socket: Socket): void {
    if (this.#connections.size >= this.options.maxClients) {
      this.#rejectedConnections++;
      socket.on('error', () => {});
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    this.#totalConnections++;
    const id = this.#nextClientId++;
    const session = new Session(
      id,
      `${socket.remoteAddress}:${socket.remotePort}`,
      `${socket.localAddress}:${socket.localPort}`,
      Date.now(),
      this.authenticator.initialUser(),
    );
    const connection = new Connection(socket, session, this.dispatcher, this.options.limits, (c) =>
      this.#connections.delete(c.session.id),
    );
    this.#connections.set(id, connection);
  }

  /** Stops accepting, lets each client receive what is queued, then closes; bounded by `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections.values()) connection.close();
    const deadline = setTimeout(() => {
      for (const connection of this.#connections.values()) connection.socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(deadline);
  }
}
