import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';

/**
 * The commands of the lock table (state-machine.ts), and their entry encoding. They live in
 * group 0's log for good and every node applies them, so the encoding is binary, versioned
 * and validated field by field: a command that encodes always decodes to an equal command,
 * whatever decodes re-encodes to the same bytes, and garbage throws one `LockCodecError`.
 *
 * ```
 * u8 version (1) | u8 op | fields
 * acquire (1)  string name | string owner | u8 mode (0 shared, 1 exclusive) | varint ttlMs | varint waitMs
 * release (2)  string name | string owner | bool hasToken | [varint token]
 * renew   (3)  string name | string owner | varint ttlMs
 * cancel  (4)  string name | string owner
 * tick    (5)
 * ```
 * Names and owners are 1..512 bytes of well-formed UTF-8 (lib/byte-codec strings); owners have
 * no whitespace or control characters. Varints are unsigned LEB128. ttlMs is 1..24 h, waitMs
 * 0..24 h, a token 1..2^53 - 1.
 */

export type LockMode = 'shared' | 'exclusive';

export type LockCommand =
  /** waitMs 0: answer at once (granted or refused); otherwise queue for up to waitMs. */
  | {
      readonly op: 'acquire';
      readonly name: string;
      readonly owner: string;
      readonly mode: LockMode;
      readonly ttlMs: number;
      readonly waitMs: number;
    }
  /** With a token, only the hold granted with that token is released. */
  | { readonly op: 'release'; readonly name: string; readonly owner: string; readonly token?: number }
  | { readonly op: 'renew'; readonly name: string; readonly owner: string; readonly ttlMs: number }
  /** The waiter gave up (disconnected, or its WAIT elapsed on the node it waits on). */
  | { readonly op: 'cancel'; readonly name: string; readonly owner: string }
  /** Carries only the leader's time: whatever is due by then expires. */
  | { readonly op: 'tick' };

export type LockOp = LockCommand['op'];

export class LockCodecError extends CodecError {
  override name = 'LockCodecError';
}

export const LOCK_LIMITS = {
  maxNameBytes: 512,
  maxOwnerBytes: 512,
  /** 24 h: longer leases or waits are almost certainly unit mistakes (seconds for ms). */
  maxTtlMs: 86_400_000,
  maxWaitMs: 86_400_000,
} as const;

const VERSION = 1;
const OP_CODES: Readonly<Record<LockOp, number>> = { acquire: 1, release: 2, renew: 3, cancel: 4, tick: 5 };
const OPS_BY_CODE: readonly (LockOp | undefined)[] = [
  undefined,
  'acquire',
  'release',
  'renew',
  'cancel',
  'tick',
];
const MODES: readonly LockMode[] = ['shared', 'exclusive'];

export function encodeLockCommand(c: LockCommand): Uint8Array {
  // Validating on the way out means a bad command fails at the proposer with the decoder's
  // message instead of being committed and refused by every node.
  validateLockCommand(c);
  const w = new ByteWriter(c.op === 'tick' ? 2 : 32 + c.name.length + c.owner.length);
  w.byte(VERSION);
  w.byte(OP_CODES[c.op]);
  if (c.op === 'tick') return w.finish();
  w.string(c.name, LOCK_LIMITS.maxNameBytes, 'lock name');
  w.string(c.owner, LOCK_LIMITS.maxOwnerBytes, 'owner');
  switch (c.op) {
    case 'acquire':
      w.byte(MODES.indexOf(c.mode));
      w.varint(c.ttlMs);
      w.varint(c.waitMs);
      break;
    case 'release':
      w.bool(c.token !== undefined);
      if (c.token !== undefined) w.varint(c.token);
      break;
    case 'renew':
      w.varint(c.ttlMs);
      break;
    case 'cancel':
      break;
  }
  return w.finish();
}

export function decodeLockCommand(bytes: Uint8Array): LockCommand {
  try {
    const command = read(new ByteReader(bytes));
    validateLockCommand(command);
    return command;
  } catch (e) {
    if (e instanceof LockCodecError) throw e;
    if (e instanceof CodecError) throw new LockCodecError(e.message);
    throw e;
  }
}

