import { ByteReader, ByteWriter } from '../lib/byte-codec.js';
import type { ApplyContext, StateMachine } from '../raft-runtime/machine.js';
import { error, int, OK, type Reply } from '../resp/reply.js';
import { decodeMetaCommand } from './meta/commands.js';
import { MetaState } from './meta/state.js';
import { PayloadKind } from './payload.js';

/**
 * A state machine that rides in group 0 beside the cluster metadata (the lock table). The
 * cluster layer knows nothing of what it holds: it routes the commands of its payload kind to
 * it and keeps its state in group 0's snapshot.
 */
export interface Group0Extension {
  readonly kind: PayloadKind;
  /** What it holds, for messages (`this node holds 3 locks`). */
  readonly label: string;
  /** Items held; a node holding any refuses CLUSTER.JOIN, which would discard them. */
  size(): number;
  /** Applies one command (the payload after the kind byte). Deterministic. */
  apply(body: Uint8Array, ctx: ApplyContext): Reply;
  snapshot(): Uint8Array;
  /** Empty bytes: the initial state. */
  restore(data: Uint8Array): void;
}

/** Group 0's snapshot: a format byte, the meta state, then each extension by kind. */
const GROUP0_SNAPSHOT_VERSION = 2;

/**
 * Group 0: cluster metadata plus its extensions (DESIGN.md §4, §6). Every node hosts group 0,
 * so every node applies every command and sees every change as it applies.
 */
export class MetaMachine implements StateMachine {
  state: MetaState = MetaState.empty();
  readonly #extensions: ReadonlyMap<number, Group0Extension>;
  /** Called after a cluster metadata command applied or the state was restored. */
  onMetaChange: () => void = () => {};

  constructor(extensions: readonly Group0Extension[]) {
    this.#extensions = new Map(extensions.map((e) => [e.kind, e]));
  }

  apply(payload: Uint8Array, ctx: ApplyContext): Reply {
    const kind = payload[0];
    if (kind === PayloadKind.noop) return int(ctx.index);
    if (kind === PayloadKind.meta) {
      let command: ReturnType<typeof decodeMetaCommand>;
      try {
        command = decodeMetaCommand(payload.subarray(1));
      } catch (e) {
        return error(`ERR invalid cluster command: ${(e as Error).message}`);
      }
      const result = this.state.apply(command, { index: ctx.index, timeMs: ctx.timeMs });
      if (result.ok) this.onMetaChange();
      return result.ok ? OK : error(result.error);
    }
    const extension = kind === undefined ? undefined : this.#extensions.get(kind);
    if (extension === undefined) return error(`ERR group 0 cannot apply a command of kind ${kind}`);
    return extension.apply(payload.subarray(1), ctx);
  }

  snapshot(): Uint8Array {
    const meta = this.state.snapshot();
    const w = new ByteWriter(64 + meta.byteLength);
    w.byte(GROUP0_SNAPSHOT_VERSION);
    w.bytes(meta);
    const kinds = [...this.#extensions.keys()].sort((a, b) => a - b);
    w.varint(kinds.length);
    for (const kind of kinds) {
      w.byte(kind);
      w.bytes(this.#extensions.get(kind)!.snapshot());
    }
    return w.finish();
  }

  restore(data: Uint8Array): void {
    const restored = new Set<number>();
    if (data.byteLength === 0) {
      this.state = MetaState.empty();
    } else {
      const r = new ByteReader(data);
      const version = r.byte();
      if (version !== GROUP0_SNAPSHOT_VERSION) throw new Error(`unknown group 0 snapshot version ${version}`);
      this.state = MetaState.restore(r.bytes());
      const count = r.count(2);
      for (let i = 0; i < count; i++) {
        const kind = r.byte();
        const bytes = r.bytes();
        const extension = this.#extensions.get(kind);
        if (extension === undefined) throw new Error(`group 0 snapshot holds state of unknown kind ${kind}`);
        extension.restore(bytes);
        restored.add(kind);
      }
      r.expectEnd();
    }
    for (const [kind, extension] of this.#extensions) {
      if (!restored.has(kind)) extension.restore(new Uint8Array(0));
    }
    this.onMetaChange();
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
