import { ByteReader, ByteWriter, CodecError } from '../../lib/byte-codec.js';

/**
 * The commands of group 0's membership state machine (state.ts), and their entry encoding.
 * They are few and small, but they live in the Raft log for good and are applied by every
 * node, so the encoding is binary, versioned and validated field by field: a command that
 * encodes always decodes to an equal command, and garbage throws one `MetaCodecError`.
 *
 * ```
 * u8 version (1) | u8 op | fields
 * init   (1)  varint partitions | varint replicas | varint metaVotersMax | address
 * join   (2)  address
 * leave  (3), remove (4), down (5), up (6), evict (7)   string id
 * conf   (8)  varint group | varint n | n × string voter | varint m | m × string learner
 * cache-reset (9)  varint epoch
 * address = string id | string host | varint port | varint busPort | varint httpPort
 * ```
 * Strings (ids, hosts) are 1..255 UTF-8 bytes without whitespace or control characters; varints
 * are unsigned LEB128 (lib/byte-codec). Ports are 1..65535, except httpPort, where 0 means "off".
 */

export interface MemberAddress {
  readonly id: string;
  readonly host: string;
  /** Client (RESP) port. */
  readonly port: number;
  readonly busPort: number;
  /** 0 when the node runs no HTTP listener. */
  readonly httpPort: number;
}

export type MetaCommand =
  /** The first entry of a new cluster: its fixed shape and its founding member. */
  | {
      readonly op: 'init';
      readonly partitions: number;
      readonly replicas: number;
      readonly metaVotersMax: number;
      readonly founder: MemberAddress;
    }
  /** Add a member, or update the address of an existing one. A removed id may not come back. */
  | { readonly op: 'join'; readonly member: MemberAddress }
  /** Start draining: out of placement and of the meta voters. */
  | { readonly op: 'leave'; readonly id: string }
  /** Final; only once the member holds no partition replica in any observed configuration. */
  | { readonly op: 'remove'; readonly id: string }
  | { readonly op: 'down'; readonly id: string }
  | { readonly op: 'up'; readonly id: string }
  /** Down long enough: its replicas are re-created elsewhere until it comes back up. */
  | { readonly op: 'evict'; readonly id: string }
  /** A group's leader reports the configuration it has applied. */
  | {
      readonly op: 'conf';
      readonly group: number;
      readonly voters: readonly string[];
      readonly learners: readonly string[];
    }
  /**
   * The coherent cache at `epoch` may have lost messages (a bus link to a member broke and came
   * back, a frame could not be queued): start a new epoch, which empties every cache and home
   * directory. Applies only while the epoch is still `epoch`, so every node that noticed the same
   * loss may ask and the cache is emptied once.
   */
  | { readonly op: 'cache-reset'; readonly epoch: number };

export type MetaOp = MetaCommand['op'];

export class MetaCodecError extends CodecError {
  override name = 'MetaCodecError';
}

/**
 * Bounds of the codec. They are wider than the configuration's (config/schema.ts) so that a
 * later release may raise those without making old entries undecodable.
 */
export const META_LIMITS = {
  maxPartitions: 65_535,
  maxReplicas: 255,
  maxMetaVoters: 255,
  maxIdBytes: 255,
  maxHostBytes: 255,
  /** Members listed in one `conf` report (voters plus learners; group 0 lists every member). */
  maxConfMembers: 4096,
} as const;

const VERSION = 1;
const OP_CODES: Readonly<Record<MetaOp, number>> = {
  init: 1,
  join: 2,
  leave: 3,
  remove: 4,
  down: 5,
  up: 6,
  evict: 7,
  conf: 8,
  'cache-reset': 9,
};
const OPS_BY_CODE: readonly (MetaOp | undefined)[] = (() => {
  const ops: (MetaOp | undefined)[] = [];
  for (const [op, code] of Object.entries(OP_CODES)) ops[code] = op as MetaOp;
  return ops;
})();

const utf8 = new TextEncoder();

export function encodeMetaCommand(c: MetaCommand): Uint8Array {
  // Validating on the way out too means a bad command fails at the proposer, with the same
  // message the decoder would give, instead of being committed and refused by every node.
  validateMetaCommand(c);
  const w = new ByteWriter(64);
  w.byte(VERSION);
  w.byte(OP_CODES[c.op]);
  switch (c.op) {
    case 'init':
      w.varint(c.partitions);
      w.varint(c.replicas);
      w.varint(c.metaVotersMax);
      writeAddress(w, c.founder);
      break;
    case 'join':
      writeAddress(w, c.member);
      break;
    case 'leave':
    case 'remove':
    case 'down':
    case 'up':
    case 'evict':
      w.string(c.id, META_LIMITS.maxIdBytes, 'node id');
      break;
    case 'conf':
      w.varint(c.group);
      writeIds(w, c.voters);
      writeIds(w, c.learners);
      break;
    case 'cache-reset':
      w.varint(c.epoch);
      break;
  }
  return w.finish();
}

export function decodeMetaCommand(bytes: Uint8Array): MetaCommand {
  try {
    const command = read(new ByteReader(bytes));
    validateMetaCommand(command);
    return command;
  } catch (e) {
    if (e instanceof MetaCodecError) throw e;
    if (e instanceof CodecError) throw new MetaCodecError(e.message);
    throw e;
  }
}

