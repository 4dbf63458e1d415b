import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { HostPort } from '../config/setting.js';
import { CodecError } from '../lib/byte-codec.js';
import { steadyNowMs } from '../lib/clock.js';
import { systemRandom } from '../lib/random.js';
import { encodeEnvelope } from '../raft-runtime/envelope.js';
import { APPENDED_BUT_UNKNOWN, RaftUnavailable } from '../raft-runtime/group.js';
import { RaftHost } from '../raft-runtime/host.js';
import type { StateMachine } from '../raft-runtime/machine.js';
import { RaftDb } from '../raft-runtime/raft-db.js';
import { error, OK, type Reply } from '../resp/reply.js';
import { FrameType } from './bus/frame.js';
import { type BusSocketFactory, BusTransport } from './bus/transport.js';
import { Controller } from './controller.js';
import type { ForwardReply, ForwardRequest } from './forward-codec.js';
import { Forwarder, ForwardFailed } from './forwarder.js';
import { type Group0Extension, MetaMachine, PartitionMachine } from './group-machines.js';
import { encodeMetaCommand, type MemberAddress, type MetaCommand } from './meta/commands.js';
import type { MetaState } from './meta/state.js';
import { NOOP_PAYLOAD, PayloadKind, withKind } from './payload.js';
import { Proposer } from './proposer.js';

export interface ClusterNodeOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Address the listeners bind to (after protected mode). */
  readonly bindHost: string;
  /** The RESP and HTTP ports actually listened on (port 0 in tests picks one). */
  readonly port: number;
  readonly httpPort: number;
  /** State machines that live in group 0 beside the metadata (the lock table). */
  readonly group0Extensions: readonly Group0Extension[];
  /** The state machine of partition `groupId` (the queues); a no-op machine when absent. */
  readonly partitionMachine?: (groupId: number, db: RaftDb) => StateMachine;
  /**
   * Read-only requests by payload kind, answered on a node hosting a replica of the group
   * (`query`). The handler gets the group, the request body after the kind byte, and how long
   * it may take; it must not throw.
   */
  readonly queryHandlers?: ReadonlyMap<PayloadKind, QueryHandler>;
  /**
   * Handlers of other bus frame types (the cache's coherence messages), called with the peer
   * and the payload. A CodecError they throw drops the frame with a warning.
   */
  readonly frameHandlers?: ReadonlyMap<number, (peer: string, payload: Uint8Array) => void>;
  /** How bus sockets are made: mutual TLS with `--tls-bus` (bus/tls-sockets.ts); plain TCP by default. */
  readonly busSockets?: BusSocketFactory;
}

export type QueryHandler = (groupId: number, body: Uint8Array, timeoutMs: number) => Promise<Reply>;

/** A forwarded query may take its own timeout plus this for the round trip. */
const QUERY_SLACK_MS = 1000;

/** How often the controller reconciles this node with group 0 (a few heartbeats). */
const CONTROLLER_INTERVAL_MS = 100;
const JOIN_RETRY_MS = 500;

/**
 * One node's membership in the cluster: the bus, the Raft groups it hosts, the forwarding of
 * requests to their leaders, and the controller that follows group 0. `node.ts` builds it;
 * command handlers use `propose`, `read` and the status accessors.
 */
export class ClusterNode {
  readonly id: string;
  readonly self: MemberAddress;
  readonly host: RaftHost;
  readonly transport: BusTransport;
  readonly db: RaftDb;
  readonly forwarder: Forwarder;
  readonly proposer: Proposer;
  readonly controller: Controller;
  #config: Config;
  readonly #log: Logger;
  readonly #lastHeardMs = new Map<string, number>();
  readonly #startedMs = steadyNowMs();
  #meta: MetaMachine | undefined;
  readonly #extensions: readonly Group0Extension[];
  readonly #queryHandlers: ReadonlyMap<PayloadKind, QueryHandler>;
  readonly #frameHandlers: ReadonlyMap<number, (peer: string, payload: Uint8Array) => void>;
  #passScheduled = false;
  readonly #linkListeners: ((peer: string, up: boolean) => void)[] = [];
  #controllerTimer: NodeJS.Timeout | undefined;
  #joining = false;
  #closed = false;

