import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';

/**
 * What every normal entry of every group carries around the application's command: the
 * leader's clock when it was proposed, and the client session that makes a retried proposal
 * apply once (Raft thesis §6.3).
 *
 * A session is one incarnation of one node's proposer (`n2.4f1c…`): every proposal it makes gets
 * the next sequence number, and it tells the state machine the lowest sequence it still waits
 * for (`ackedBelow`), so the machine can forget the results of everything below. A forwarded
 * proposal that times out is retried with the same session and sequence: if the first attempt
 * committed after all, the second one is answered from the stored result instead of applied.
 *
 * The empty entry a new leader appends (data of length 0) is not an envelope.
 */
export interface Envelope {
  /** The proposing leader's wall clock, ms since the epoch. State machines use only this. */
  readonly timeMs: number;
  /** Empty for proposals that need no deduplication. */
  readonly session: string;
  readonly seq: number;
  /** Every sequence number below this one has been answered to its caller. */
  readonly ackedBelow: number;
  readonly payload: Uint8Array;
}

const VERSION = 1;
const MAX_SESSION_BYTES = 128;

export function encodeEnvelope(e: Envelope): Uint8Array {
  const w = new ByteWriter(24 + e.session.length + e.payload.byteLength);
  w.byte(VERSION);
  w.varint(Math.max(0, Math.floor(e.timeMs)));
  w.varint(e.session.length === 0 ? 0 : 1);
  if (e.session.length > 0) {
    w.string(e.session, MAX_SESSION_BYTES, 'session');
    w.varint(e.seq);
    w.varint(e.ackedBelow);
  }
  w.bytes(e.payload);
  return w.finish();
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new CodecError(`unknown envelope version ${version}`);
  const timeMs = r.varint();
  const hasSession = r.varint();
  if (hasSession > 1) throw new CodecError(`invalid session flag ${hasSession}`);
  let session = '';
  let seq = 0;
  let ackedBelow = 0;
  if (hasSession === 1) {
    session = r.string(MAX_SESSION_BYTES, 'session');
    seq = r.varint();
    ackedBelow = r.varint();
  }
  const payload = r.bytes();
  r.expectEnd();
  return { timeMs, session, seq, ackedBelow, payload };
}
