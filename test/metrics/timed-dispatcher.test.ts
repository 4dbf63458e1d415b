import t from 'tap';
import { commandTable } from '../../src/commands/table.js';
import { CommandLatency } from '../../src/metrics/command-latency.js';
import { TimedDispatcher } from '../../src/metrics/timed-dispatcher.js';
import { OK, PONG } from '../../src/resp/reply.js';
import { Session } from '../../src/server/session.js';

const argv = (...words: string[]) => words.map((w) => Buffer.from(w));
const session = () => new Session(1, 'r', 'l', 0, { name: 'default', can: () => true });

t.test(
  'CommandLatency: one histogram per command, whatever the spelling; unknown commands none',
  async (t) => {
    const latency = new CommandLatency(commandTable);
    const ping = latency.histogramFor(argv('PING'));
    t.ok(ping);
    t.equal(latency.histogramFor(argv('ping')), ping);
    t.equal(latency.histogramFor(argv('PiNg')), ping);
    t.equal(latency.histogramFor(argv('NOSUCH')), undefined);
    t.equal(latency.histogramFor([]), undefined);
    const clientId = latency.histogramFor(argv('CLIENT', 'ID'));
    t.equal(latency.histogramFor(argv('client', 'id')), clientId);
    t.not(latency.histogramFor(argv('CLIENT', 'LIST')), clientId, 'each subcommand apart');
    const client = latency.histogramFor(argv('CLIENT', 'NOPE'));
    t.equal(
      latency.histogramFor(argv('CLIENT')),
      client,
      'an unknown or missing subcommand counts under the parent',
    );
    t.equal(
      latency.histogramFor(argv('PING')),
      ping,
      'the last-name shortcut stays right after other commands',
    );
    t.same(
      latency
        .snapshots()
        .map(([name]) => name)
        .sort(),
      ['client', 'client|id', 'client|list', 'ping'],
      'histograms exist only for commands seen',
    );
  },
);

t.test('TimedDispatcher times synchronous and asynchronous commands, each once', async (t) => {
  const latency = new CommandLatency(commandTable);
  const dispatcher = new TimedDispatcher(commandTable, () => {}, latency);
  dispatcher.register('ping', () => PONG);
  dispatcher.register('raft.noop', () => new Promise((resolve) => setTimeout(() => resolve(OK), 30)));
  const s = session();
  for (let i = 0; i < 5; i++) dispatcher.execute(s, argv('PING'));
  const waited = dispatcher.execute(s, argv('RAFT.NOOP'));
  dispatcher.execute(s, argv('PING'));
  t.same(await waited, OK);
  dispatcher.execute(s, argv('NOSUCH'));
  dispatcher.execute(s, argv('PING', 'a', 'b', 'c'));
  const snap = new Map(latency.snapshots());
  t.equal(snap.get('ping')?.count, 7, 'five in a row, one after the wait, one refused for its arity');
  t.ok((snap.get('ping')?.sumSeconds ?? 1) < 0.02, 'a PING is not charged with the wait before it');
  t.equal(snap.get('raft.noop')?.count, 1);
  t.ok(
    (snap.get('raft.noop')?.sumSeconds ?? 0) >= 0.025,
    `the wait is timed: ${snap.get('raft.noop')?.sumSeconds}`,
  );
  t.equal(snap.has('nosuch'), false);
});

t.test('a new synchronous run starts its own clock', async (t) => {
  const latency = new CommandLatency(commandTable);
  const dispatcher = new TimedDispatcher(commandTable, () => {}, latency);
  dispatcher.register('ping', () => PONG);
  const s = session();
  dispatcher.execute(s, argv('PING'));
  await new Promise((r) => setTimeout(r, 50));
  dispatcher.execute(s, argv('PING'));
  const ping = new Map(latency.snapshots()).get('ping')!;
  t.equal(ping.count, 2);
  t.ok(ping.sumSeconds < 0.02, `the idle time between two reads is nobody's: ${ping.sumSeconds}`);
});
