import {
  decodeForwardReply,
  decodeForwardRequest,
  encodeForwardReply,
  encodeForwardRequest,
  type ForwardReply,
  type ForwardRequest,
} from './forward-codec.js';

/** Why a forwarded request got no answer; the caller may retry (sessions make that safe). */
export class ForwardFailed extends Error {
  override name = 'ForwardFailed';
  /** The request may have reached the peer (and may have been applied); false: it never left. */
  constructor(
    message: string,
    readonly maybeDelivered: boolean,
  ) {
    super(message);
  }
}

type Outgoing = ForwardRequest extends infer R ? (R extends ForwardRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  readonly peer: string;
  readonly resolve: (reply: ForwardReply) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface ForwarderOptions {
  /** Queues a FORWARD_REQUEST (`reply` false) or FORWARD_REPLY frame; false when the peer is unreachable. */
  readonly send: (peerId: string, reply: boolean, payload: Uint8Array) => boolean;
  /** Runs a request another node sent here. */
  readonly serve: (from: string, request: ForwardRequest) => Promise<ForwardReply>;
}

/**
 * Request/reply over the bus: ids, timeouts, and failing fast when the peer's connection drops
 * (a killed leader must not hold its callers until their timeout).
 */
export class Forwarder {
  readonly #o: ForwarderOptions;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #served = 0;

  constructor(options: ForwarderOptions) {
    this.#o = options;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  get served(): number {
    return this.#served;
  }

  request(peer: string, request: Outgoing, timeoutMs: number): Promise<ForwardReply> {
    const id = this.#nextId++;
    const payload = encodeForwardRequest({ ...request, id } as ForwardRequest);
    if (!this.#o.send(peer, false, payload)) {
      return Promise.reject(new ForwardFailed(`node ${peer} is not reachable`, false));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ForwardFailed(`node ${peer} did not answer within ${timeoutMs} ms`, true));
      }, timeoutMs);
      this.#pending.set(id, { peer, resolve, reject, timer });
    });
  }

  /** A FORWARD_REQUEST frame arrived. Garbage throws (the caller drops the peer). */
  onRequest(from: string, payload: Uint8Array): void {
    const request = decodeForwardRequest(payload);
    this.#served++;
    this.#o.serve(from, request).then(
      (reply) => this.#o.send(from, true, encodeForwardReply(reply)),
      () => this.#o.send(from, true, encodeForwardReply({ kind: 'redirect', id: request.id, leaderId: '' })),
    );
  }

  /** A FORWARD_REPLY frame arrived. */
  onReply(from: string, payload: Uint8Array): void {
    const reply = decodeForwardReply(payload);
    const pending = this.#pending.get(reply.id);
    if (pending === undefined || pending.peer !== from) return; // timed out already
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    pending.resolve(reply);
  }

  peerDown(peer: string): void {
    for (const [id, p] of this.#pending) {
      if (p.peer !== peer) continue;
      this.#pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new ForwardFailed(`connection to ${peer} lost`, true));
    }
  }

  close(): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ForwardFailed('node shutting down', true));
    }
    this.#pending.clear();
  }
}
