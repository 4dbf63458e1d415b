import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { assert } from '../../lib/assert.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import { type Random, systemRandom } from '../../lib/random.js';
import { type BackoffPolicy, DEFAULT_RECONNECT_BACKOFF, reconnectDelayMs } from './backoff.js';
import { BusConnection, type BusLog, type LocalIdentity } from './connection.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, encodeFrame, FRAME_HEADER_BYTES, FrameType } from './frame.js';
import { fitsHello, type HandshakeRole, newIncarnation } from './handshake.js';
import { SendQueue } from './send-queue.js';

export type { BusLog, BusLogLevel } from './connection.js';

/**
 * The cluster bus: one authenticated connection per pair of nodes, carrying every Raft group,
 * forwarded command and cache message between them. Thin I/O over frame.ts and handshake.ts.
 *
 * Both nodes of a pair dial each other. When both connections get through, the one dialed by
 * the lower node id (string order) is kept; the lower node closes the other, because by the
 * time it can decide, the higher node already holds the winner open, so neither side ever
 * sees the pair go down. A connection from a new incarnation of a peer replaces the old one at
 * once: the old process is gone even if its FIN has not arrived.
 */

export interface BusPeer {
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** How sockets are made, so TLS (`tls.createServer`, `tls.connect`) can replace plain TCP. */
export interface BusSocketFactory {
  /** A server that hands each accepted socket (for TLS: each secured one) to `onConnection`. */
  createServer(onConnection: (socket: Socket) => void): Server;
  connect(peer: BusPeer): Socket;
}

export const tcpSocketFactory: BusSocketFactory = {
  createServer: (onConnection) => net.createServer({ noDelay: true }, onConnection),
  connect: (peer) => net.connect({ host: peer.host, port: peer.port, noDelay: true }),
};

export type ApplicationFrameType =
  | typeof FrameType.RAFT
  | typeof FrameType.FORWARD_REQUEST
  | typeof FrameType.FORWARD_REPLY
  | typeof FrameType.CACHE;

export interface SendOptions {
  /**
   * The frame may be discarded when the peer's queue is full, oldest droppable frames first.
   * For messages the protocol retransmits anyway (Raft). Otherwise a full queue refuses it.
   */
  readonly droppable?: boolean;
}

export interface PeerStats {
  readonly connected: boolean;
  /** Bytes waiting in the send queue plus those handed to the socket but not yet to the kernel. */
  readonly queuedBytes: number;
  readonly droppedFrames: number;
}

export const BUS_DEFAULTS = {
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  /** Two full-size frames per peer. */
  maxSendQueueBytes: 2 * (FRAME_HEADER_BYTES + DEFAULT_MAX_PAYLOAD_BYTES),
  pingIntervalMs: 1000,
  /** A connection that hears nothing (not even a PONG) for five ping intervals is dead. */
  peerTimeoutMs: 5000,
  handshakeTimeoutMs: 5000,
  /** Inbound connections still in the handshake; more are refused, to bound what strangers cost. */
  maxPendingHandshakes: 64,
} as const;

/** Limits, timers and dependencies; each has a default (BUS_DEFAULTS, plain TCP, the system clock). */
export interface BusSettings {
  readonly maxPayloadBytes: number;
  /** Per peer, counting the socket's own buffer; at least one full frame. */
  readonly maxSendQueueBytes: number;
  readonly reconnectBackoff: BackoffPolicy;
  readonly pingIntervalMs: number;
  readonly peerTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxPendingHandshakes: number;
  readonly sockets: BusSocketFactory;
  /** Jitter for redials. */
  readonly random: Random;
  readonly clock: Clock;
}

export interface BusTransportOptions extends Partial<BusSettings> {
  readonly nodeId: string;
  readonly clusterName: string;
  /** Shared by every node of the cluster. Empty means anyone who can reach the port may join. */
  readonly secret: string | Uint8Array;
  readonly listen: { readonly host: string; readonly port: number };
  readonly log: BusLog;
  /** An application frame from an authenticated peer; `payload` is only valid during the call. */
  readonly onFrame: (peerId: string, type: ApplicationFrameType, payload: Uint8Array) => void;
  readonly onPeerUp: (peerId: string) => void;
  /** The peer's last connection is gone (or it restarted); frames still queued for it are discarded. */
  readonly onPeerDown: (peerId: string) => void;
}

interface PeerState {
  readonly id: string;
  /** Undefined for a peer known only from its inbound connection: never dialed. */
  address: BusPeer | undefined;
  /** Authenticated connections, the one in use first; two only while a dial duel resolves. */
  open: BusConnection[];
  dialing: BusConnection | undefined;
  redialTimer: NodeJS.Timeout | undefined;
  failedDials: number;
  readonly queue: SendQueue;
}

const EMPTY = new Uint8Array(0);

export class BusTransport {
  readonly nodeId: string;
  readonly #options: BusTransportOptions;
  readonly #identity: LocalIdentity;
  readonly #settings: BusSettings;
  readonly #peers = new Map<string, PeerState>();
  readonly #connections = new Set<BusConnection>();
  /** Peers with frames to write at the end of this event-loop turn. */
  readonly #dirty = new Set<PeerState>();
  /** Peers cut off by `partition()` (fault injection): no connection to them stays open. */
  #blocked: ReadonlySet<string> = new Set();
  /** Dials to addresses whose node id is not known yet (`dialAddress`), until they open or fail. */
  readonly #probes = new Map<BusConnection, { resolve: (id: string) => void; reject: (e: Error) => void }>();
  #flushImmediate: NodeJS.Immediate | undefined;
  readonly #keepaliveTimer: NodeJS.Timeout;
  #server: Server | undefined;
  #closed = false;

