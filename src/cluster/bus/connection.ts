import type { Socket } from 'node:net';
import { assert } from '../../lib/assert.js';
import type { Clock } from '../../lib/clock.js';
import { encodeFrame, FrameDecoder, FrameType, frameTypeName } from './frame.js';
import {
  authProof,
  BUS_PROTOCOL_VERSION,
  decodeHello,
  encodeHello,
  HANDSHAKE_MAX_PAYLOAD_BYTES,
  type HandshakeRole,
  type Hello,
  newNonce,
  proofMatches,
} from './handshake.js';

/** Who this node is, as the handshake presents it. */
export interface LocalIdentity {
  readonly nodeId: string;
  readonly clusterName: string;
  readonly incarnation: string;
  readonly secret: Uint8Array;
}

export type BusLogLevel = 'debug' | 'info' | 'warn';
export type BusLog = (level: BusLogLevel, message: string, fields: Readonly<Record<string, unknown>>) => void;

export interface ConnectionOptions {
  readonly socket: Socket;
  /** `host:port` of the other end, for logs. */
  readonly remote: string;
  readonly role: HandshakeRole;
  readonly local: LocalIdentity;
  /** For a dial: the node the address is supposed to belong to. */
  readonly expectedPeerId?: string;
  readonly maxPayloadBytes: number;
  readonly clock: Clock;
  readonly log: BusLog;
  onOpen(connection: BusConnection): void;
  onFrame(connection: BusConnection, type: FrameType, payload: Uint8Array): void;
  onDrain(connection: BusConnection): void;
  onClose(connection: BusConnection): void;
}

type Stage = 'await-hello' | 'await-auth' | 'open' | 'closed';

/**
 * One socket to one peer: runs the handshake, then passes the peer's frames up. Until the
 * peer has proven the secret, the only frames read are HELLO then AUTH, each at most
 * HANDSHAKE_MAX_PAYLOAD_BYTES; anything else drops the connection, so no application frame
 * from an unauthenticated peer ever reaches `onFrame`.
 */
export class BusConnection {
  readonly role: HandshakeRole;
  /** For a dial: the node this connection was opened to reach. */
  readonly expectedPeerId: string | undefined;
  readonly createdAtMs: number;
  /** `host:port` of the other end, for logs and errors. */
  readonly remoteAddress: string;
  #lastHeardMs: number;
  #peer: Hello | undefined;
  readonly #socket: Socket;
  readonly #options: ConnectionOptions;
  readonly #decoder: FrameDecoder;
  readonly #localHello: Buffer;
  #peerHello: Buffer | undefined;
  #stage: Stage = 'await-hello';

