import fc from 'fast-check';

/**
 * Byte-level generators every decoder property shares: where TCP may cut a stream, and how a
 * valid encoding gets damaged. Mutating valid input reaches far deeper into a decoder than
 * random bytes, which mostly fail at the first header.
 */

/** Cut points, taken modulo the stream length when applied. */
export const cutsArb = fc.array(fc.nat(), { maxLength: 24 });

/** Splits `bytes` at `cuts` (any order, duplicates allowed), as TCP might deliver them. */
export function split(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(whole.subarray(from, point));
    from = point;
  }
  return chunks;
}

export type Edit = readonly [at: number, byte: number, kind: 'flip' | 'insert' | 'delete' | 'cut' | 'bit'];

/** Up to `max` edits; positions are taken modulo the length when applied. */
export const editsArb = (max = 4): fc.Arbitrary<Edit[]> =>
  fc.array(
    fc.tuple(fc.nat(), fc.nat({ max: 255 }), fc.constantFrom('flip', 'insert', 'delete', 'cut', 'bit')),
    { maxLength: max },
  ) as fc.Arbitrary<Edit[]>;

/** Applies byte edits to a copy of `bytes`: overwrite, insert, delete, truncate, or flip one bit. */
export function mutate(bytes: Uint8Array, edits: readonly Edit[]): Buffer {
  const out = Array.from(bytes);
  for (const [at, byte, kind] of edits) {
    const i = at % (out.length + 1);
    if (kind === 'flip' && i < out.length) out[i] = byte;
    else if (kind === 'bit' && i < out.length) out[i] = out[i]! ^ (1 << (byte & 7));
    else if (kind === 'insert') out.splice(i, 0, byte);
    else if (kind === 'delete') out.splice(i, 1);
    else if (kind === 'cut') out.length = i;
  }
  return Buffer.from(out);
}

/** Valid encodings (from `valid`), damaged ones, and plain random bytes, in one arbitrary. */
export function hostileBytes(valid: fc.Arbitrary<Uint8Array>, maxRandom = 300): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 2, arbitrary: valid.map((b) => Buffer.from(b)) },
    { weight: 5, arbitrary: fc.tuple(valid, editsArb()).map(([b, e]) => mutate(b, e)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: maxRandom }).map((b) => Buffer.from(b)) },
  );
}
