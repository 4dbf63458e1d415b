import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import type { Reply } from '../resp/reply.js';
import { decodeReplyValue, encodeReplyValue } from '../resp/reply-codec.js';

/**
 * FORWARD_REQUEST / FORWARD_REPLY payloads (bus frame types 4 and 5). A node that cannot run a
 * request itself sends it to the node that can; `id` pairs the reply with its request.
 *
 * - `propose`: run this command through group `group`'s leader. The origin's session and
 *   sequence number travel along, so a retry after a lost reply is applied once; the leader
 *   stamps its own clock into the entry.
 * - `join`: a new node asks a member to add it to the cluster.
 * - `transfer`: hand leadership of `group` to `to` (RAFT.TRANSFER), on the group's leader.
 * - `query`: answer a read-only request about `group` from a node that hosts a replica of it
 *   (a read after a ReadIndex barrier, or a wait for a queue to fill), within `timeoutMs`.
 *   `payload` starts with its payload kind, which picks the handler.
 */
export type ForwardRequest =
  | {
      readonly kind: 'propose';
      readonly id: number;
      readonly group: number;
      readonly session: string;
      readonly seq: number;
      readonly ackedBelow: number;
      readonly payload: Uint8Array;
    }
  | {
      readonly kind: 'join';
      readonly id: number;
      readonly member: {
        readonly id: string;
        readonly host: string;
        readonly port: number;
        readonly busPort: number;
        readonly httpPort: number;
      };
    }
  | { readonly kind: 'transfer'; readonly id: number; readonly group: number; readonly to: string }
  | {
      readonly kind: 'query';
      readonly id: number;
      readonly group: number;
      readonly timeoutMs: number;
      readonly payload: Uint8Array;
    };

export type ForwardReply =
  /** Done; `reply` is what the client sees (absent for an entry that applies nothing). */
  | { readonly kind: 'done'; readonly id: number; readonly reply: Reply | undefined }
  /**
   * This node cannot run it: try `leaderId` (empty when unknown). `appended`: this node had
   * appended the entry before it lost leadership, so it may still commit (the caller must not
   * answer "nothing was applied"; found by the chaos tool as a popped message whose push had
   * been refused with -NOQUORUM).
   */
  | { readonly kind: 'redirect'; readonly id: number; readonly leaderId: string; readonly appended?: true };

const VERSION = 1;
const KINDS = { propose: 1, join: 2, transfer: 3, query: 4 } as const;
const MAX_ID_BYTES = 255;
const MAX_HOST_BYTES = 255;

export function encodeForwardRequest(r: ForwardRequest): Uint8Array {
  const extra =
    r.kind === 'propose'
      ? r.payload.byteLength + r.session.length
      : r.kind === 'query'
        ? r.payload.byteLength
        : 64;
  const w = new ByteWriter(32 + extra);
  w.byte(VERSION);
  w.byte(KINDS[r.kind]);
  w.varint(r.id);
  switch (r.kind) {
    case 'propose':
      w.varint(r.group);
      w.string(r.session, MAX_ID_BYTES, 'session');
      w.varint(r.seq);
      w.varint(r.ackedBelow);
      w.bytes(r.payload);
      break;
    case 'join':
      w.string(r.member.id, MAX_ID_BYTES, 'node id');
      w.string(r.member.host, MAX_HOST_BYTES, 'host');
      w.varint(r.member.port);
      w.varint(r.member.busPort);
      w.varint(r.member.httpPort);
      break;
    case 'transfer':
      w.varint(r.group);
      w.string(r.to, MAX_ID_BYTES, 'node id');
      break;
    case 'query':
      w.varint(r.group);
      w.varint(r.timeoutMs);
      w.bytes(r.payload);
      break;
  }
  return w.finish();
}

export function decodeForwardRequest(bytes: Uint8Array): ForwardRequest {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new CodecError(`unknown forward version ${version}`);
  const kind = r.byte();
  const id = r.varint();
  let out: ForwardRequest;
  switch (kind) {
    case KINDS.propose:
      out = {
        kind: 'propose',
        id,
        group: r.varint(),
        session: r.string(MAX_ID_BYTES, 'session'),
        seq: r.varint(),
        ackedBelow: r.varint(),
        payload: r.bytes(),
      };
      break;
    case KINDS.join:
      out = {
        kind: 'join',
        id,
        member: {
          id: r.string(MAX_ID_BYTES, 'node id'),
          host: r.string(MAX_HOST_BYTES, 'host'),
          port: port(r.varint()),
          busPort: port(r.varint()),
          httpPort: r.varint(),
        },
      };
      break;
    case KINDS.transfer:
      out = { kind: 'transfer', id, group: r.varint(), to: r.string(MAX_ID_BYTES, 'node id') };
      break;
    case KINDS.query:
      out = { kind: 'query', id, group: r.varint(), timeoutMs: r.varint(), payload: r.bytes() };
      break;
    default:
      throw new CodecError(`unknown forward request kind ${kind}`);
  }
  r.expectEnd();
  return out;
}

function port(n: number): number {
  if (n < 1 || n > 65535) throw new CodecError(`port ${n} out of range`);
  return n;
}

export function encodeForwardReply(r: ForwardReply): Uint8Array {
  const w = new ByteWriter(32);
  w.byte(VERSION);
  w.varint(r.id);
  if (r.kind === 'redirect') {
    w.byte(r.appended === true ? 3 : 2);
    w.varint(r.leaderId.length === 0 ? 0 : 1);
    if (r.leaderId.length > 0) w.string(r.leaderId, MAX_ID_BYTES, 'node id');
  } else if (r.reply === undefined) {
    w.byte(0);
  } else {
    w.byte(1);
    w.bytes(encodeReplyValue(r.reply));
  }
  return w.finish();
}

export function decodeForwardReply(bytes: Uint8Array): ForwardReply {
  const r = new ByteReader(bytes);
  const version = r.byte();
  if (version !== VERSION) throw new CodecError(`unknown forward version ${version}`);
  const id = r.varint();
  const tag = r.byte();
  let out: ForwardReply;
  if (tag === 0) out = { kind: 'done', id, reply: undefined };
  else if (tag === 1) out = { kind: 'done', id, reply: decodeReplyValue(r.bytes()) };
  else if (tag === 2 || tag === 3) {
    const has = r.varint();
    const leaderId = has === 1 ? r.string(MAX_ID_BYTES, 'node id') : '';
    out = tag === 3 ? { kind: 'redirect', id, leaderId, appended: true } : { kind: 'redirect', id, leaderId };
  } else throw new CodecError(`unknown forward reply tag ${tag}`);
  r.expectEnd();
  return out;
}
