import fc from 'fast-check';
import t from 'tap';
import { hashKey, hashTag, keyBytes, murmur3x86_32 } from '../../src/cluster/hash.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

t.test('murmur3 x86_32 matches the reference vectors for every tail length', async (t) => {
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['ab', 0x9747b28c, 0x74875592],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['abc', 0, 0xb3dd93fa],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
  ];
  for (const [input, seed, expected] of vectors) {
    t.equal(murmur3x86_32(keyBytes(input), seed), expected, JSON.stringify(input));
  }
});

t.test('hash tags follow the Redis Cluster rule', async (t) => {
  const cases: [string, string][] = [
    ['{user1000}.following', 'user1000'],
    ['{user1000}.followers', 'user1000'],
    ['foo{}{bar}', 'foo{}{bar}'],
    ['foo{{bar}}zap', '{bar'],
    ['foo{bar}{zap}', 'bar'],
    ['no-tag', 'no-tag'],
    ['open{only', 'open{only'],
    ['}{x}', 'x'],
  ];
  for (const [key, tag] of cases) t.equal(text(hashTag(keyBytes(key))), tag, key);
});

t.test('a key with a tag hashes exactly as the tag alone', async (t) => {
  const noOpen = fc.string().filter((s) => !s.includes('{'));
  const tag = fc.string({ minLength: 1 }).filter((s) => !s.includes('}'));
  fc.assert(
    fc.property(noOpen, tag, fc.string(), (prefix, tagText, suffix) => {
      return hashKey(`${prefix}{${tagText}}${suffix}`) === hashKey(tagText);
    }),
  );
  t.pass('property held');
});

t.test('a string and its UTF-8 bytes hash alike', async (t) => {
  fc.assert(fc.property(fc.string(), (key) => hashKey(key) === hashKey(Buffer.from(key, 'utf8'))));
  t.pass('property held');
});
