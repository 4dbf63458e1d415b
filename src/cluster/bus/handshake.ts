import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { assert } from '../../lib/assert.js';
import { ProtocolError } from '../../lib/errors.js';

/**
 * The bus handshake, as pure functions: encode and check HELLO, compute and verify AUTH.
 *
 * Both ends send HELLO on connect. The dialer then sends AUTH = proof("dialer"); the acceptor
 * checks it and only then answers with proof("acceptor"), so an anonymous client learns no
 * MAC it could use to guess the secret offline. Each proof is an HMAC-SHA256 over both HELLO
 * payloads exactly as sent, so it covers both fresh nonces (no replay), both node ids, the
 * cluster name and the incarnations; the role label keeps a proof from being reflected back.
 * The layout is in src/cluster/README.md.
 */

export const BUS_PROTOCOL_VERSION = 1;
export const NONCE_BYTES = 32;
export const INCARNATION_BYTES = 8;
/** Handshake frames are small; before authentication nothing bigger is read from a stranger. */
export const HANDSHAKE_MAX_PAYLOAD_BYTES = 1024;
const MAX_NAME_BYTES = 255;

export type HandshakeRole = 'dialer' | 'acceptor';

export interface Hello {
  readonly version: number;
  readonly nonce: Uint8Array;
  /** Random per process start: tells a restarted peer from a second connection of the same one. */
  readonly incarnation: string;
  readonly clusterName: string;
  readonly nodeId: string;
}

export function newNonce(): Uint8Array {
  return randomBytes(NONCE_BYTES);
}

export function newIncarnation(): string {
  return randomBytes(INCARNATION_BYTES).toString('hex');
}

/** Whether `name` fits the one-byte length field of HELLO. */
export function fitsHello(name: string): boolean {
  const bytes = Buffer.byteLength(name, 'utf8');
  return bytes >= 1 && bytes <= MAX_NAME_BYTES;
}

export function encodeHello(hello: Hello): Buffer {
  assert(hello.nonce.length === NONCE_BYTES, 'HELLO nonce must be 32 bytes');
  assert(fitsHello(hello.clusterName), 'cluster name must be 1..255 UTF-8 bytes');
  assert(fitsHello(hello.nodeId), 'node id must be 1..255 UTF-8 bytes');
  const cluster = Buffer.from(hello.clusterName, 'utf8');
  const node = Buffer.from(hello.nodeId, 'utf8');
  const incarnation = Buffer.from(hello.incarnation, 'hex');
  assert(incarnation.length === INCARNATION_BYTES, 'incarnation must be 8 bytes of hex');
  return Buffer.concat([
    Buffer.of(hello.version),
    hello.nonce,
    incarnation,
    Buffer.of(cluster.length),
    cluster,
    Buffer.of(node.length),
    node,
  ]);
}

export function decodeHello(payload: Uint8Array): Hello {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  let offset = 0;
  const take = (length: number): Buffer => {
    if (offset + length > bytes.length) throw new ProtocolError('truncated HELLO');
    const field = bytes.subarray(offset, offset + length);
    offset += length;
    return field;
  };
  const version = take(1)[0]!;
  if (version !== BUS_PROTOCOL_VERSION) {
    throw new ProtocolError(`bus protocol version ${version} is not ${BUS_PROTOCOL_VERSION}`);
  }
  const nonce = Buffer.from(take(NONCE_BYTES));
  const incarnation = take(INCARNATION_BYTES).toString('hex');
  const clusterName = take(take(1)[0]!).toString('utf8');
  const nodeId = take(take(1)[0]!).toString('utf8');
  if (offset !== bytes.length) throw new ProtocolError('trailing bytes after HELLO');
  if (nodeId === '') throw new ProtocolError('empty node id in HELLO');
  return { version, nonce, incarnation, clusterName, nodeId };
}

/** AUTH payload of `role`, over the two HELLO payloads in (dialer, acceptor) order. */
export function authProof(
  secret: Uint8Array,
  role: HandshakeRole,
  dialerHello: Uint8Array,
  acceptorHello: Uint8Array,
): Buffer {
  return createHmac('sha256', secret)
    .update(`lockstep-bus-v${BUS_PROTOCOL_VERSION} ${role}\0`)
    .update(dialerHello)
    .update(acceptorHello)
    .digest();
}

export function proofMatches(expected: Uint8Array, received: Uint8Array): boolean {
  return received.length === expected.length && timingSafeEqual(expected, received);
}
