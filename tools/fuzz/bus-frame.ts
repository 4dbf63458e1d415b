import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, FrameType, isFrameType } from '../../src/cluster/bus/frame.js';
import { ProtocolError } from '../../src/lib/errors.js';
import { cutsArb, hostileBytes, split } from './bytes.js';
import { check, type FuzzProperty } from './property.js';

/**
 * The bus frame decoder (src/cluster/bus/frame.ts): whatever a peer or a stranger sends, it
 * yields frames of known types within the payload limit, then at most one `ProtocolError`, never
 * throws, and cuts the stream the same way however the bytes are chunked.
 */

type Event = { type: number; payload: string } | { error: string };

function decode(chunks: readonly Uint8Array[], maxPayloadBytes: number): Event[] {
  const events: Event[] = [];
  const decoder = new FrameDecoder({
    maxPayloadBytes,
    onFrame: (type, payload) => events.push({ type, payload: Buffer.from(payload).toString('hex') }),
    onError: (err) => {
      check(err instanceof ProtocolError, `onError got ${String(err)}, not a ProtocolError`);
      events.push({ error: err.message });
    },
  });
  for (const chunk of chunks) decoder.write(chunk);
  return events;
}

const frameTypeArb = fc.constantFrom(...Object.values(FrameType));
const frameArb = fc.record({ type: frameTypeArb, payload: fc.uint8Array({ maxLength: 64 }) });
const streamArb = fc
  .array(frameArb, { maxLength: 6 })
  .map((frames) => ({ frames, bytes: Buffer.concat(frames.map((f) => encodeFrame(f.type, f.payload))) }));

const roundTrip: FuzzProperty = {
  name: 'bus/frame-round-trip',
  async setup() {
    return {
      property: fc.property(streamArb, cutsArb, ({ frames, bytes }, cuts) => {
        const expected = frames.map((f) => ({
          type: f.type,
          payload: Buffer.from(f.payload).toString('hex'),
        }));
        deepStrictEqual(decode(split(bytes, cuts), 64), expected);
      }),
    };
  },
};

const hostile: FuzzProperty = {
  name: 'bus/frame-hostile',
  async setup() {
    return {
      property: fc.property(
        hostileBytes(streamArb.map((s) => s.bytes)),
        cutsArb,
        fc.constantFrom(0, 8, 64, 1024),
        (bytes, cuts, limit) => {
          const whole = decode([bytes], limit);
          deepStrictEqual(decode(split(bytes, cuts), limit), whole, 'the same events whether whole or cut');
          if (bytes.length <= 200) {
            deepStrictEqual(decode(split(bytes, [...bytes.keys()]), limit), whole, 'the same byte by byte');
          }
          const errorAt = whole.findIndex((e) => 'error' in e);
          check(errorAt < 0 || errorAt === whole.length - 1, 'nothing after the error');
          for (const e of whole) {
            if ('error' in e) continue;
            check(isFrameType(e.type), `frame of unknown type ${e.type}`);
            check(e.payload.length / 2 <= limit, 'frame payload within the limit');
          }
        },
      ),
    };
  },
};

export const busFrameProperties: readonly FuzzProperty[] = [roundTrip, hostile];
