import { connect, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, FrameType } from '../../src/cluster/bus/frame.js';
import {
  authProof,
  BUS_PROTOCOL_VERSION,
  encodeHello,
  newIncarnation,
  newNonce,
} from '../../src/cluster/bus/handshake.js';
import type { Message } from '../../src/raft/types.js';
import { encodeMessageBatch } from '../../src/raft-runtime/message-batch.js';

/**
 * A hand-driven bus client for attacks on a node's bus port: it sends whatever frames a test
 * asks for, in any order, keeps every byte it sent (to replay them) and every frame it got.
 * Built on the production codecs, so a frame it sends is exactly what a real node would send.
 */
export class RawBusPeer {
  readonly received: { type: number; payload: Buffer }[] = [];
  /** Every byte written, in order: a captured exchange to replay. */
  readonly sent: Buffer[] = [];
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    const decoder = new FrameDecoder({
      maxPayloadBytes: 1024 * 1024,
      onFrame: (type, payload) => {
        this.received.push({ type, payload: Buffer.from(payload) });
        this.#wake();
      },
      onError: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => decoder.write(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
  }

  static open(port: number): Promise<RawBusPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawBusPeer(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(bytes: Buffer): void {
    this.sent.push(bytes);
    if (!this.#closed) this.socket.write(bytes);
  }

  frame(type: number, payload: Uint8Array): void {
    this.write(encodeFrame(type as FrameType, payload));
  }

  /** Sends HELLO as node `nodeId`; returns the payload (the proof covers it). */
  hello(nodeId: string, clusterName = 'lockstep'): Buffer {
    const payload = encodeHello({
      version: BUS_PROTOCOL_VERSION,
      nonce: newNonce(),
      incarnation: newIncarnation(),
      clusterName,
      nodeId,
    });
    this.frame(FrameType.HELLO, payload);
    return payload;
  }

  /** The first frame of `type` received, waiting up to `timeoutMs`; undefined if none came. */
  async next(type: number, timeoutMs = 2000): Promise<Buffer | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((f) => f.type === type);
      if (found !== undefined) return found.payload;
      if (this.#closed || Date.now() >= deadline) return undefined;
      await this.#wait(deadline - Date.now());
    }
  }

  /** Runs the dialer's side of the handshake with `secret`; true when the node answered with its AUTH. */
  async handshake(nodeId: string, secret: string): Promise<boolean> {
    const mine = this.hello(nodeId);
    const theirs = await this.next(FrameType.HELLO);
    if (theirs === undefined) return false;
    this.frame(FrameType.AUTH, authProof(Buffer.from(secret), 'dialer', mine, theirs));
    return (await this.next(FrameType.AUTH)) !== undefined;
  }

  raft(messages: readonly Message[]): void {
    this.frame(FrameType.RAFT, encodeMessageBatch(messages));
  }

  async waitClosed(timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#closed && Date.now() < deadline) await this.#wait(deadline - Date.now());
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms));
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** A RequestVote for group 0 that, once accepted, moves the target to `term` (a transfer ignores leases). */
export function voteWithTerm(from: string, to: string, term: number): Message {
  return { type: 'vote', groupId: 0, from, to, term, lastIndex: 1e9, lastTerm: term, transfer: true };
}

/** An AppendEntries that, once accepted, makes `from` the leader of group 0 at `term`. */
export function appendWithTerm(from: string, to: string, term: number): Message {
  return { type: 'append', groupId: 0, from, to, term, prevIndex: 0, prevTerm: 0, commit: 0, entries: [] };
}
