import { PayloadKind } from '../cluster/payload.js';
import type { ApplyContext, DurableStateMachine } from '../raft-runtime/machine.js';
import { array, bulk, error, int, map, OK, type Reply } from '../resp/reply.js';
import { decodeQueueCommand } from './commands.js';
import { decodeSnapshot, encodeSnapshot } from './rows.js';
import type { QueueTables } from './sqlite-store.js';
import { QueueStateMachine } from './state-machine.js';
import type { QueueConfig, QueueEvent, QueueMessage, QueueResult } from './types.js';

/**
 * One partition's queues as a Raft group's state machine (DESIGN.md §7): decodes queue
 * commands, applies them to the pure `QueueStateMachine`, and keeps its rows in `raft.sqlite`
 * (`QueueTables`), written by the Raft host in the same transaction as the applied index. A
 * snapshot of the partition is its rows, encoded; installing one replaces the rows.
 */
export class QueueMachine implements DurableStateMachine {
  readonly durable = true;
  readonly groupId: number;
  state: QueueStateMachine = QueueStateMachine.empty();
  readonly #tables: QueueTables;
  /** After a restore: the next persist replaces every stored row of the partition. */
  #replaceRows = false;
  /**
   * What each apply made poppable, with the entry's index. Replayed entries (a restart, a
   * lagging replica) call it again; listeners treat it only as a hint to try again.
   */
  onEvents: (events: readonly QueueEvent[], index: number) => void = () => {};

  constructor(groupId: number, tables: QueueTables) {
    this.groupId = groupId;
    this.#tables = tables;
  }

  apply(payload: Uint8Array, ctx: ApplyContext): Reply {
    const kind = payload[0];
    if (kind === PayloadKind.noop) return int(ctx.index);
    if (kind !== PayloadKind.queue) {
      return error(`ERR partition ${this.groupId} cannot apply a command of kind ${kind}`);
    }
    let command: ReturnType<typeof decodeQueueCommand>;
    try {
      command = decodeQueueCommand(payload.subarray(1));
    } catch (e) {
      return error(`ERR invalid queue command: ${(e as Error).message}`);
    }
    const outcome = this.state.apply(command, { index: ctx.index, timeMs: ctx.timeMs });
    if (outcome.events.length > 0) this.onEvents(outcome.events, ctx.index);
    return queueReply(outcome.result);
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.state.rows());
  }

  restore(data: Uint8Array): void {
    if (data.byteLength === 0) {
      this.state = QueueStateMachine.empty();
    } else {
      const rows = decodeSnapshot(data);
      this.state = QueueStateMachine.fromRows(rows.queues, rows.messages, rows.dedup);
    }
    this.state.takeChanges();
    this.#replaceRows = true;
  }

  load(): void {
    const rows = this.#tables.load(this.groupId);
    this.state = QueueStateMachine.fromRows(rows.queues, rows.messages, rows.dedup);
    this.state.takeChanges();
    this.#replaceRows = false;
  }

  persist(): void {
    if (this.#replaceRows) {
      this.state.takeChanges();
      this.#tables.replace(this.groupId, this.state.rows());
      this.#replaceRows = false;
      return;
    }
    this.#tables.write(this.groupId, this.state.takeChanges());
  }

  destroy(): void {
    this.#tables.deleteGroup(this.groupId);
  }
}

/** A message as replied: [id, payload, deliveries]. */
export function messageReply(m: QueueMessage): Reply {
  return array([bulk(m.id), bulk(asBuffer(m.payload)), int(m.deliveries)]);
}

export function configReply(c: QueueConfig): Reply {
  return map({
    maxdeliveries: int(c.maxDeliveries),
    'visibility-ms': int(c.visibilityMs),
    maxlen: int(c.maxLen),
  });
}

/**
 * The reply every replica stores for the proposer's session, so it does not depend on the
 * node or on how the client asked: the service reshapes it (one id, one message, nil).
 */
function queueReply(result: QueueResult): Reply {
  switch (result.kind) {
    case 'pushed':
      return array(result.ids.map((id) => bulk(id)));
    case 'popped':
      return array(result.messages.map(messageReply));
    case 'count':
      return int(result.n);
    case 'config':
      return configReply(result.config);
    case 'ticked':
      return OK;
    case 'error':
      return error(`${result.code} ${result.message}`);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
