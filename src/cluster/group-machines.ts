import { ByteReader, ByteWriter } from '../lib/byte-codec.js';
import { decodeLockCommand } from '../lock/commands.js';
import { LockTable } from '../lock/state-machine.js';
import type { LockEvent, LockResult } from '../lock/types.js';
import type { ApplyContext, StateMachine } from '../raft-runtime/machine.js';
import { error, int, NULL, OK, type Reply } from '../resp/reply.js';
import { decodeMetaCommand } from './meta/commands.js';
import { MetaState } from './meta/state.js';
import { PayloadKind } from './payload.js';

/** Group 0's snapshot: a format byte, the meta state, then the lock table. */
const GROUP0_SNAPSHOT_VERSION = 1;

/**
 * Group 0: cluster metadata and the lock table (DESIGN.md §4, §6). Every node hosts group 0, so
 * every node applies every lock event and can wake its own waiting clients (`onLockEvents`).
 */
export class MetaMachine implements StateMachine {
  state: MetaState = MetaState.empty();
  locks: LockTable = LockTable.empty();
  /**
   * Called with what each lock command did to other owners (grants, expiries, timeouts) and
   * the index of the entry that did it. Replayed entries (a restart, a lagging replica) call it
   * again: listeners must ignore events older than what they wait for.
   */
  onLockEvents: (events: readonly LockEvent[], index: number) => void = () => {};

  apply(payload: Uint8Array, ctx: ApplyContext): Reply {
    switch (payload[0]) {
      case PayloadKind.noop:
        return int(ctx.index);
      case PayloadKind.meta: {
        let command: ReturnType<typeof decodeMetaCommand>;
        try {
          command = decodeMetaCommand(payload.subarray(1));
        } catch (e) {
          return error(`ERR invalid cluster command: ${(e as Error).message}`);
        }
        const result = this.state.apply(command, { index: ctx.index, timeMs: ctx.timeMs });
        return result.ok ? OK : error(result.error);
      }
      case PayloadKind.lock: {
        let command: ReturnType<typeof decodeLockCommand>;
        try {
          command = decodeLockCommand(payload.subarray(1));
        } catch (e) {
          return error(`ERR invalid lock command: ${(e as Error).message}`);
        }
        const outcome = this.locks.apply(command, { index: ctx.index, timeMs: ctx.timeMs });
        if (outcome.events.length > 0) this.onLockEvents(outcome.events, ctx.index);
        return lockReply(outcome.result, ctx.index);
      }
      default:
        return error(`ERR group 0 cannot apply a command of kind ${payload[0]}`);
    }
  }

  snapshot(): Uint8Array {
    const meta = this.state.snapshot();
    const locks = this.locks.snapshot();
    const w = new ByteWriter(16 + meta.byteLength + locks.byteLength);
    w.byte(GROUP0_SNAPSHOT_VERSION);
    w.bytes(meta);
    w.bytes(locks);
    return w.finish();
  }

  restore(data: Uint8Array): void {
    if (data.byteLength === 0) {
      this.state = MetaState.empty();
      this.locks = LockTable.empty();
      return;
    }
    const r = new ByteReader(data);
    const version = r.byte();
    if (version !== GROUP0_SNAPSHOT_VERSION) throw new Error(`unknown group 0 snapshot version ${version}`);
    this.state = MetaState.restore(r.bytes());
    this.locks = LockTable.restore(r.bytes());
    r.expectEnd();
  }
}

/**
 * A lock result as the reply every replica stores for the session (so it must not depend on
 * the node): the service turns `queued` and `refused` into waiting or nil.
 */
function lockReply(result: LockResult, index: number): Reply {
  switch (result.kind) {
    case 'granted':
      return int(result.token);
    case 'queued':
      // The index tells the waiter which later events end its wait (see LockService).
      return { t: 'simple', v: `QUEUED ${index}` };
    case 'refused':
      return NULL;
    case 'deadlock':
      return error(`DEADLOCK waiting would close the cycle ${result.cycle.join(' -> ')}`);
    case 'released':
    case 'renewed':
    case 'cancelled':
      return int(1);
    case 'notHeld':
      return int(0);
    case 'ticked':
      return OK;
    case 'error':
      return error(result.message.startsWith('ERR') ? result.message : `ERR ${result.message}`);
  }
}

/**
 * Groups 1..P. They replicate and elect like every group; the queue state machine (DESIGN.md
 * §7) is what they will apply. Until then the only command is the no-op.
 */
export class PartitionMachine implements StateMachine {
  apply(payload: Uint8Array, ctx: ApplyContext): Reply {
    if (payload[0] === PayloadKind.noop) return int(ctx.index);
    return error(`ERR partition ${ctx.groupId} cannot apply a command of kind ${payload[0]}`);
  }

  snapshot(): Uint8Array {
    return new Uint8Array(0);
  }

  restore(_data: Uint8Array): void {}
}
