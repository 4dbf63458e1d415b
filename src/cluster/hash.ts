/**
 * Key hashing for the ring: which bytes of a key count (the Redis Cluster `{tag}` rule) and
 * the 32-bit hash they go through.
 *
 * The hash is MurmurHash3 x86_32 rather than Redis's CRC16. We expose no Redis Cluster slots
 * (16384 of them), so slot compatibility buys nothing, while the ring needs a full 32-bit
 * space: a thousand virtual-node points in CRC16's 65536 values would collide by the dozen.
 * CRC is also linear, so keys that differ in a few bits land in correlated places; Murmur3
 * avalanches (it passes SMHasher) and costs a few `Math.imul`s per 4 bytes in plain TS. It is
 * defined on little-endian blocks, so every platform and every language (`mmh3` in Python,
 * Guava's `murmur3_32` in Java) computes the same points.
 */

const utf8 = new TextEncoder();

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

export type Key = string | Uint8Array;

export function keyBytes(key: Key): Uint8Array {
  return typeof key === 'string' ? utf8.encode(key) : key;
}

/**
 * The part of a key that is hashed, by Redis Cluster's rule: if the key has a `{`, and a `}`
 * somewhere after that first `{`, and at least one byte between them, only those bytes count.
 * So `{user1}.inbox` and `{user1}.outbox` land together, while `{}x` and `x{` hash whole.
 */
export function hashTag(key: Uint8Array): Uint8Array {
  const open = key.indexOf(OPEN_BRACE);
  if (open === -1) return key;
  const close = key.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

/** The ring position of a key (a lock name, queue name or cache key), honouring `{tag}`s. */
export function hashKey(key: Key): number {
  return murmur3x86_32(hashTag(keyBytes(key)));
}

/** MurmurHash3, x86 32-bit variant (Austin Appleby, public domain). Returns an unsigned 32-bit integer. */
export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  const blockEnd = bytes.length & ~3;
  let h = seed | 0;

  for (let i = 0; i < blockEnd; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(rotl32(Math.imul(k, c1), 15), c2);
    h = rotl32(h ^ k, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }

  const tailBytes = bytes.length & 3;
  if (tailBytes > 0) {
    let k = 0;
    if (tailBytes === 3) k ^= bytes[blockEnd + 2]! << 16;
    if (tailBytes >= 2) k ^= bytes[blockEnd + 1]! << 8;
    k ^= bytes[blockEnd]!;
    h ^= Math.imul(rotl32(Math.imul(k, c1), 15), c2);
  }

  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function rotl32(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