  constructor(options: ConnectionOptions) {
    this.#options = options;
    this.#socket = options.socket;
    this.role = options.role;
    this.expectedPeerId = options.expectedPeerId;
    this.remoteAddress = options.remote;
    this.createdAtMs = options.clock.monotonicMs();
    this.#lastHeardMs = this.createdAtMs;
    this.#localHello = encodeHello({
      version: BUS_PROTOCOL_VERSION,
      nonce: newNonce(),
      incarnation: options.local.incarnation,
      clusterName: options.local.clusterName,
      nodeId: options.local.nodeId,
    });
    this.#decoder = new FrameDecoder({
      maxPayloadBytes: HANDSHAKE_MAX_PAYLOAD_BYTES,
      onFrame: (type, payload) => this.#onFrame(type, payload),
      onError: (error) => this.#drop(error.message),
    });
    this.#socket.on('data', (chunk: Buffer) => {
      this.#lastHeardMs = options.clock.monotonicMs();
      this.#decoder.write(chunk);
    });
    this.#socket.on('drain', () => options.onDrain(this));
    this.#socket.on('error', (error: NodeJS.ErrnoException) =>
      this.#finish('debug', `socket error: ${error.code ?? error.message}`),
    );
    this.#socket.on('close', () => this.#finish('debug', 'socket closed'));
    this.#socket.write(encodeFrame(FrameType.HELLO, this.#localHello));
  }

  get isOpen(): boolean {
    return this.#stage === 'open';
  }

  /** The peer's HELLO once it passed the checks; only a claim until `isOpen`. */
  get peer(): Hello | undefined {
    return this.#peer;
  }

  /** When bytes last arrived: any frame proves the peer alive, not only PONG. */
  get lastHeardMs(): number {
    return this.#lastHeardMs;
  }

  /** Bytes handed to the socket and not yet passed to the kernel. */
  get socketBytes(): number {
    return this.#socket.writableLength;
  }

  get needsDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  /** Writes encoded frames as one corked batch, so a tick's frames leave in one syscall. */
  writeFrames(frames: readonly Uint8Array[]): void {
    assert(this.#stage === 'open', 'frames written to a connection that is not open');
    this.#socket.cork();
    for (const frame of frames) this.#socket.write(frame);
    this.#socket.uncork();
  }

  close(reason: string): void {
    this.#finish('info', reason);
  }

  #onFrame(type: FrameType, payload: Uint8Array): void {
    if (this.#stage === 'closed') return;
    const handshakeFrame = type === FrameType.HELLO || type === FrameType.AUTH;
    if (this.#stage === 'open' && !handshakeFrame) {
      this.#options.onFrame(this, type, payload);
      return;
    }
    let problem: string | undefined;
    if (this.#stage === 'await-hello' && type === FrameType.HELLO) problem = this.#onHello(payload);
    else if (this.#stage === 'await-auth' && type === FrameType.AUTH) problem = this.#onAuth(payload);
    else problem = `${frameTypeName(type)} frame while in stage ${this.#stage}`;
    if (problem !== undefined) this.#drop(problem);
  }

  /** Checks the peer's HELLO; the dialer then proves itself first. Returns why the peer is refused. */
  #onHello(payload: Uint8Array): string | undefined {
    let hello: Hello;
    try {
      hello = decodeHello(payload);
    } catch (error) {
      return (error as Error).message;
    }
    const { local, expectedPeerId } = this.#options;
    if (hello.clusterName !== local.clusterName) return `peer is in cluster '${hello.clusterName}'`;
    if (hello.nodeId === local.nodeId) return 'peer claims our own node id';
    if (expectedPeerId !== undefined && hello.nodeId !== expectedPeerId) {
      return `address of ${expectedPeerId} answers as ${hello.nodeId}`;
    }
    this.#peer = hello;
    this.#peerHello = Buffer.from(payload);
    this.#stage = 'await-auth';
    if (this.role === 'dialer') this.#socket.write(encodeFrame(FrameType.AUTH, this.#proof('dialer')));
    return undefined;
  }

  /** Verifies the peer's proof; the acceptor answers with its own only now. */
  #onAuth(payload: Uint8Array): string | undefined {
    const peerRole: HandshakeRole = this.role === 'dialer' ? 'acceptor' : 'dialer';
    if (!proofMatches(this.#proof(peerRole), payload)) return 'wrong cluster secret';
    if (this.role === 'acceptor') this.#socket.write(encodeFrame(FrameType.AUTH, this.#proof('acceptor')));
    this.#stage = 'open';
    this.#decoder.maxPayloadBytes = this.#options.maxPayloadBytes;
    this.#options.onOpen(this);
    return undefined;
  }

  #proof(role: HandshakeRole): Buffer {
    const peerHello = this.#peerHello!;
    const [dialerHello, acceptorHello] =
      this.role === 'dialer' ? [this.#localHello, peerHello] : [peerHello, this.#localHello];
    return authProof(this.#options.local.secret, role, dialerHello, acceptorHello);
  }

  /** A protocol violation or a failed proof: worth a warning, since it is a bug or an intruder. */
  #drop(reason: string): void {
    this.#finish('warn', reason);
  }

  #finish(level: BusLogLevel, reason: string): void {
    if (this.#stage === 'closed') return;
    const stage = this.#stage;
    this.#stage = 'closed';
    this.#socket.destroy();
    const message = level === 'warn' ? 'dropping bus peer' : 'bus connection closed';
    const { remote } = this.#options;
    this.#options.log(level, message, { peer: this.#peer?.nodeId, remote, role: this.role, stage, reason });
    this.#options.onClose(this);
  }
}
