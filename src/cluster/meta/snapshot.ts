import { ByteReader, ByteWriter, CodecError } from '../../lib/byte-codec.js';
import type { ConfState } from '../../raft/types.js';
import {
  META_LIMITS,
  type MemberAddress,
  MetaCodecError,
  readAddress,
  validateMetaCommand,
  writeAddress,
  writeIds,
} from './commands.js';
import { EMPTY_META_DATA, MEMBER_STATES, type Member, type MetaData } from './types.js';

/**
 * The meta state's snapshot bytes. Deterministic: every list is written in a canonical order
 * (members by join index, ids ascending, groups ascending), so equal states give equal bytes
 * and replicas can compare snapshots byte for byte. Restoring checks every invariant the state
 * relies on, so a corrupt snapshot fails here rather than in a later apply.
 *
 * ```
 * u8 version (1) | bool initialized
 * if initialized:
 *   varint partitions | varint replicas | varint metaVotersMax | varint epoch
 *   varint n | n × member        member = address | u8 state | varint joinedIndex | varint stateSinceMs
 *   varint n | n × string        group 0's desired voters
 *   varint n | n × string        removed ids
 *   varint n | n × (varint group | ids voters | ids learners)
 * ```
 */

const VERSION = 1;

export function encodeMetaSnapshot(d: MetaData): Uint8Array {
  const w = new ByteWriter(256);
  w.byte(VERSION);
  w.bool(d.initialized);
  if (!d.initialized) return w.finish();
  w.varint(d.partitions);
  w.varint(d.replicas);
  w.varint(d.metaVotersMax);
  w.varint(d.epoch);
  w.varint(d.members.length);
  for (const m of d.members) {
    writeAddress(w, m);
    w.byte(MEMBER_STATES.indexOf(m.state));
    w.varint(m.joinedIndex);
    w.varint(m.stateSinceMs);
  }
  writeIds(w, d.metaVoters);
  writeIds(w, d.removed);
  const groups = [...d.observed.keys()].sort((a, b) => a - b);
  w.varint(groups.length);
  for (const g of groups) {
    const conf = d.observed.get(g)!;
    w.varint(g);
    writeIds(w, conf.voters);
    writeIds(w, conf.learners);
  }
  return w.finish();
}

export function decodeMetaSnapshot(bytes: Uint8Array): MetaData {
  try {
    return read(new ByteReader(bytes));
  } catch (e) {
    if (e instanceof MetaCodecError) throw e;
    if (e instanceof CodecError) throw new MetaCodecError(`meta snapshot: ${e.message}`);
    throw e;
  }
}

function read(r: ByteReader): MetaData {
  const version = r.byte();
  if (version !== VERSION) fail(`unknown version ${version}`);
  if (!r.bool()) {
    r.expectEnd();
    return EMPTY_META_DATA;
  }
  const partitions = r.varint();
  const replicas = r.varint();
  const metaVotersMax = r.varint();
  const epoch = r.varint();
  // The shape fields obey the same bounds as the `init` command that set them.
  checkCommand(() => {
    const founder = { id: 'x', host: 'x', port: 1, busPort: 1, httpPort: 0 };
    validateMetaCommand({ op: 'init', partitions, replicas, metaVotersMax, founder });
  });
  if (epoch < 1) fail(`epoch ${epoch} of an initialized cluster`);

  // Smallest member: 2 short strings (2 bytes each) and 6 one-byte fields.
  const memberCount = r.count(10);
  if (memberCount === 0) fail('an initialized cluster without members');
  const members: Member[] = [];
  for (let i = 0; i < memberCount; i++) {
    const address = readCheckedAddress(r);
    const stateCode = r.byte();
    const state = MEMBER_STATES[stateCode];
    if (state === undefined) fail(`member '${address.id}' has unknown state ${stateCode}`);
    const member: Member = { ...address, state, joinedIndex: r.varint(), stateSinceMs: r.varint() };
    const previous = members[members.length - 1];
    if (previous !== undefined && previous.joinedIndex >= member.joinedIndex) {
      fail(`members out of join order at '${member.id}'`);
    }
    members.push(member);
  }
  const memberIds = new Set(members.map((m) => m.id));
  if (memberIds.size !== members.length) fail('a member is listed twice');

  const metaVoters = readIds(r, 'meta voters');
  for (const id of metaVoters) if (!memberIds.has(id)) fail(`meta voter '${id}' is not a member`);
  if (metaVoters.length > metaVotersMax) fail(`${metaVoters.length} meta voters, at most ${metaVotersMax}`);
  const removed = readIds(r, 'removed ids');
  for (const id of removed) if (memberIds.has(id)) fail(`removed id '${id}' is a member`);

  const observed = new Map<number, ConfState>();
  const groupCount = r.count(3);
  let lastGroup = -1;
  for (let i = 0; i < groupCount; i++) {
    const group = r.varint();
    if (group <= lastGroup || group > partitions) fail(`observed group ${group} out of order or range`);
    lastGroup = group;
    const conf = {
      voters: readIds(r, `group ${group} voters`),
      learners: readIds(r, `group ${group} learners`),
    };
    checkCommand(() => validateMetaCommand({ op: 'conf', group, ...conf }));
    observed.set(group, conf);
  }
  r.expectEnd();
  return {
    initialized: true,
    partitions,
    replicas,
    metaVotersMax,
    epoch,
    members,
    metaVoters,
    removed,
    observed,
  };
}

/** A member's address, held to the same bounds as in a `join` command. */
function readCheckedAddress(r: ByteReader): MemberAddress {
  const address = readAddress(r);
  checkCommand(() => validateMetaCommand({ op: 'join', member: address }));
  return address;
}

/** Ids in strictly ascending order: canonical, hence also free of duplicates. */
function readIds(r: ByteReader, what: string): string[] {
  const n = r.count(2);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = r.string(META_LIMITS.maxIdBytes, 'node id');
    const previous = ids[ids.length - 1];
    if (previous !== undefined && previous >= id) fail(`${what} not in ascending order`);
    ids.push(id);
  }
  return ids;
}

function checkCommand(check: () => void): void {
  try {
    check();
  } catch (e) {
    if (e instanceof MetaCodecError) fail(e.message);
    throw e;
  }
}

function fail(message: string): never {
  throw new MetaCodecError(`meta snapshot: ${message}`);
}