  private constructor(o: ClusterNodeOptions, busPort: number, transport: BusTransport, db: RaftDb) {
    const { config } = o;
    this.id = config.id;
    this.#extensions = o.group0Extensions;
    this.#queryHandlers = o.queryHandlers ?? new Map();
    this.#frameHandlers = o.frameHandlers ?? new Map();
    this.#config = config;
    this.#log = o.logger.child({ component: 'cluster' });
    this.db = db;
    this.transport = transport;
    this.self = {
      id: config.id,
      host: announceHost(config, o.bindHost),
      port: o.port,
      busPort,
      httpPort: o.httpPort,
    };
    const tickMs = config.heartbeatMs;
    this.host = new RaftHost({
      nodeId: config.id,
      db,
      send: (peer, payload) => transport.send(peer, FrameType.RAFT, payload, { droppable: true }),
      flush: () => transport.flushNow(),
      machineFor: (groupId) => {
        if (groupId !== 0) return o.partitionMachine?.(groupId, db) ?? new PartitionMachine();
        this.#meta = new MetaMachine(this.#extensions);
        this.#meta.onMetaChange = () => this.#schedulePass();
        return this.#meta;
      },
      random: systemRandom,
      tickMs,
      electionTimeoutTicks: Math.max(2, Math.round(config.electionTimeoutMs / tickMs)),
      heartbeatTicks: 1,
      maxInflightMsgs: config.raftMaxInflight,
      maxMsgBytes: config.raftMaxAppendBytes,
      snapshotChunkBytes: config.snapshotChunkBytes,
      snapshotAfterEntries: config.snapshotAfterEntries,
      log: (level, message, fields) => this.#log[level](fields ?? {}, message),
      onGroupChange: () => this.#schedulePass(),
    });
    this.forwarder = new Forwarder({
      send: (peer, reply, payload) =>
        transport.send(peer, reply ? FrameType.FORWARD_REPLY : FrameType.FORWARD_REQUEST, payload),
      serve: (from, request) => this.#serve(from, request),
    });
    this.proposer = new Proposer({
      host: this.host,
      forwarder: this.forwarder,
      replicasOf: (groupId) => this.#replicasOf(groupId),
      requestTimeoutMs: () => this.#config.requestTimeoutMs,
      attemptTimeoutMs: Math.max(1000, 2 * config.electionTimeoutMs),
      now: steadyNowMs,
    });
    this.controller = new Controller({
      host: this.host,
      self: this.self,
      meta: () => this.meta,
      proposeMeta: async (command) => {
        const reply = await this.proposeMeta(command);
        if (reply.t === 'error') throw new Error(reply.v);
      },
      init: { partitions: config.partitions, replicas: config.replicas, metaVotersMax: config.metaVotersMax },
      silentForMs: (peer) => steadyNowMs() - (this.#lastHeardMs.get(peer) ?? this.#startedMs),
      downAfterMs: config.downAfterMs,
      reassignAfterMs: config.reassignAfterMs,
      now: steadyNowMs,
      setBusPeers: (members) =>
        transport.setPeers(
          members.filter((m) => m.id !== this.id).map((m) => ({ id: m.id, host: m.host, port: m.busPort })),
        ),
      log: (level, message, fields) => this.#log[level](fields ?? {}, message),
    });
  }

  static async start(o: ClusterNodeOptions): Promise<ClusterNode> {
    const { config } = o;
    const db = RaftDb.open(config.data, { fsync: config.fsync });
    let node: ClusterNode | undefined;
    const transport = new BusTransport({
      nodeId: config.id,
      clusterName: 'lockstep',
      secret: config.clusterSecret ?? '',
      listen: { host: o.bindHost, port: config.busPort },
      sockets: o.busSockets,
      log: (level, message, fields) => o.logger[level]({ component: 'bus', ...fields }, message),
      onFrame: (peer, type, payload) => node?.onBusFrame(peer, type, payload),
      onPeerUp: (peer) => {
        node?.onBusFrame(peer, 0, new Uint8Array(0));
        if (node !== undefined) node.#linkChanged(peer, true);
      },
      onPeerDown: (peer) => {
        node?.forwarder.peerDown(peer);
        node?.host.peerDown(peer);
        if (node !== undefined) node.#linkChanged(peer, false);
      },
    });
    let busPort: number;
    try {
      busPort = await transport.listen();
    } catch (e) {
      db.close();
      throw e;
    }
    node = new ClusterNode(o, busPort, transport, db);
    node.#begin();
    return node;
  }

  #begin(): void {
    this.host.start();
    if (this.host.groupIds().length === 0) {
      if (this.#config.join.length === 0) this.#bootstrap();
      else void this.#join();
    } else {
      this.#log.info({ groups: this.host.groupIds().length }, 'recovered Raft groups from disk');
    }
    this.#controllerTimer = setInterval(() => this.controller.pass(), CONTROLLER_INTERVAL_MS);
    this.#controllerTimer.unref();
  }

  /** A brand-new cluster of one: group 0 and every partition, with this node as sole voter. */
  #bootstrap(): void {
    const partitions = this.#config.partitions;
    this.db.batch(() => {
      for (let g = 0; g <= partitions; g++) this.host.createGroup(g, [this.id]);
    });
    for (let g = 0; g <= partitions; g++) this.host.campaign(g);
    this.#log.info({ partitions }, 'bootstrapped a new cluster');
  }

