import type { ApplyContext, StateMachine } from '../raft-runtime/machine.js';
import { error, int, OK, type Reply } from '../resp/reply.js';
import { decodeMetaCommand } from './meta/commands.js';
import { MetaState } from './meta/state.js';
import { PayloadKind } from './payload.js';

/** Group 0: cluster metadata (and, with the lock manager, the lock table). */
export class MetaMachine implements StateMachine {
  state: MetaState = MetaState.empty();

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
      default:
        return error(`ERR group 0 cannot apply a command of kind ${payload[0]}`);
    }
  }

  snapshot(): Uint8Array {
    return this.state.snapshot();
  }

  restore(data: Uint8Array): void {
    this.state = data.byteLength === 0 ? MetaState.empty() : MetaState.restore(data);
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
