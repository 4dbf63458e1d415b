import type { Group0Extension } from '../cluster/group-machines.js';
import { PayloadKind } from '../cluster/payload.js';
import type { ApplyContext } from '../raft-runtime/machine.js';
import { error, int, NULL, OK, type Reply } from '../resp/reply.js';
import { decodeLockCommand } from './commands.js';
import { LockTable } from './state-machine.js';
import type { LockEvent, LockResult } from './types.js';

/**
 * The lock table as part of group 0: decodes lock commands, applies them to the table and
 * turns results into the replies every replica stores for the proposer's session.
 */
export class LockMachine implements Group0Extension {
  readonly kind = PayloadKind.lock;
  readonly label = 'locks';
  table: LockTable = LockTable.empty();
  /**
   * Called with what each lock command did to other owners (grants, expiries, timeouts) and
   * the index of the entry that did it. Replayed entries (a restart, a lagging replica) call it
   * again: listeners must ignore events older than what they wait for.
   */
  onEvents: (events: readonly LockEvent[], index: number) => void = () => {};

  size(): number {
    return this.table.size;
  }

  apply(body: Uint8Array, ctx: ApplyContext): Reply {
    let command: ReturnType<typeof decodeLockCommand>;
    try {
      command = decodeLockCommand(body);
    } catch (e) {
      return error(`ERR invalid lock command: ${(e as Error).message}`);
    }
    const outcome = this.table.apply(command, { index: ctx.index, timeMs: ctx.timeMs });
    if (outcome.events.length > 0) this.onEvents(outcome.events, ctx.index);
    return lockReply(outcome.result, ctx.index);
  }

  snapshot(): Uint8Array {
    return this.table.snapshot();
  }

  restore(data: Uint8Array): void {
    this.table = data.byteLength === 0 ? LockTable.empty() : LockTable.restore(data);
  }
}

/**
 * A lock result as the reply every replica stores for the session (so it must not depend on
 * the node): the service turns `queued` into waiting.
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
