import { assert } from '../../lib/assert.js';
import { ProtocolError } from '../../lib/errors.js';

/**
 * The bus wire format: a stream of frames `[u32 payload length, big-endian][u8 type][payload]`.
 * Pure: bytes in, frames out, no sockets. The transport decides what frames mean.
 */

export const FrameType = {
  /** Handshake: version, nonce, incarnation, cluster name, node id (see handshake.ts). */
  HELLO: 1,
  /** Handshake: the HMAC proof of the shared secret. */
  AUTH: 2,
  /** A batch of Raft messages, opaque here. */
  RAFT: 3,
  FORWARD_REQUEST: 4,
  FORWARD_REPLY: 5,
  /** Cache coherence messages (GetS, GetM, Inv, acks, data). */
  CACHE: 6,
  /** Keepalive; answered by a PONG that echoes the payload. */
  PING: 7,
  PONG: 8,
} as const;

export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export const FRAME_HEADER_BYTES = 5;

/** Large enough for a snapshot chunk or a batch of forwarded commands, small enough to buffer. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

const MAX_U32 = 0xffff_ffff;

export function isFrameType(value: number): value is FrameType {
  return value >= FrameType.HELLO && value <= FrameType.PONG;
}

export function frameTypeName(type: FrameType): string {
  return Object.keys(FrameType).find((name) => FrameType[name as keyof typeof FrameType] === type)!;
}

export function encodeFrame(type: FrameType, payload: Uint8Array): Buffer {
  assert(isFrameType(type), `unknown frame type ${type}`);
  assert(payload.length <= MAX_U32, `payload of ${payload.length} bytes does not fit a frame`);
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame[4] = type;
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export interface FrameDecoderOptions {
  maxPayloadBytes: number;
  /**
   * Called once per frame, in stream order. `payload` is a view that may share memory with the
   * rest of the chunk it came in: copy it (`Uint8Array.from(payload)`) to keep it past the call.
   */
  onFrame(type: FrameType, payload: Uint8Array): void;
  /** Called at most once, for the first malformed header; the decoder ignores all later input. */
  onError(error: ProtocolError): void;
}

/**
 * A streaming decoder. Between calls it keeps at most one incomplete frame whose header has
 * already been checked, so it never holds more than `FRAME_HEADER_BYTES + maxPayloadBytes`
 * bytes, and a stranger announcing a 4 GiB frame is refused after 5 bytes. It never throws:
 * a bad stream is reported once through `onError` (handlers themselves must not throw).
 */
export class FrameDecoder {
  #maxPayloadBytes: number;
  readonly #onFrame: FrameDecoderOptions['onFrame'];
  readonly #onError: FrameDecoderOptions['onError'];
  /** Bytes of the incomplete frame at the head of the stream, in arrival order. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** What the pending frame needs in all: a header, or (once its header has passed the checks) the whole frame. */
  #neededBytes = FRAME_HEADER_BYTES;
  #failed = false;

  constructor(options: FrameDecoderOptions) {
    this.#maxPayloadBytes = checkedLimit(options.maxPayloadBytes);
    this.#onFrame = options.onFrame;
    this.#onError = options.onError;
  }

  /** The limit applies to every header read from now on, including later frames of a chunk being decoded. */
  set maxPayloadBytes(limit: number) {
    this.#maxPayloadBytes = checkedLimit(limit);
  }

  write(chunk: Uint8Array): void {
    if (this.#failed || chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes < this.#neededBytes) return;

    // Enough for the next step: join what is pending (once) and decode frames from it.
    const data = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#neededBytes = FRAME_HEADER_BYTES;
    let offset = 0;
    while (data.length - offset >= FRAME_HEADER_BYTES) {
      const payloadBytes = readU32BE(data, offset);
      const type = data[offset + 4]!;
      const problem = this.#checkHeader(payloadBytes, type);
      if (problem !== undefined) {
        this.#fail(problem);
        return;
      }
      const end = offset + FRAME_HEADER_BYTES + payloadBytes;
      if (end > data.length) {
        this.#neededBytes = FRAME_HEADER_BYTES + payloadBytes;
        break;
      }
      this.#onFrame(type as FrameType, data.subarray(offset + FRAME_HEADER_BYTES, end));
      offset = end;
    }
    if (offset < data.length) {
      // Copy the tail so a small leftover does not pin the whole chunk it came in (and note
      // that `Buffer#slice` would not copy).
      this.#pending.push(Buffer.from(data.subarray(offset)));
      this.#pendingBytes = data.length - offset;
    }
    assert(this.#pendingBytes < this.#neededBytes, 'decoder kept a frame it could have delivered');
  }

  #checkHeader(payloadBytes: number, type: number): string | undefined {
    if (!isFrameType(type)) return `unknown frame type ${type}`;
    if (payloadBytes > this.#maxPayloadBytes) {
      return `frame payload of ${payloadBytes} bytes exceeds the limit of ${this.#maxPayloadBytes}`;
    }
    return undefined;
  }

  #fail(message: string): void {
    this.#failed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onError(new ProtocolError(message));
  }
}

function readU32BE(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>>
    0
  );
}

function checkedLimit(maxPayloadBytes: number): number {
  assert(
    Number.isInteger(maxPayloadBytes) && maxPayloadBytes >= 0 && maxPayloadBytes <= MAX_U32,
    `bad maxPayloadBytes ${maxPayloadBytes}`,
  );
  return maxPayloadBytes;
}