  constructor(options: BusTransportOptions) {
    this.#settings = {
      maxPayloadBytes: options.maxPayloadBytes ?? BUS_DEFAULTS.maxPayloadBytes,
      maxSendQueueBytes: options.maxSendQueueBytes ?? BUS_DEFAULTS.maxSendQueueBytes,
      reconnectBackoff: options.reconnectBackoff ?? DEFAULT_RECONNECT_BACKOFF,
      pingIntervalMs: options.pingIntervalMs ?? BUS_DEFAULTS.pingIntervalMs,
      peerTimeoutMs: options.peerTimeoutMs ?? BUS_DEFAULTS.peerTimeoutMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? BUS_DEFAULTS.handshakeTimeoutMs,
      maxPendingHandshakes: options.maxPendingHandshakes ?? BUS_DEFAULTS.maxPendingHandshakes,
      sockets: options.sockets ?? tcpSocketFactory,
      random: options.random ?? systemRandom,
      clock: options.clock ?? systemClock,
    };
    const s = this.#settings;
    assert(fitsHello(options.nodeId), 'bus node id must be 1..255 UTF-8 bytes');
    assert(fitsHello(options.clusterName), 'bus cluster name must be 1..255 UTF-8 bytes');
    assert(
      s.maxSendQueueBytes >= FRAME_HEADER_BYTES + s.maxPayloadBytes,
      'maxSendQueueBytes must hold at least one frame of maxPayloadBytes',
    );
    assert(
      s.pingIntervalMs > 0 && s.peerTimeoutMs > s.pingIntervalMs,
      'peerTimeoutMs must exceed pingIntervalMs',
    );
    assert(s.handshakeTimeoutMs > 0 && s.maxPendingHandshakes > 0, 'bad handshake limits');

