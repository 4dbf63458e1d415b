import t from 'tap';
import { SeededRandom } from '../../src/lib/random.js';
import { ConfigError, leaseTicks, type RaftConfig, validateConfig } from '../../src/raft/config.js';
import { MemoryStorage } from '../../src/raft/storage.js';

const base: RaftConfig = { groupId: 3, id: 'n1', storage: new MemoryStorage(), random: new SeededRandom(1) };

t.test('defaults: elections after 10-19 ticks, heartbeat every tick, PreVote and CheckQuorum on', (t) => {
  const c = validateConfig(base);
  t.equal(c.electionTimeoutTicks, 10);
  t.equal(c.heartbeatTicks, 1);
  t.ok(c.preVote);
  t.ok(c.checkQuorum);
  t.equal(c.readOnly, 'safe');
  t.equal(c.snapshotChunkBytes, 256 * 1024);
  t.end();
});

t.test('bad values are refused with one clear message naming group, node and field', (t) => {
  const bad: [Partial<RaftConfig>, RegExp][] = [
    [{ electionTimeoutTicks: 0 }, /group 3, node n1: electionTimeoutTicks must be a positive integer, got 0/],
    [{ heartbeatTicks: 10 }, /heartbeatTicks \(10\) must be less than electionTimeoutTicks \(10\)/],
    [{ id: '' }, /id must be a non-empty string/],
    [{ groupId: -1 }, /groupId must be an integer/],
    [{ maxInflightMsgs: 1.5 }, /maxInflightMsgs must be a positive integer/],
    [{ readOnly: 'fast' as never }, /readOnly must be 'safe' or 'lease'/],
    [{ readOnly: 'lease', checkQuorum: false }, /needs checkQuorum/],
    [{ readOnly: 'lease', electionTimeoutTicks: 2 }, /leaves no lease/],
    [{ maxClockDriftRatio: 1 }, /maxClockDriftRatio must be in \[0, 1\)/],
  ];
  for (const [override, message] of bad) {
    t.throws(
      () => validateConfig({ ...base, ...override }),
      { name: 'ConfigError', message },
      message.source,
    );
  }
  t.ok(new ConfigError('x') instanceof Error);
  t.end();
});

t.test('the lease is shorter than the election timeout by tick granularity and clock drift', (t) => {
  t.equal(leaseTicks({ electionTimeoutTicks: 10, maxClockDriftRatio: 0 }), 9);
  t.equal(leaseTicks({ electionTimeoutTicks: 10, maxClockDriftRatio: 0.05 }), 8);
  t.equal(leaseTicks({ electionTimeoutTicks: 10, maxClockDriftRatio: 0.2 }), 6);
  t.end();
});
