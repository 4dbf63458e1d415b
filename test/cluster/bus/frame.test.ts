import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import t from 'tap';
import {
  encodeFrame,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  FrameType,
  type FrameType as FrameTypeValue,
} from '../../../src/cluster/bus/frame.js';

interface Decoded {
  frames: { type: FrameTypeValue; payload: number[] }[];
  errors: string[];
}

const MAX_PAYLOAD_BYTES = 512;

function decode(chunks: readonly Uint8Array[], maxPayloadBytes = MAX_PAYLOAD_BYTES): Decoded {
  const out: Decoded = { frames: [], errors: [] };
  const decoder = new FrameDecoder({
    maxPayloadBytes,
    onFrame: (type, payload) => out.frames.push({ type, payload: [...payload] }),
    onError: (error) => out.errors.push(error.message),
  });
  for (const chunk of chunks) decoder.write(chunk);
  return out;
}

/** Cuts `bytes` at the given offsets (any order, duplicates allowed). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

const byteByByte = (bytes: Uint8Array): Uint8Array[] => Array.from(bytes, (b) => Uint8Array.of(b));

const frameType = fc.constantFrom(...Object.values(FrameType));
const frame = fc.record({ type: frameType, payload: fc.uint8Array({ maxLength: MAX_PAYLOAD_BYTES }) });
const cuts = fc.array(fc.nat(), { maxLength: 40 });

t.test('frames round-trip under any chunking, whole and byte by byte', async (t) => {
  fc.assert(
    fc.property(fc.array(frame, { maxLength: 12 }), cuts, (frames, cutPoints) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload)));
      const expected = { frames: frames.map((f) => ({ type: f.type, payload: [...f.payload] })), errors: [] };
      deepStrictEqual(decode(split(stream, cutPoints)), expected);
      deepStrictEqual(decode(byteByByte(stream)), expected);
    }),
    { numRuns: 150 },
  );
  t.pass('property held');
});

t.test('a frame of exactly maxPayloadBytes passes; one byte more is refused after its header', async (t) => {
  const full = encodeFrame(FrameType.RAFT, new Uint8Array(MAX_PAYLOAD_BYTES));
  t.equal(decode([full]).frames.length, 1);
  const over = encodeFrame(FrameType.RAFT, new Uint8Array(MAX_PAYLOAD_BYTES + 1));
  t.same(decode([over.subarray(0, FRAME_HEADER_BYTES)]).errors, [
    `frame payload of ${MAX_PAYLOAD_BYTES + 1} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`,
  ]);
});

t.test('raising the limit mid-stream applies to the next header of the same chunk', async (t) => {
  const small = encodeFrame(FrameType.HELLO, new Uint8Array(4));
  const big = encodeFrame(FrameType.RAFT, new Uint8Array(100));
  const types: number[] = [];
  const decoder: FrameDecoder = new FrameDecoder({
    maxPayloadBytes: 8,
    onFrame: (type) => {
      types.push(type);
      decoder.maxPayloadBytes = 1000;
    },
    onError: (error) => t.fail(error.message),
  });
  decoder.write(Buffer.concat([small, big]));
  t.same(types, [FrameType.HELLO, FrameType.RAFT]);
});

/** A header no decoder accepts: an unknown type byte, or a length over the limit. */
const badHeader = fc
  .oneof(
    fc.tuple(fc.nat(MAX_PAYLOAD_BYTES), fc.constantFrom(0, 9, 42, 255)),
    fc.tuple(fc.integer({ min: MAX_PAYLOAD_BYTES + 1, max: 0xffff_ffff }), frameType),
  )
  .map(([length, type]) => {
    const header = Buffer.alloc(FRAME_HEADER_BYTES);
    header.writeUInt32BE(length, 0);
    header[4] = type;
    return header;
  });

t.test('garbage after good frames: the good ones, then exactly one error', async (t) => {
  fc.assert(
    fc.property(
      fc.array(frame, { maxLength: 4 }),
      badHeader,
      fc.uint8Array({ maxLength: 2000 }),
      cuts,
      (good, header, trailing, cutPoints) => {
        const stream = Buffer.concat([...good.map((f) => encodeFrame(f.type, f.payload)), header, trailing]);
        for (const chunks of [split(stream, cutPoints), byteByByte(stream)]) {
          const out = decode(chunks);
          if (out.frames.length !== good.length || out.errors.length !== 1) return false;
        }
        return true;
      },
    ),
    { numRuns: 150 },
  );
  t.pass('property held');
});

t.test('random bytes never throw out of write() and give at most one error', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), cuts, (bytes, cutPoints) => {
      const out = decode(split(bytes, cutPoints));
      return out.errors.length <= 1;
    }),
    { numRuns: 300 },
  );
  t.pass('property held');
});

t.test('after an error the decoder ignores all input', async (t) => {
  const out: Decoded = { frames: [], errors: [] };
  const decoder = new FrameDecoder({
    maxPayloadBytes: 16,
    onFrame: (type, payload) => out.frames.push({ type, payload: [...payload] }),
    onError: (error) => out.errors.push(error.message),
  });
  decoder.write(Buffer.from('GET / HTTP/1.1\r\n'));
  decoder.write(encodeFrame(FrameType.PING, new Uint8Array(0)));
  t.equal(out.errors.length, 1);
  t.equal(out.frames.length, 0);
});
