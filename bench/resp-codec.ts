/**
 * Micro-benchmark of the RESP codec, to back the choices written in docs/protocol.md:
 * decoding with our RequestDecoder vs raw redis-parser (which checks no limits and reads no
 * inline commands) and vs redis-parser behind a validating scan (the plan's alternative; our
 * decoder stands in for the scan, as checking every header is the same walk), and encoding into
 * a ReplyBuffer vs respjs (a Buffer per reply, joined per flush).
 *
 * Run: npx tsc -p tsconfig.json && node dist/bench/resp-codec.js
 * Prints a markdown table; the median of several samples, after a warm-up.
 */
import { createRequire } from 'node:module';
import Parser from 'redis-parser';
import { RequestDecoder } from '../src/resp/decoder.js';
import { ReplyBuffer } from '../src/resp/encoder.js';
import { array, bulk, error, int, OK, type Reply } from '../src/resp/reply.js';

/** The part of respjs (untyped CommonJS) this benchmark calls. */
interface RespJs {
  encodeString(value: string): Buffer;
  encodeInteger(value: number): Buffer;
  encodeBulk(value: string): Buffer;
  encodeBufBulk(value: Buffer): Buffer;
  encodeArray(items: Buffer[]): Buffer;
}
const Resp = createRequire(import.meta.url)('respjs') as RespJs;

const SAMPLE_MS = 300;
const SAMPLES = 5;

/** Operations per second of `round`, which does some work and returns how many operations it did. */
function opsPerSecond(round: () => number): number {
  const deadline = performance.now() + SAMPLE_MS;
  while (performance.now() < deadline) round();
  const rates: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    let ops = 0;
    const start = performance.now();
    let now = start;
    while (now - start < SAMPLE_MS) {
      ops += round();
      now = performance.now();
    }
    rates.push((ops * 1000) / (now - start));
  }
  rates.sort((a, b) => a - b);
  return rates[Math.floor(SAMPLES / 2)]!;
}

function multibulk(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function split(bytes: Buffer, chunkBytes: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes));
  return chunks;
}

interface DecodeCase {
  name: string;
  /** The socket reads one round is made of. */
  chunks: Buffer[];
  /** Whether redis-parser can read it at all. */
  resp: boolean;
}

const LIMITS = { maxBulkBytes: 512 * 1024 * 1024, maxArgs: 1024 * 1024, maxInlineBytes: 64 * 1024 };

function decodeCases(): DecodeCase[] {
  const ping = multibulk('PING');
  const set = multibulk('SET', 'key:000000000042', 'x'.repeat(100));
  const big = multibulk('SET', 'big', Buffer.alloc(1024 * 1024, 0x61));
  return [
    { name: 'PING, 1 per read (-P 1)', chunks: [ping], resp: true },
    {
      name: 'PING, 16 per read (-P 16)',
      chunks: [Buffer.concat(Array(16).fill(ping))],
      resp: true,
    },
    {
      name: 'SET 100 B, 16 per read',
      chunks: [Buffer.concat(Array(16).fill(set))],
      resp: true,
    },
    { name: 'SET 1 MiB in 64 KiB reads', chunks: split(big, 64 * 1024), resp: true },
    {
      name: 'inline PING, 16 per read',
      chunks: [Buffer.from('PING\r\n'.repeat(16))],
      resp: false,
    },
  ];
}

function oursDecoding(c: DecodeCase): () => number {
  let seen = 0;
  const decoder = new RequestDecoder(
    LIMITS,
    () => {
      seen++;
    },
    (err) => {
      throw err;
    },
  );
  return () => {
    seen = 0;
    for (const chunk of c.chunks) decoder.write(chunk);
    return seen;
  };
}

function redisParserDecoding(c: DecodeCase): () => number {
  let seen = 0;
  const parser = new Parser({
    returnBuffers: true,
    returnReply: () => {
      seen++;
    },
    returnError: (err) => {
      throw err;
    },
  });
  return () => {
    seen = 0;
    for (const chunk of c.chunks) parser.execute(chunk);
    return seen;
  };
}

function both(first: () => number, second: () => number): () => number {
  return () => {
    first();
    return second();
  };
}

interface EncodeCase {
  name: string;
  replies: Reply[];
  respjs: () => Buffer[];
}

function encodeCases(): EncodeCase[] {
  const value = 'x'.repeat(100);
  const payload = Buffer.from(value);
  const ten = Array.from({ length: 10 }, (_, i) => `member:${i}`);
  return [
    { name: '+OK', replies: [OK], respjs: () => [Resp.encodeString('OK')] },
    { name: ':12345', replies: [int(12345)], respjs: () => [Resp.encodeInteger(12345)] },
    { name: 'bulk 100 B string', replies: [bulk(value)], respjs: () => [Resp.encodeBulk(value)] },
    { name: 'bulk 100 B Buffer', replies: [bulk(payload)], respjs: () => [Resp.encodeBufBulk(payload)] },
    {
      name: '-ERR message',
      replies: [error('ERR unknown command')],
      respjs: () => [Buffer.from('-ERR unknown command\r\n')],
    },
    {
      name: 'array of 10 bulks',
      replies: [array(ten.map((m) => bulk(m)))],
      respjs: () => [Resp.encodeArray(ten.map((m) => Resp.encodeBulk(m)))],
    },
  ];
}

/** One flush worth of replies: `batch` replies, then one Buffer for socket.write. */
function oursEncoding(c: EncodeCase, batch: number): () => number {
  const out = new ReplyBuffer();
  return () => {
    for (let i = 0; i < batch; i++) for (const reply of c.replies) out.append(reply, 2);
    out.take();
    return batch;
  };
}

function respjsEncoding(c: EncodeCase, batch: number): () => number {
  return () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < batch; i++) parts.push(...c.respjs());
    if (batch === 1) return 1;
    Buffer.concat(parts);
    return batch;
  };
}

const format = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M/s` : `${(n / 1e3).toFixed(2)} k/s`);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

function main(): void {
  console.log(`Node ${process.version}, ${SAMPLES} samples of ${SAMPLE_MS} ms, median\n`);
  console.log('| decode (commands/s) | lockstep | redis-parser raw | ratio | scan + redis-parser | ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const c of decodeCases()) {
    const ours = opsPerSecond(oursDecoding(c));
    if (!c.resp) {
      console.log(`| ${c.name} | ${format(ours)} | cannot parse inline | - | - | - |`);
      continue;
    }
    const raw = opsPerSecond(redisParserDecoding(c));
    const scanned = opsPerSecond(both(oursDecoding(c), redisParserDecoding(c)));
    const cells = [format(ours), format(raw), ratio(ours, raw), format(scanned), ratio(ours, scanned)];
    console.log(`| ${c.name} | ${cells.join(' | ')} |`);
  }
  console.log('\n| encode (replies/s) | flush every | lockstep ReplyBuffer | respjs | ratio |');
  console.log('|---|---|---|---|---|');
  for (const c of encodeCases()) {
    for (const batch of [1, 16]) {
      const ours = opsPerSecond(oursEncoding(c, batch));
      const theirs = opsPerSecond(respjsEncoding(c, batch));
      console.log(`| ${c.name} | ${batch} | ${format(ours)} | ${format(theirs)} | ${ratio(ours, theirs)} |`);
    }
  }
}

main();