function read(r: ByteReader): LockCommand {
  const version = r.byte();
  if (version !== VERSION) throw new LockCodecError(`unknown lock command version ${version}`);
  const code = r.byte();
  const op = OPS_BY_CODE[code];
  if (op === undefined) throw new LockCodecError(`unknown lock command op ${code}`);
  let c: LockCommand;
  if (op === 'tick') {
    c = { op };
  } else {
    const name = r.string(LOCK_LIMITS.maxNameBytes, 'lock name');
    const owner = r.string(LOCK_LIMITS.maxOwnerBytes, 'owner');
    switch (op) {
      case 'acquire':
        c = { op, name, owner, mode: readMode(r), ttlMs: r.varint(), waitMs: r.varint() };
        break;
      case 'release':
        c = r.bool() ? { op, name, owner, token: r.varint() } : { op, name, owner };
        break;
      case 'renew':
        c = { op, name, owner, ttlMs: r.varint() };
        break;
      case 'cancel':
        c = { op, name, owner };
        break;
    }
  }
  r.expectEnd();
  return c;
}

export function readMode(r: ByteReader): LockMode {
  const code = r.byte();
  const mode = MODES[code];
  if (mode === undefined) throw new LockCodecError(`unknown lock mode ${code}`);
  return mode;
}

export function modeCode(mode: LockMode): number {
  return MODES.indexOf(mode);
}

/** Throws a `LockCodecError` naming the first field that is out of its domain. */
export function validateLockCommand(c: LockCommand): void {
  switch (c.op) {
    case 'tick':
      return;
    case 'acquire':
      checkNameAndOwner(c.name, c.owner);
      if (c.mode !== 'shared' && c.mode !== 'exclusive') {
        throw new LockCodecError(`lock mode ${JSON.stringify(c.mode)} is not shared or exclusive`);
      }
      checkInt(c.ttlMs, 1, LOCK_LIMITS.maxTtlMs, 'ttlMs');
      checkInt(c.waitMs, 0, LOCK_LIMITS.maxWaitMs, 'waitMs');
      return;
    case 'release':
      checkNameAndOwner(c.name, c.owner);
      // Tokens are Raft log indexes, which start at 1.
      if (c.token !== undefined) checkInt(c.token, 1, Number.MAX_SAFE_INTEGER, 'token');
      return;
    case 'renew':
      checkNameAndOwner(c.name, c.owner);
      checkInt(c.ttlMs, 1, LOCK_LIMITS.maxTtlMs, 'ttlMs');
      return;
    case 'cancel':
      checkNameAndOwner(c.name, c.owner);
      return;
    default:
      throw new LockCodecError(`unknown lock command op '${String((c as { op: unknown }).op)}'`);
  }
}

function checkNameAndOwner(name: unknown, owner: unknown): void {
  checkString(name, LOCK_LIMITS.maxNameBytes, 'lock name');
  checkString(owner, LOCK_LIMITS.maxOwnerBytes, 'owner');
  // Owners are echoed in `-DEADLOCK a b a` error lines, which must stay one line of words;
  // they follow CLIENT SETNAME's rule. Lock names are keys: binary-safe but for surrogates.
  if (UNPRINTABLE.test(owner as string)) {
    throw new LockCodecError(`owner ${JSON.stringify(owner)} has whitespace or control characters`);
  }
}

function checkInt(n: unknown, min: number, max: number, what: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new LockCodecError(`${what} ${String(n)} outside ${min}..${max}`);
  }
}

/** A lone surrogate would not survive the trip through UTF-8; anything else is a fine name. */
const LONE_SURROGATE = /\p{Cs}/u;
const UNPRINTABLE = /[\s\p{Cc}]/u;

export function checkString(s: unknown, maxBytes: number, what: string): void {
  if (typeof s !== 'string') throw new LockCodecError(`${what} is not a string`);
  if (LONE_SURROGATE.test(s)) throw new LockCodecError(`${what} is not well-formed Unicode`);
  const n = utf8Length(s);
  if (n === 0 || n > maxBytes)
    throw new LockCodecError(`${what} must be 1..${maxBytes} UTF-8 bytes, got ${n}`);
}

/** UTF-8 length of a well-formed string, without encoding it (this runs on every apply). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++; // the low surrogate of the pair
    } else n += 3;
  }
  return n;
}