function read(r: ByteReader): MetaCommand {
  const version = r.byte();
  if (version !== VERSION) throw new MetaCodecError(`unknown meta command version ${version}`);
  const code = r.byte();
  const op = OPS_BY_CODE[code];
  let c: MetaCommand;
  switch (op) {
    case 'init':
      c = {
        op,
        partitions: r.varint(),
        replicas: r.varint(),
        metaVotersMax: r.varint(),
        founder: readAddress(r),
      };
      break;
    case 'join':
      c = { op, member: readAddress(r) };
      break;
    case 'leave':
    case 'remove':
    case 'down':
    case 'up':
    case 'evict':
      c = { op, id: r.string(META_LIMITS.maxIdBytes, 'node id') };
      break;
    case 'conf':
      c = { op, group: r.varint(), voters: readIds(r), learners: readIds(r) };
      break;
    case 'cache-reset':
      c = { op, epoch: r.varint() };
      break;
    case undefined:
      throw new MetaCodecError(`unknown meta command op ${code}`);
  }
  r.expectEnd();
  return c;
}

/** Also the address part of a member in the snapshot (snapshot.ts). */
export function writeAddress(w: ByteWriter, a: MemberAddress): void {
  w.string(a.id, META_LIMITS.maxIdBytes, 'node id');
  w.string(a.host, META_LIMITS.maxHostBytes, 'host');
  w.varint(a.port);
  w.varint(a.busPort);
  w.varint(a.httpPort);
}

/** Reads the fields only; `validateMetaCommand` checks their domains. */
export function readAddress(r: ByteReader): MemberAddress {
  return {
    id: r.string(META_LIMITS.maxIdBytes, 'node id'),
    host: r.string(META_LIMITS.maxHostBytes, 'host'),
    port: r.varint(),
    busPort: r.varint(),
    httpPort: r.varint(),
  };
}

export function writeIds(w: ByteWriter, ids: readonly string[]): void {
  w.varint(ids.length);
  for (const id of ids) w.string(id, META_LIMITS.maxIdBytes, 'node id');
}

function readIds(r: ByteReader): string[] {
  // Each id takes at least 2 bytes (length and one byte), which bounds the count by the input.
  const n = r.count(2);
  if (n > META_LIMITS.maxConfMembers)
    throw new MetaCodecError(`conf lists ${n} ids, at most ${META_LIMITS.maxConfMembers}`);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(r.string(META_LIMITS.maxIdBytes, 'node id'));
  return ids;
}

/** Throws a `MetaCodecError` naming the first field that is out of its domain. */
export function validateMetaCommand(c: MetaCommand): void {
  switch (c.op) {
    case 'init':
      checkInt(c.partitions, 1, META_LIMITS.maxPartitions, 'partitions');
      checkInt(c.replicas, 1, META_LIMITS.maxReplicas, 'replicas');
      checkInt(c.metaVotersMax, 1, META_LIMITS.maxMetaVoters, 'metaVotersMax');
      checkAddress(c.founder);
      return;
    case 'join':
      checkAddress(c.member);
      return;
    case 'leave':
    case 'remove':
    case 'down':
    case 'up':
    case 'evict':
      checkString(c.id, META_LIMITS.maxIdBytes, 'node id');
      return;
    case 'conf': {
      checkInt(c.group, 0, META_LIMITS.maxPartitions, 'group');
      // Every applied configuration has a voter: the leader that reports it.
      if (c.voters.length === 0) throw new MetaCodecError('conf needs at least one voter');
      const all = [...c.voters, ...c.learners];
      if (all.length > META_LIMITS.maxConfMembers) {
        throw new MetaCodecError(`conf lists ${all.length} ids, at most ${META_LIMITS.maxConfMembers}`);
      }
      const seen = new Set<string>();
      for (const id of all) {
        checkString(id, META_LIMITS.maxIdBytes, 'node id');
        if (seen.has(id)) throw new MetaCodecError(`conf lists node '${id}' twice`);
        seen.add(id);
      }
      return;
    }
    case 'cache-reset':
      checkInt(c.epoch, 1, Number.MAX_SAFE_INTEGER, 'epoch');
      return;
    default:
      throw new MetaCodecError(`unknown meta command op '${String((c as { op: unknown }).op)}'`);
  }
}

function checkAddress(a: MemberAddress): void {
  checkString(a.id, META_LIMITS.maxIdBytes, 'node id');
  checkString(a.host, META_LIMITS.maxHostBytes, 'host');
  checkInt(a.port, 1, 65_535, 'port');
  checkInt(a.busPort, 1, 65_535, 'busPort');
  checkInt(a.httpPort, 0, 65_535, 'httpPort');
}

function checkInt(n: unknown, min: number, max: number, what: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new MetaCodecError(`${what} ${String(n)} outside ${min}..${max}`);
  }
}

/**
 * Ids and hosts end up in replies and in space-separated listings (CLUSTER.NODES), and a lone
 * surrogate would not survive UTF-8: refuse whitespace, control characters and lone surrogates.
 */
const UNPRINTABLE = /[\s\p{Cc}\p{Cs}]/u;

function checkString(s: unknown, maxBytes: number, what: string): void {
  if (typeof s !== 'string') throw new MetaCodecError(`${what} is not a string`);
  if (UNPRINTABLE.test(s))
    throw new MetaCodecError(`${what} ${JSON.stringify(s)} has whitespace or control characters`);
  const n = utf8.encode(s).byteLength;
  if (n === 0 || n > maxBytes)
    throw new MetaCodecError(`${what} must be 1..${maxBytes} UTF-8 bytes, got ${n}`);
}
