import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { AclStore } from '../../src/acl/store.js';
import { commandTable } from '../../src/commands/table.js';
import { loadConfig } from '../../src/config/load.js';
import { configView } from '../../src/config/view.js';
import { type RunningNode, startNode } from '../../src/node.js';
import type { StateMachine } from '../../src/raft-runtime/machine.js';
import { encodeReply } from '../../src/resp/encoder.js';
import type { Reply } from '../../src/resp/reply.js';
import type { Authenticator } from '../../src/server/session.js';
import { Session } from '../../src/server/session.js';
import { refusalControl } from './refusal-control.js';

/**
 * A real single-node cluster in this process (the composition root, src/node.ts, as the
 * binary builds it), driven through its dispatcher: the command fuzzer's path from argument
 * vector to handler, service, Raft and state machines is the production one, minus sockets.
 *
 * It watches what a rejected input must not do:
 * - every state machine's `apply` is wrapped: an entry whose reply is an error must leave the
 *   machine's snapshot as a mere tick at that index and time would (refusal-control.ts);
 * - `fingerprint()` hashes every group's machine snapshot plus the cache state of the keys the
 *   fuzzer uses, to compare around a command refused before it reached the log;
 * - anything logged at error level (a handler that threw, a failed apply) is collected.
 *
 * The bus never dials out: a fuzzed CLUSTER.JOIN must not find another cluster on this host.
 */

/** Small limits, so that generated commands hit them (queue length, waiters) and get refused. */
const NODE_ARGS = [
  '--partitions',
  '2',
  '--fsync',
  'no',
  '--request-timeout-ms',
  '250',
  '--lock-max-waiters',
  '3',
  '--queue-max-length',
  '40',
  '--snapshot-after-entries',
  '300',
  '--cache-max-bytes',
  '4096',
];

export interface Violation {
  readonly what: string;
  readonly detail: string;
}

export class FuzzNode {
  readonly #node: RunningNode;
  readonly #authenticator: Authenticator;
  readonly #dataDir: string;
  readonly #cacheKeys: readonly string[];
  readonly #wrapped = new WeakSet<StateMachine>();
  #session: Session;
  #nextSessionId = 1;
  /** Entries applied by any machine so far: a rejection with none in between changed nothing. */
  applies = 0;
  /** Applies whose reply was an error, checked for an unchanged machine. */
  rejectedApplies = 0;
  readonly violations: Violation[] = [];

  private constructor(
    node: RunningNode,
    authenticator: Authenticator,
    dataDir: string,
    cacheKeys: readonly string[],
  ) {
    this.#node = node;
    this.#authenticator = authenticator;
    this.#dataDir = dataDir;
    this.#cacheKeys = cacheKeys;
    this.#session = this.#newSession();
    node.cluster.transport.dialAddress = async () => {
      throw new Error('the fuzz harness does not dial');
    };
  }

  /** `cacheKeys`: the keys whose cache lines the fingerprint covers (the fuzzer's key pool). */
  static async start(cacheKeys: readonly string[]): Promise<FuzzNode> {
    const dataDir = mkdtempSync(join(tmpdir(), 'lockstep-fuzz-'));
    const config = loadConfig({
      argv: [
        '--port',
        '0',
        '--bus-port',
        '0',
        '--http-port',
        '0',
        '--id',
        'n1',
        '--data',
        dataDir,
        ...NODE_ARGS,
      ],
      env: {},
    });
    const authenticator = AclStore.fromText(null, {
      requirepass: config.requirepass,
      commands: [...commandTable.all()].map((spec) => spec.name),
    });
    let fuzz: FuzzNode | undefined;
    const errors = new Writable({
      write(line: Buffer, _encoding, done) {
        fuzz?.violations.push({ what: 'error logged', detail: line.toString().slice(0, 2000) });
        done();
      },
    });
    const node = await startNode({
      config,
      logger: pino({ level: 'error' }, errors),
      authenticator,
      bindHost: '127.0.0.1',
      configView: () => configView(config),
    });
    fuzz = new FuzzNode(node, authenticator, dataDir, cacheKeys);
    await fuzz.#ready(config.partitions);
    return fuzz;
  }

  /** Every group elected and applying: a no-op through each answers with its index. */
  async #ready(partitions: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (let g = 0; g <= partitions; g++) {
      for (;;) {
        const reply = await this.#node.dispatcher.execute(this.#session, [
          Buffer.from('RAFT.NOOP'),
          Buffer.from(String(g)),
        ]);
        if (reply.t === 'int') break;
        if (Date.now() > deadline) throw new Error(`group ${g} not ready: ${JSON.stringify(reply)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    this.#wrapMachines();
  }

  get session(): Session {
    return this.#session;
  }

  /** A fresh client: after QUIT, or when one was left blocked and closed. */
  replaceSession(): void {
    this.#session.markClosed();
    this.#session = this.#newSession();
  }

  #newSession(): Session {
    return new Session(
      this.#nextSessionId++,
      '127.0.0.1:1',
      '127.0.0.1:2',
      Date.now(),
      this.#authenticator.initialUser(),
    );
  }

  execute(args: Buffer[]): Reply | Promise<Reply> {
    this.#wrapMachines();
    return this.#node.dispatcher.execute(this.#session, args);
  }

  /** Hashes every group's machine snapshot and the cache lines of the fuzzer's keys. */
  fingerprint(): string {
    const hash = createHash('sha256');
    const host = this.#node.cluster.host;
    for (const g of host.groupIds()) {
      hash.update(`group ${g}\n`);
      hash.update(host.group(g)!.machine.inner.snapshot());
    }
    const probe = new Session(0, 'fuzz', 'fuzz', 0, this.#authenticator.initialUser());
    for (const key of this.#cacheKeys) {
      const reply = this.#node.dispatcher.execute(probe, [Buffer.from('CACHE.STATE'), Buffer.from(key)]);
      if (reply instanceof Promise) throw new Error('CACHE.STATE did not answer at once');
      hash.update(encodeReply(reply, 3));
    }
    return hash.digest('hex');
  }

  /** Groups appear as the cluster starts and after snapshots: wrap every machine once. */
  #wrapMachines(): void {
    const host = this.#node.cluster.host;
    for (const g of host.groupIds()) {
      const machine = host.group(g)!.machine.inner;
      if (this.#wrapped.has(machine)) continue;
      this.#wrapped.add(machine);
      const apply = machine.apply.bind(machine);
      machine.apply = (payload, ctx) => {
        this.applies++;
        const before = machine.snapshot();
        const reply = apply(payload, ctx);
        if (reply.t === 'error') {
          this.rejectedApplies++;
          const after = machine.snapshot();
          if (Buffer.compare(refusalControl(machine, before, payload, ctx), after) !== 0) {
            this.violations.push({
              what: `group ${g} changed its state on a refused entry`,
              detail: `${reply.v}\nentry payload ${Buffer.from(payload).toString('hex').slice(0, 400)}`,
            });
          }
        }
        return reply;
      };
    }
  }

  async close(): Promise<void> {
    this.#session.markClosed();
    await this.#node.close();
    rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