    this.nodeId = options.nodeId;
    this.#options = options;
    this.#identity = {
      nodeId: options.nodeId,
      clusterName: options.clusterName,
      incarnation: newIncarnation(),
      secret: typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : options.secret,
    };
    if (this.#identity.secret.length === 0) {
      options.log('warn', 'cluster bus secret is empty: any process that reaches the bus port can join', {});
    }
    this.#keepaliveTimer = setInterval(() => this.#keepalive(), s.pingIntervalMs);
  }

  /**
   * Starts accepting peers; resolves to the bound port (useful with port 0). Call `close()`
   * even when this rejects: the keepalive timer runs from construction.
   */
  async listen(): Promise<number> {
    assert(this.#server === undefined && !this.#closed, 'listen() called twice or after close()');
    const server = this.#settings.sockets.createServer((socket) => this.#accept(socket));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#options.listen.port, this.#options.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.#options.log('warn', 'bus listener error', { error: error.message }));
    return (server.address() as AddressInfo).port;
  }

  /**
   * The nodes to stay connected to (this node's own entry is ignored). New peers are dialed,
   * dropped ones disconnected; a changed address is used from the next dial on. Peers that
   * dial in without being listed are accepted too (the secret is the gate): a joining node
   * is heard before its membership entry reaches everyone.
   */
  setPeers(peers: readonly BusPeer[]): void {
    assert(!this.#closed, 'setPeers() after close()');
    const wanted = new Map<string, BusPeer>();
    for (const peer of peers) {
      assert(Number.isInteger(peer.port) && peer.port > 0 && peer.port < 65536, `bad port for ${peer.id}`);
      assert(peer.host !== '' && fitsHello(peer.id), `bad bus peer ${JSON.stringify(peer)}`);
      if (peer.id === this.nodeId) continue;
      assert(!wanted.has(peer.id), `peer ${peer.id} listed twice`);
      wanted.set(peer.id, peer);
    }
    for (const peer of [...this.#peers.values()]) {
      if (peer.address !== undefined && !wanted.has(peer.id)) this.#forget(peer);
    }
    for (const address of wanted.values()) {
      const peer = this.#peers.get(address.id) ?? this.#addPeer(address.id);
      peer.address = address;
      this.#dial(peer);
    }
  }

  /**
   * Queues a frame for `peerId`; it is written, with everything else queued this turn of the
   * event loop, in one batch. False when it cannot be: the peer is not connected, the payload
   * exceeds maxPayloadBytes, or the queue is full (see `SendOptions.droppable`). True does not
   * mean delivered: a connection can still fail with frames in flight.
   */
  send(peerId: string, type: ApplicationFrameType, payload: Uint8Array, options: SendOptions = {}): boolean {
    assert(isApplicationFrameType(type), `frame type ${type} is not for applications`);
    const peer = this.#peers.get(peerId);
    if (this.#closed || peer === undefined || peer.open.length === 0) return false;
    if (payload.length > this.#settings.maxPayloadBytes) return false;
    return this.#enqueue(peer, type, payload, options.droppable ?? false);
  }

  /**
   * Fault injection (DEBUG.PARTITION): drops every connection to these peers and refuses new
   * ones until called with another set (empty heals). Frames for them are refused like those
   * for a peer that is down, so everything above sees a network partition.
   */
  partition(peerIds: ReadonlySet<string>): void {
    this.#blocked = new Set(peerIds);
    for (const id of this.#blocked) {
      const peer = this.#peers.get(id);
      if (peer === undefined) continue;
      for (const connection of [...peer.open]) connection.close('partitioned (DEBUG.PARTITION)');
    }
  }

  /**
   * Dials an address whose node id is not known yet (the seed a new node joins through) and
   * resolves with the id it proves in the handshake. The connection then serves that peer like
   * any inbound one: usable for `send` until it closes, never redialed.
   */
  dialAddress(host: string, port: number, timeoutMs: number): Promise<string> {
    assert(!this.#closed, 'dialAddress() after close()');
    return new Promise((resolve, reject) => {
      const socket = this.#settings.sockets.connect({ id: `${host}:${port}`, host, port });
      const connection = this.#startConnection(socket, 'dialer', `${host}:${port}`, undefined);
      const timer = setTimeout(() => connection.close('no handshake in time'), timeoutMs);
      this.#probes.set(connection, {
        resolve: (id) => {
          clearTimeout(timer);
          resolve(id);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  peerStats(peerId: string): PeerStats | undefined {
    const peer = this.#peers.get(peerId);
    if (peer === undefined) return undefined;
    return {
      connected: peer.open.length > 0,
      queuedBytes: peer.queue.bytes + (peer.open[0]?.socketBytes ?? 0),
      droppedFrames: peer.queue.droppedFrames,
    };
  }

  /** Closes every connection and the listener. No callback fires once this is called. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepaliveTimer);
    if (this.#flushImmediate !== undefined) clearImmediate(this.#flushImmediate);
    for (const peer of this.#peers.values()) clearTimeout(peer.redialTimer);
    for (const connection of [...this.#connections]) connection.close('transport closed');
    this.#peers.clear();
    this.#dirty.clear();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #addPeer(id: string): PeerState {
    const peer: PeerState = {
      id,
      address: undefined,
      open: [],
      dialing: undefined,
      redialTimer: undefined,
      failedDials: 0,
      queue: new SendQueue(this.#settings.maxSendQueueBytes),
    };
    this.#peers.set(id, peer);
    return peer;
  }

  #forget(peer: PeerState): void {
    this.#peers.delete(peer.id);
    this.#dirty.delete(peer);
    clearTimeout(peer.redialTimer);
    const wasUp = peer.open.length > 0;
    for (const connection of [peer.dialing, ...peer.open]) connection?.close('peer removed from the bus');
    if (wasUp) this.#options.onPeerDown(peer.id);
  }

  #dial(peer: PeerState): void {
    const { address } = peer;
    if (this.#closed || address === undefined) return;
    if (peer.open.length > 0 || peer.dialing !== undefined || peer.redialTimer !== undefined) return;
    const socket = this.#settings.sockets.connect(address);
    peer.dialing = this.#startConnection(socket, 'dialer', `${address.host}:${address.port}`, peer.id);
  }

  #scheduleRedial(peer: PeerState): void {
    if (this.#closed || peer.address === undefined || peer.redialTimer !== undefined) return;
    const delayMs = reconnectDelayMs(
      peer.failedDials,
      this.#settings.reconnectBackoff,
      this.#settings.random,
    );
    peer.redialTimer = setTimeout(() => {
      peer.redialTimer = undefined;
      this.#dial(peer);
    }, delayMs);
  }

  #accept(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    let pendingHandshakes = 0;
    for (const c of this.#connections) if (c.role === 'acceptor' && !c.isOpen) pendingHandshakes++;
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (pendingHandshakes >= this.#settings.maxPendingHandshakes) {
      this.#options.log('warn', 'refusing bus connection: too many handshakes in progress', { remote });
      socket.destroy();
      return;
    }
    this.#startConnection(socket, 'acceptor', remote, undefined);
  }

  #startConnection(
    socket: Socket,
    role: HandshakeRole,
    remote: string,
    expectedPeerId: string | undefined,
  ): BusConnection {
    const connection = new BusConnection({
      socket,
      remote,
      role,
      local: this.#identity,
      expectedPeerId,
      maxPayloadBytes: this.#settings.maxPayloadBytes,
      clock: this.#settings.clock,
      log: this.#options.log,
      onOpen: (c) => this.#onOpen(c),
      onFrame: (c, type, payload) => this.#onFrame(c, type, payload),
      onDrain: (c) => this.#onDrain(c),
      onClose: (c) => this.#onClose(c),
    });
    this.#connections.add(connection);
    return connection;
  }

  #onOpen(connection: BusConnection): void {
    const hello = connection.peer!;
    if (this.#blocked.has(hello.nodeId)) {
      connection.close('partitioned (DEBUG.PARTITION)');
      return;
    }
    const probe = this.#probes.get(connection);
    if (probe !== undefined) {
      this.#probes.delete(connection);
      probe.resolve(hello.nodeId);
    }
    const peer = this.#peers.get(hello.nodeId) ?? this.#addPeer(hello.nodeId);
    if (peer.dialing === connection) {
      peer.dialing = undefined;
      peer.failedDials = 0;
    }
    const current = peer.open[0];
    if (current !== undefined && current.peer!.incarnation !== hello.incarnation) {
      const stale = peer.open;
      peer.open = [];
      peer.queue.clear();
      for (const c of stale) c.close('peer restarted');
      this.#options.log('info', 'bus peer restarted', { peer: peer.id });
      this.#options.onPeerDown(peer.id);
    }
    const wasUp = peer.open.length > 0;
    peer.open.push(connection);
    // Keep the connection dialed by the lower id first; stable, so the older wins a tie.
    const weAreLower = this.nodeId < peer.id;
    const rank = (c: BusConnection): number => ((c.role === 'dialer') === weAreLower ? 0 : 1);
    peer.open.sort((a, b) => rank(a) - rank(b));
    if (weAreLower) {
      for (const loser of peer.open.slice(1)) loser.close('duplicate connection');
    }
    if (!wasUp) {
      this.#options.log('info', 'bus peer up', { peer: peer.id, role: connection.role });
      this.#options.onPeerUp(peer.id);
    }
    this.#scheduleFlush(peer);
  }

  #onFrame(connection: BusConnection, type: FrameType, payload: Uint8Array): void {
    const peerId = connection.peer!.nodeId;
    if (type === FrameType.PONG) return;
    if (type === FrameType.PING) {
      const peer = this.#peers.get(peerId);
      if (peer !== undefined && peer.open.length > 0) this.#enqueue(peer, FrameType.PONG, payload, true);
      return;
    }
    assert(isApplicationFrameType(type), 'handshake frames never reach the transport');
    this.#options.onFrame(peerId, type, payload);
  }

  #onDrain(connection: BusConnection): void {
    const peer = this.#peers.get(connection.peer?.nodeId ?? '');
    if (peer !== undefined && peer.open[0] === connection) this.#scheduleFlush(peer);
  }

  #onClose(connection: BusConnection): void {
    this.#connections.delete(connection);
    const probe = this.#probes.get(connection);
    if (probe !== undefined) {
      this.#probes.delete(connection);
      // A peer that sent its HELLO and then hung up refused our proof: say so, not "no node".
      const heard = connection.peer?.nodeId;
      probe.reject(
        new Error(
          heard === undefined
            ? `no node answered on the bus at ${connection.remoteAddress}`
            : `node ${heard} at ${connection.remoteAddress} refused this node's proof of the cluster secret (another --cluster-secret?)`,
        ),
      );
    }
    if (this.#closed) return;
    const peer = this.#peers.get(connection.expectedPeerId ?? connection.peer?.nodeId ?? '');
    if (peer === undefined) return;
    if (peer.dialing === connection) {
      peer.dialing = undefined;
      peer.failedDials++;
      if (peer.open.length === 0) this.#scheduleRedial(peer);
      return;
    }
    const index = peer.open.indexOf(connection);
    if (index === -1) return;
    peer.open.splice(index, 1);
    if (peer.open.length > 0) {
      this.#scheduleFlush(peer);
      return;
    }
    peer.queue.clear();
    this.#dirty.delete(peer);
    this.#options.log('info', 'bus peer down', { peer: peer.id });
    this.#options.onPeerDown(peer.id);
    if (peer.address === undefined) this.#peers.delete(peer.id);
    else this.#scheduleRedial(peer);
  }

  #enqueue(peer: PeerState, type: FrameType, payload: Uint8Array, droppable: boolean): boolean {
    const connection = peer.open[0];
    assert(connection !== undefined, `frame queued for ${peer.id}, which has no connection`);
    if (!peer.queue.offer(encodeFrame(type, payload), droppable, connection.socketBytes)) return false;
    this.#scheduleFlush(peer);
    return true;
  }

  /**
   * Writes everything queued now instead of at the end of this turn of the event loop: for a
   * caller about to block (the Raft host's fsync) whose frames should travel meanwhile.
   */
  flushNow(): void {
    if (this.#flushImmediate !== undefined) clearImmediate(this.#flushImmediate);
    this.#flush();
  }

  #scheduleFlush(peer: PeerState): void {
    this.#dirty.add(peer);
    this.#flushImmediate ??= setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushImmediate = undefined;
    for (const peer of this.#dirty) {
      const connection = peer.open[0];
      // A socket over its high-water mark gets more only after 'drain' (see #onDrain).
      if (connection === undefined || connection.needsDrain || peer.queue.bytes === 0) continue;
      connection.writeFrames(peer.queue.drain());
    }
    this.#dirty.clear();
  }

  #keepalive(): void {
    const nowMs = this.#settings.clock.monotonicMs();
    for (const connection of [...this.#connections]) {
      if (!connection.isOpen && nowMs - connection.createdAtMs > this.#settings.handshakeTimeoutMs) {
        connection.close('handshake timed out');
      } else if (connection.isOpen && nowMs - connection.lastHeardMs > this.#settings.peerTimeoutMs) {
        connection.close(`peer silent for ${Math.round(nowMs - connection.lastHeardMs)} ms`);
      }
    }
    for (const peer of this.#peers.values()) {
      if (peer.open.length > 0) this.#enqueue(peer, FrameType.PING, EMPTY, true);
    }
  }
}

function isApplicationFrameType(type: number): type is ApplicationFrameType {
  return (
    type === FrameType.RAFT ||
    type === FrameType.FORWARD_REQUEST ||
    type === FrameType.FORWARD_REPLY ||
    type === FrameType.CACHE
  );
}
