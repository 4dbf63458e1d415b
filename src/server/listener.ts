import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { Connection, type ConnectionLimits } from './connection.js';
import type { Dispatcher } from './dispatcher.js';
import { type Authenticator, Session } from './session.js';

export interface RespServerOptions {
  host: string;
  port: number;
  /** RESP over TLS on a second port (`--tls-port`): the same clients, limits and `maxclients`. */
  tls?: { port: number; options: TlsOptions } | undefined;
  maxClients: number;
  limits: ConnectionLimits;
}

export interface RespAddress {
  host: string;
  port: number;
  /** The TLS port listened on; null without `--tls-port`. */
  tlsPort: number | null;
}

/**
 * Accepts client connections and owns their lifecycle: ids, `maxclients`, the client registry
 * behind CLIENT LIST/KILL, and a clean shutdown that lets queued replies reach their clients.
 * A TLS port is just another way in: its sockets, once the handshake is done, go through the
 * same `#accept`, so both ports share one registry, one `maxclients`, AUTH and the limits.
 */
export class RespServer {
  readonly #server: Server;
  readonly #tlsServer: Server | undefined;
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
    // A failed handshake (a plaintext client, an unknown certificate) never becomes a client;
    // without a 'tlsClientError' listener Node just destroys its socket, which is all we want.
    this.#tlsServer =
      options.tls &&
      createTlsServer({ ...options.tls.options, noDelay: true }, (socket) => this.#accept(socket));
  }

  async listen(): Promise<RespAddress> {
    const port = await listenOn(this.#server, this.options.port, this.options.host);
    const tlsPort =
      this.#tlsServer && this.options.tls
        ? await listenOn(this.#tlsServer, this.options.tls.port, this.options.host).catch((e: unknown) => {
            this.#server.close();
            throw e;
          })
        : null;
    return { host: this.options.host, port, tlsPort };
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
    const servers = this.#tlsServer ? [this.#server, this.#tlsServer] : [this.#server];
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const connection of this.#connections.values()) connection.close();
    const deadline = setTimeout(() => {
      for (const connection of this.#connections.values()) connection.socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(deadline);
  }
}

/** Listens and resolves to the port bound (the one asked for, or the one picked for port 0). */
function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
