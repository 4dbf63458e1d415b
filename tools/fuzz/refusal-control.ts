import { MetaMachine } from '../../src/cluster/group-machines.js';
import { PayloadKind, withKind } from '../../src/cluster/payload.js';
import { encodeLockCommand } from '../../src/lock/commands.js';
import { LockMachine } from '../../src/lock/machine.js';
import { QueueMachine } from '../../src/queue/machine.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/queue/rows.js';
import { QueueStateMachine } from '../../src/queue/state-machine.js';
import type { ApplyContext, StateMachine } from '../../src/raft-runtime/machine.js';

/**
 * What a machine's snapshot must be after it refused an entry. Not simply the snapshot before
 * it: every entry carries the leader's clock, and the lock table and the queues first process
 * whatever fell due by then (leases expire, delayed messages become ready, dedup keys lapse),
 * whatever the command. So the control is a twin restored from the snapshot before, given a
 * `tick` of the same kind at the same index and time: exactly the time's effect, no command's.
 */
export function refusalControl(
  machine: StateMachine,
  before: Uint8Array,
  payload: Uint8Array,
  ctx: ApplyContext,
): Uint8Array {
  const kind = payload[0];
  if (machine instanceof MetaMachine) {
    const twin = new MetaMachine([new LockMachine()]);
    twin.restore(before);
    if (kind === PayloadKind.lock)
      twin.apply(withKind(PayloadKind.lock, encodeLockCommand({ op: 'tick' })), ctx);
    return twin.snapshot();
  }
  if (machine instanceof QueueMachine && kind === PayloadKind.queue) {
    const rows = decodeSnapshot(before);
    const twin = QueueStateMachine.fromRows(rows.queues, rows.messages, rows.dedup);
    twin.apply({ op: 'tick' }, { index: ctx.index, timeMs: ctx.timeMs });
    return encodeSnapshot(twin.rows());
  }
  return before;
}