  /** Retries joining through the configured seeds until one accepts (`--join`). */
  async #join(): Promise<void> {
    this.#joining = true;
    for (let attempt = 0; !this.#closed; attempt++) {
      const seed = this.#config.join[attempt % this.#config.join.length]!;
      const refused = await this.#joinOnce(seed);
      if (refused === null) return;
      if (attempt % 10 === 0)
        this.#log.warn({ seed: `${seed.host}:${seed.port}`, why: refused }, 'cannot join yet; retrying');
      await new Promise((r) => setTimeout(r, JOIN_RETRY_MS));
    }
  }

  /**
   * Asks the node at `seed` (its client port; its bus is that + 10000, the default everywhere)
   * to add this node. Once the join commits, this node creates an empty group 0 replica and
   * the meta leader fills it with a snapshot. Null on success, else why not.
   */
  async #joinOnce(seed: HostPort): Promise<string | null> {
    try {
      const seedId = await this.transport.dialAddress(seed.host, seed.port + 10000, 2000);
      if (seedId === this.id) return `${seed.host}:${seed.port} is this node`;
      const reply = await this.forwarder.request(
        seedId,
        { kind: 'join', member: this.self },
        this.#config.requestTimeoutMs,
      );
      if (reply.kind === 'redirect') return 'the seed is not ready';
      if (reply.reply?.t === 'error') return reply.reply.v;
      if (this.#closed) return 'node closing';
      this.host.createGroup(0);
      this.#joining = false;
      this.#log.info({ seed: seedId }, 'joined the cluster; waiting for group 0 state');
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /**
   * CLUSTER.JOIN: a node alone in a cluster of its own gives it up and joins another. Refused
   * for a node that has company, which would split its cluster.
   */
  async joinCluster(seed: HostPort): Promise<Reply> {
    const meta = this.meta;
    if (this.#joining) return error('ERR this node is already joining a cluster');
    for (const extension of this.#extensions) {
      const held = this.host.group(0) === undefined ? 0 : extension.size();
      if (held > 0) {
        return error(
          `ERR this node holds ${held} ${extension.label}; joining another cluster would discard them`,
        );
      }
    }
    if (meta?.initialized && meta.members().length > 1) {
      return error(
        `ERR this node is a member of a cluster of ${meta.members().length} nodes; CLUSTER.LEAVE it first`,
      );
    }
    // Reach the seed before giving anything up: a wrong address, a wrong secret or a seed with
    // this node's own id must leave this node as it was.
    try {
      const seedId = await this.transport.dialAddress(seed.host, seed.port + 10000, 2000);
      if (seedId === this.id) return error(`ERR ${seed.host}:${seed.port} is this node`);
    } catch {
      return error(
        `ERR no lockstep node accepted this node on the bus at ${seed.host}:${seed.port + 10000} (not running, another cluster secret, or the same --id); nothing changed`,
      );
    }
    this.#joining = true;
    for (const groupId of this.host.groupIds()) this.host.destroyGroup(groupId);
    this.#meta = undefined;
    const deadline = steadyNowMs() + this.#config.requestTimeoutMs;
    let refused: string | null = 'timed out';
    while (steadyNowMs() < deadline && !this.#closed) {
      refused = await this.#joinOnce(seed);
      if (refused === null) return OK;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Keep trying in the background: this node has no cluster of its own any more.
    this.#config = { ...this.#config, join: [seed] };
    void this.#join();
    return error(`TRYAGAIN not joined yet (${refused}); still trying in the background`);
  }

  /** The meta state as applied here; undefined before this node has group 0. */
  get meta(): MetaState | undefined {
    if (this.host.group(0) === undefined) return undefined;
    return this.#meta?.state;
  }

  /**
   * A linearizable read barrier on group `groupId` (ReadIndex): resolves once this node has
   * applied everything committed before the call; `-NOQUORUM` when no leader confirms in time.
   */
  async readBarrier(groupId: number): Promise<Reply | null> {
    const deadline = steadyNowMs() + this.#config.requestTimeoutMs;
    let last = 'no leader known';
    while (steadyNowMs() < deadline) {
      try {
        const timeoutMs = Math.max(1, deadline - steadyNowMs());
        await withTimeout(this.host.read(groupId), timeoutMs);
        return null;
      } catch (e) {
        last = (e as Error).message;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return error(`NOQUORUM group ${groupId} could not confirm a read in time (${last})`);
  }

  get joining(): boolean {
    return this.#joining;
  }

  /** Runs a command through group `groupId`, from any node. */
  propose(groupId: number, payload: Uint8Array): Promise<Reply> {
    if (this.#joining) return Promise.resolve(error('TRYAGAIN this node is still joining the cluster'));
    return this.proposer.propose(groupId, payload);
  }

  proposeMeta(command: MetaCommand): Promise<Reply> {
    return this.proposer.propose(0, withKind(PayloadKind.meta, encodeMetaCommand(command)));
  }

  /**
   * Answers a read-only request about group `groupId` (`payload` = kind byte + body) on a node
   * that hosts a replica: here when this node does, else the leader or another replica over the
   * bus, retrying across failures until `timeoutMs` (+ the request timeout to find a replica).
   */
  async query(groupId: number, payload: Uint8Array, timeoutMs: number): Promise<Reply> {
    const deadline = steadyNowMs() + timeoutMs + this.#config.requestTimeoutMs;
    let attempt = 0;
    let last = 'no replica known';
    while (steadyNowMs() < deadline) {
      if (attempt++ > 0) await new Promise((r) => setTimeout(r, 10));
      const remainingMs = Math.max(0, Math.min(timeoutMs, deadline - steadyNowMs()));
      if (this.host.group(groupId) !== undefined) return this.#answerQuery(groupId, payload, remainingMs);
      // Any replica answers (reads go through ReadIndex there); rotate on failure.
      const replicas = this.#replicasOf(groupId).filter((id) => id !== this.id);
      const target = replicas[attempt % Math.max(1, replicas.length)];
      if (target === undefined) continue;
      try {
        const reply = await this.forwarder.request(
          target,
          { kind: 'query', group: groupId, timeoutMs: remainingMs, payload },
          remainingMs + QUERY_SLACK_MS,
        );
        if (reply.kind === 'done') return reply.reply ?? OK;
        last = `${target} hosts no replica of group ${groupId}`;
      } catch (e) {
        if (!(e instanceof ForwardFailed)) throw e;
        last = e.message;
      }
    }
    return error(`NOQUORUM no replica of group ${groupId} answered in time (${last})`);
  }

  #answerQuery(groupId: number, payload: Uint8Array, timeoutMs: number): Promise<Reply> {
    const kind = payload[0] as PayloadKind | undefined;
    const handler = kind === undefined ? undefined : this.#queryHandlers.get(kind);
    if (handler === undefined) return Promise.resolve(error(`ERR no query handler for payload kind ${kind}`));
    return handler(groupId, payload.subarray(1), timeoutMs);
  }

  noop(groupId: number): Promise<Reply> {
    return this.propose(groupId, NOOP_PAYLOAD);
  }

  /** Hands leadership of a group to `to`, on whichever node leads it. */
  async transfer(groupId: number, to: string): Promise<Reply> {
    const deadline = steadyNowMs() + this.#config.requestTimeoutMs;
    let target: string | undefined = this.id;
    while (steadyNowMs() < deadline) {
      const local = this.host.group(groupId);
      if (local?.isLeader) {
        if (!local.raw.status().confState.voters.includes(to)) {
          return error(`ERR ${to} is not a voter of group ${groupId}`);
        }
        if (to === this.id) return OK;
        return this.host.transferLeader(groupId, to) ? OK : error('TRYAGAIN leadership transfer refused');
      }
      target = local?.raw.leaderId ?? this.#replicasOf(groupId).find((id) => id !== this.id);
      if (target !== undefined && target !== null && target !== this.id) {
        try {
          const reply = await this.forwarder.request(target, { kind: 'transfer', group: groupId, to }, 2000);
          if (reply.kind === 'done') return reply.reply ?? OK;
        } catch {
          // fall through and retry
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return error(`NOQUORUM no leader for group ${groupId}`);
  }

  /**
   * Calls `listener` whenever the bus link to a peer comes up or goes down. Frames queued or in
   * flight when a link goes down are lost; a peer that restarted is seen going down and up.
   */
  onLink(listener: (peer: string, up: boolean) => void): void {
    this.#linkListeners.push(listener);
  }

  #linkChanged(peer: string, up: boolean): void {
    for (const listener of this.#linkListeners) listener(peer, up);
  }

  lastHeardMs(peer: string): number | undefined {
    return this.#lastHeardMs.get(peer);
  }

  /**
   * How long ago this node last heard its metadata group's leader *as leader* (0 when it leads
   * group 0 itself), or undefined when it knows no leader. Both clocks must agree: the Raft
   * ticks since the last append or heartbeat (a deposed leader that still sends other frames
   * does not count) and the steady time since the leader's last frame (ticks do not run while
   * the process is paused, so a node resumed after SIGSTOP must not think it heard anyone).
   * The leader marks a silent member down after down-after-ms; a member that stops trusting
   * its view well before that can never serve what the new ring has moved on from.
   */
  msSinceMetaLeaderContact(): number | undefined {
    const g0 = this.host.group(0);
    if (g0 === undefined) return undefined;
    if (g0.isLeader) return 0;
    const leader = g0.raw.leaderId;
    const heard = leader === null ? undefined : this.#lastHeardMs.get(leader);
    if (heard === undefined) return undefined;
    return Math.max(steadyNowMs() - heard, g0.raw.electionElapsed * this.#config.heartbeatMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#controllerTimer);
    this.forwarder.close();
    this.host.close();
    await this.transport.close();
    this.db.close();
  }

  /**
   * The controller reacts to metadata, role and configuration changes promptly rather than at
   * its next interval; one pass per burst, and none for the stream of other commands (locks,
   * no-ops) group 0 applies.
   */
  #schedulePass(): void {
    if (this.#passScheduled) return;
    this.#passScheduled = true;
    queueMicrotask(() => {
      this.#passScheduled = false;
      if (!this.#closed) this.controller.pass();
    });
  }

  #heard(peer: string): void {
    this.#lastHeardMs.set(peer, steadyNowMs());
  }

  /** The transport's callback: a frame from an authenticated peer (type 0: it just connected). */
  onBusFrame(peer: string, type: number, payload: Uint8Array): void {
    this.#heard(peer);
    try {
      if (type === FrameType.RAFT) this.host.receive(peer, payload);
      else if (type === FrameType.FORWARD_REQUEST) this.forwarder.onRequest(peer, payload);
      else if (type === FrameType.FORWARD_REPLY) this.forwarder.onReply(peer, payload);
      else this.#frameHandlers.get(type)?.(peer, payload);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.#log.warn({ peer, err: e.message }, 'dropped a malformed bus frame');
    }
  }

  async #serve(from: string, request: ForwardRequest): Promise<ForwardReply> {
    const id = request.id;
    switch (request.kind) {
      case 'propose': {
        const replica = this.host.group(request.group);
        if (replica === undefined || !replica.isLeader) {
          return { kind: 'redirect', id, leaderId: replica?.raw.leaderId ?? '' };
        }
        const envelope = encodeEnvelope({
          timeMs: steadyNowMs(),
          session: request.session,
          seq: request.seq,
          ackedBelow: request.ackedBelow,
          payload: request.payload,
        });
        try {
          return { kind: 'done', id, reply: await this.host.propose(request.group, envelope) };
        } catch (e) {
          if (!(e instanceof RaftUnavailable)) throw e;
          const appended = APPENDED_BUT_UNKNOWN.has(e.reason);
          return { kind: 'redirect', id, leaderId: e.leaderId ?? '', ...(appended ? { appended } : {}) };
        }
      }
      case 'join': {
        if (request.member.id !== from) {
          return { kind: 'done', id, reply: error(`ERR node ${from} cannot join as ${request.member.id}`) };
        }
        const known = this.meta?.member(request.member.id);
        const m = request.member;
        if (
          known !== undefined &&
          known.state === 'up' &&
          (known.host !== m.host || known.port !== m.port || known.busPort !== m.busPort)
        ) {
          return {
            kind: 'done',
            id,
            reply: error(
              `ERR node id '${m.id}' is already a member at ${known.host}:${known.port}; give this node another --id (or wait until the old one is marked down)`,
            ),
          };
        }
        this.#log.info({ member: request.member }, 'join request');
        return { kind: 'done', id, reply: await this.proposeMeta({ op: 'join', member: request.member }) };
      }
      case 'transfer':
        return { kind: 'done', id, reply: await this.transfer(request.group, request.to) };
      case 'query': {
        if (this.host.group(request.group) === undefined) {
          return { kind: 'redirect', id, leaderId: '' };
        }
        return {
          kind: 'done',
          id,
          reply: await this.#answerQuery(request.group, request.payload, request.timeoutMs),
        };
      }
    }
  }

  #replicasOf(groupId: number): string[] {
    const meta = this.meta;
    if (meta === undefined || !meta.initialized) return [];
    const observed = meta.observed(groupId);
    const desired = meta.desired(groupId);
    return [...new Set([...(observed?.voters ?? []), ...desired.voters])];
  }
}

/** Rejects after `ms`; the read it wraps is dropped by the core when leadership changes. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function announceHost(config: Config, bindHost: string): string {
  if (config.announceHost !== null && config.announceHost !== '') return config.announceHost;
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  return hostname();
}
