import type { Socket } from 'node:net';
import type { ProtocolError } from '../lib/errors.js';
import { type DecoderLimits, RequestDecoder } from '../resp/decoder.js';
import { ReplyBuffer } from '../resp/encoder.js';
import { error, type Reply } from '../resp/reply.js';
import type { Dispatcher } from './dispatcher.js';
import type { Session } from './session.js';

export interface ConnectionLimits extends DecoderLimits {
  /** Stop reading from a client while this many reply bytes wait to be written to it. */
  outputBufferBytes: number;
  /**
   * Close a client as soon as this many reply bytes wait for it. Pausing reads alone does not
   * bound memory: the commands of one chunk already read (thousands of small GETs of one big
   * value) each add a reply, and a node once died of a 5 GB reply buffer that way.
   */
  outputBufferHardBytes: number;
  /** Stop reading while this many commands of one client still wait for their replies. */
  maxPendingReplies: number;
  /** Close a client idle for this long; 0 = never. */
  idleTimeoutMs: number;
}

/** A reply not yet written, kept in request order until everything before it is done. */
interface Slot {
  reply: Reply | null;
  closeAfter: boolean;
}

/**
 * One client socket. Decoded commands run as they arrive; their replies are written in request
 * order (a pipelined client gets them in order even when some complete asynchronously) and in
 * one `socket.write` per read or per event-loop turn. Reading pauses while the client does not
 * read its replies (output over the limit) or has too many replies outstanding.
 */
export class Connection {
  readonly #decoder: RequestDecoder;
  readonly #out = new ReplyBuffer();
  readonly #slots: Slot[] = [];
  #flushScheduled = false;
  /**
   * `socket.writableLength` after the last write. It only shrinks until the next write, so the
   * hard limit, checked after every command, may read this instead of the socket's getters.
   */
  #socketBytesAtWrite = 0;
  #readPaused = false;
  #ending = false;

  constructor(
    readonly socket: Socket,
    readonly session: Session,
    private readonly dispatcher: Dispatcher,
    private readonly limits: ConnectionLimits,
    private readonly onClosed: (connection: Connection) => void,
  ) {
    this.#decoder = new RequestDecoder(
      limits,
      (args) => this.#onCommand(args),
      (err) => this.#onProtocolError(err),
    );
    // Until AUTH, Redis's small limits apply, so a stranger cannot make us buffer megabytes.
    this.#decoder.authenticated = session.user !== null;
    socket.setNoDelay(true);
    if (limits.idleTimeoutMs > 0) socket.setTimeout(limits.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#maybeResume());
    // A client blocked in a command (a lock wait, a blocking pop) is waiting, not idle.
    socket.on('timeout', () => {
      if (this.#slots.length === 0) this.close();
    });
    // Errors (ECONNRESET, EPIPE) end in 'close'; there is nothing else to do with them.
    socket.on('error', () => {});
    socket.on('close', () => {
      this.session.markClosed();
      this.onClosed(this);
    });
  }

  /** Bytes of replies not yet accepted by the kernel. */
  get outputBytes(): number {
    return this.#out.byteLength + this.socket.writableLength;
  }

  /** Closes after writing what is already queued. */
  close(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#flush();
    this.socket.end();
    // A client that never reads would keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  #onData(chunk: Buffer): void {
    if (this.#ending) return;
    this.session.lastActiveAtMs = Date.now();
    this.#decoder.write(chunk);
    this.#flush();
  }

  #onCommand(args: Buffer[]): void {
    if (this.#ending || this.session.closeAfterReply) return;
    const result = this.dispatcher.execute(this.session, args);
    this.#decoder.authenticated = this.session.user !== null;
    const closeAfter = this.session.closeAfterReply;
    if (this.#slots.length === 0 && !(result instanceof Promise)) {
      this.#out.append(result, this.session.protocol);
      if (closeAfter) this.close();
      else this.#enforceHardLimit();
      return;
    }
    const slot: Slot = { reply: null, closeAfter };
    this.#slots.push(slot);
    if (result instanceof Promise) {
      result.then((reply) => this.#complete(slot, reply));
      if (this.#slots.length >= this.limits.maxPendingReplies) this.#pauseReading();
    } else {
      this.#complete(slot, result);
    }
  }

  #complete(slot: Slot, reply: Reply): void {
    slot.reply = reply;
    while (this.#slots.length > 0) {
      const head = this.#slots[0] as Slot;
      if (head.reply === null) break;
      this.#slots.shift();
      if (!this.socket.destroyed) this.#out.append(head.reply, this.session.protocol);
      if (head.closeAfter) {
        this.close();
        return;
      }
      if (this.#enforceHardLimit()) return;
    }
    this.#scheduleFlush();
    this.#maybeResume();
  }

  /**
   * Drops the client whose unread replies exceed the hard limit, as Redis's
   * `client-output-buffer-limit` does: its pending replies are discarded, other clients are
   * not affected. True when it did.
   */
  #enforceHardLimit(): boolean {
    if (this.#out.byteLength + this.#socketBytesAtWrite <= this.limits.outputBufferHardBytes) return false;
    if (this.outputBytes <= this.limits.outputBufferHardBytes) return false;
    this.#ending = true;
    this.#out.take();
    this.#slots.length = 0;
    this.session.closeAfterReply = true;
    this.socket.destroy();
    return true;
  }

  #onProtocolError(err: ProtocolError): void {
    this.session.closeAfterReply = true;
    const reply = error(`ERR ${err.message}`);
    if (this.#slots.length === 0) {
      this.#out.append(reply, this.session.protocol);
      this.close();
    } else {
      this.#slots.push({ reply, closeAfter: true });
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const bytes = this.#out.take();
    if (bytes === null || this.socket.destroyed) return;
    this.socket.write(bytes);
    this.#socketBytesAtWrite = this.socket.writableLength;
    if (this.#socketBytesAtWrite > this.limits.outputBufferBytes) this.#pauseReading();
  }

  #pauseReading(): void {
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.socket.pause();
  }

  #maybeResume(): void {
    if (!this.#readPaused || this.#ending) return;
    if (this.socket.writableLength > this.limits.outputBufferBytes) return;
    if (this.#slots.length >= this.limits.maxPendingReplies) return;
    this.#readPaused = false;
    this.socket.resume();
  }
}
