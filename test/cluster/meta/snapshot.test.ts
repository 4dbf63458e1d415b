import fc from 'fast-check';
import t from 'tap';
import { MetaCodecError, type MetaCommand } from '../../../src/cluster/meta/commands.js';
import { MetaState } from '../../../src/cluster/meta/state.js';
import { Log, nodeIds, plausibleCommand, plausibleSequence } from './helpers.js';

const hex = (s: MetaState): string => Buffer.from(s.snapshot()).toString('hex');

/** Everything the state answers, as one comparable value. */
function view(s: MetaState): unknown {
  if (!s.initialized) return { initialized: false, epoch: s.epoch };
  const groups = Array.from({ length: s.partitions + 1 }, (_, g) => [s.desired(g), s.observed(g) ?? null]);
  return {
    shape: [s.partitions, s.replicas, s.metaVotersMax, s.epoch],
    members: s.members(),
    removed: nodeIds.filter((id) => s.isRemoved(id)),
    groups,
    groupsOf: nodeIds.map((id) => s.groupsOf(id)),
    ring: s.ringNodeIds(),
  };
}

const sequence = plausibleSequence;

function run(commands: readonly MetaCommand[], from = MetaState.empty(), firstIndex = 1): MetaState {
  for (const [i, cmd] of commands.entries()) {
    from.apply(cmd, { index: firstIndex + i, timeMs: 5000 + 7 * (firstIndex + i) });
  }
  return from;
}

t.test('the empty state round-trips', async (t) => {
  const s = MetaState.empty();
  const r = MetaState.restore(s.snapshot());
  t.same(view(r), view(s));
  t.equal(hex(r), hex(s));
  t.equal(s.snapshot()[0], 1, 'versioned');
});

t.test('a restored state is equal to the original, byte for byte', async (t) => {
  const log = Log.cluster(5, { partitions: 6, replicas: 3, metaVotersMax: 3 });
  log.ok({ op: 'conf', group: 2, voters: ['n3', 'n1'], learners: ['n7'] });
  log.ok({ op: 'down', id: 'n2' });
  log.ok({ op: 'evict', id: 'n2' });
  log.ok({ op: 'leave', id: 'n5' });
  log.ok({ op: 'remove', id: 'n5' });
  const r = MetaState.restore(log.state.snapshot());
  t.same(view(r), view(log.state));
  t.equal(hex(r), hex(log.state));
});

t.test('same commands, same bytes; a restored replica continues identically', async (t) => {
  fc.assert(
    fc.property(sequence, fc.nat(), (commands, cut) => {
      const a = run(commands);
      const b = run(commands);
      if (hex(a) !== hex(b)) return false;
      // Snapshot part way, restore, apply the rest: same as never having stopped.
      const at = commands.length === 0 ? 0 : cut % (commands.length + 1);
      const head = run(commands.slice(0, at));
      const restored = MetaState.restore(head.snapshot());
      run(commands.slice(at), restored, at + 1);
      t.same(view(restored), view(a));
      return hex(restored) === hex(a);
    }),
    { numRuns: 300 },
  );
  t.pass('property held');
});

t.test('a failed command changes nothing', async (t) => {
  fc.assert(
    fc.property(sequence, plausibleCommand, (commands, extra) => {
      const s = run(commands);
      const before = hex(s);
      const r = s.apply(extra, { index: commands.length + 1, timeMs: 1e9 });
      if (r.ok) return true;
      return r.error.startsWith('ERR ') && hex(s) === before;
    }),
    { numRuns: 300 },
  );
  t.pass('property held');
});

t.test('random states keep their invariants', async (t) => {
  fc.assert(
    fc.property(sequence, (commands) => {
      const s = run(commands);
      if (!s.initialized) return true;
      const ids = s.members().map((m) => m.id);
      const g0 = s.desired(0);
      t.ok(g0.voters.length <= s.metaVotersMax);
      t.same([...g0.voters, ...g0.learners].sort(), [...ids].sort(), 'group 0 is every member');
      const ring = s.ringNodeIds();
      for (let p = 1; p <= s.partitions; p++) {
        const d = s.desired(p);
        if (ring.length > 0) {
          t.equal(d.voters.length, Math.min(s.replicas, ring.length));
          t.ok(d.voters.every((id) => ring.includes(id)));
        } else {
          t.same(d.voters, s.observed(p)?.voters ?? []);
        }
      }
      const joined = s.members().map((m) => m.joinedIndex);
      t.same(
        joined,
        [...joined].sort((a, b) => a - b),
      );
      return true;
    }),
    { numRuns: 100 },
  );
});

t.test('corrupt snapshots are refused with MetaCodecError', async (t) => {
  const log = Log.cluster(3, { partitions: 4, replicas: 3, metaVotersMax: 3 });
  log.ok({ op: 'conf', group: 1, voters: ['n1', 'n2'], learners: ['n3'] });
  const good = log.state.snapshot();
  for (let n = 0; n < good.length; n++) {
    t.throws(() => MetaState.restore(good.subarray(0, n)), MetaCodecError, `truncated to ${n} bytes`);
  }
  t.throws(() => MetaState.restore(Uint8Array.of(...good, 0)), /trailing/);
  t.throws(() => MetaState.restore(Uint8Array.of(2, 0)), /meta snapshot: unknown version 2/);

  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), (at, b) => {
      const bytes = good.slice();
      bytes[at % bytes.length] = b;
      try {
        const s = MetaState.restore(bytes);
        // Whatever restores is a well-formed state that snapshots back to the same bytes.
        return Buffer.from(s.snapshot()).equals(Buffer.from(bytes));
      } catch (e) {
        return e instanceof MetaCodecError;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass('single-byte corruptions were refused or harmless');
});
